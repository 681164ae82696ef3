"""Redis replies read by tests, typed.

redis-py annotates replies for both kinds of client, with and without `decode_responses`: keys
and values are `bytes | str`, a stream entry's id and fields may be None. These helpers give a
test the types it means: text, and a stream's entries decoded as the bus decodes what it reads.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from kck.bus import BusEvent


def text(value: bytes | str) -> str:
    """A key or value as text, whether the client decodes responses or not."""
    return value.decode() if isinstance(value, bytes) else value


async def stream_events(redis: aioredis.Redis, key: str) -> list[BusEvent]:
    """Every entry of the stream `key` (its full name), oldest first, as `BusEvent`s."""
    entries = await redis.xrange(key)
    return [BusEvent.from_stream(key, raw_id, fields or {}) for raw_id, fields in entries or []]


async def scored_members(redis: aioredis.Redis, key: str) -> dict[str, float]:
    """Every member of the sorted set `key` with its score (ZRANGE 0 -1 WITHSCORES)."""
    members: dict[str, float] = {}
    for pair in await redis.zrange(key, 0, -1, withscores=True):
        if isinstance(pair, bytes | str):  # redis-py's reply type also covers a scoreless ZRANGE
            raise TypeError(f"ZRANGE {key} WITHSCORES replied a member without its score: {pair!r}")
        member, score = pair
        members[text(member)] = float(score)
    return members
