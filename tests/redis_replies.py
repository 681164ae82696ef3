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
