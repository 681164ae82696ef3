"""What kck's Redis holds about a person: keys and stream events naming their number, name or
e-mail or one of their calls (live call state, the event streams the history is written from,
callback requests). Found by a scan of the installation's keys; removed entry by entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis


class StillBeingWritten(RuntimeError):
    """A stream event about the person is not yet read by every consumer group (the history
    writer is behind): erasing it now would lose history; the message says which."""


@dataclass
class Mention:
    """One key that names the person: the whole key (`items` empty) or some of its entries
    (stream ids, hash fields, members)."""

    key: str
    kind: str
    items: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)  # what is stored, for an export


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _names(text: str, needles: list[str]) -> bool:
    return any(needle in text for needle in needles)


async def find_mentions(redis: aioredis.Redis, prefix: str, needles: list[str]) -> list[Mention]:
    """Every key under `prefix:` whose name or content holds one of `needles`."""
    found: list[Mention] = []
    if not needles:
        return found
    async for raw_key in redis.scan_iter(match=f"{prefix}:*", count=1000):
        key = _text(raw_key)
        kind = _text(await redis.type(key))
        mention = await _mention(redis, key, kind, needles)
        if mention is not None:
            found.append(mention)
    return found


async def _mention(
    redis: aioredis.Redis, key: str, kind: str, needles: list[str]
) -> Mention | None:
    if _names(key, needles):
        return Mention(key, kind, values={"key": key})
    if kind == "string":
        value = _text(await redis.get(key) or b"")
        return Mention(key, kind, values={"value": value}) if _names(value, needles) else None
    if kind == "hash":
        pairs = {_text(k): _text(v) for k, v in (await redis.hgetall(key)).items()}
        hit = {k: v for k, v in pairs.items() if _names(k, needles) or _names(v, needles)}
        return Mention(key, kind, list(hit), hit) if hit else None
    if kind in ("list", "set", "zset"):
        members: list[Any] = list(
            await redis.lrange(key, 0, -1)
            if kind == "list"
            else await redis.smembers(key)
            if kind == "set"
            else await redis.zrange(key, 0, -1)
        )
        hits = sorted({_text(m) for m in members if _names(_text(m), needles)})
        return Mention(key, kind, hits, {"members": hits}) if hits else None
    if kind == "stream":
        return await _stream_mention(redis, key, needles)
    return None


async def _stream_mention(redis: aioredis.Redis, key: str, needles: list[str]) -> Mention | None:
    hits: dict[str, Any] = {}
    last = "-"
    while True:
        batch: list[Any] = list(await redis.xrange(key, min=last, max="+", count=1000) or [])
        if last != "-":
            batch = batch[1:]  # the first is the last of the batch before
        if not batch:
            break
        for entry_id, fields in batch:
            data = {_text(k): _text(v) for k, v in fields.items()}
            if any(_names(v, needles) for v in data.values()):
                hits[_text(entry_id)] = data
        last = _text(batch[-1][0])
    return Mention(key, "stream", list(hits), hits) if hits else None


def _stream_id(text: str) -> tuple[int, int]:
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


async def check_all_read(redis: aioredis.Redis, mentions: list[Mention]) -> None:
    """StillBeingWritten if an event to be removed is still unread or unacknowledged by a
    consumer group of its stream (the call-history writer behind, e.g. the database away)."""
    for mention in mentions:
        if mention.kind != "stream" or not mention.items:
            continue
        for group in await redis.xinfo_groups(mention.key):
            name = _text(group["name"])
            delivered = _stream_id(_text(group["last-delivered-id"]))
            for entry in mention.items:
                unread = _stream_id(entry) > delivered
                pending = await redis.xpending_range(mention.key, name, entry, entry, 1)
                if unread or pending:
                    raise StillBeingWritten(
                        f"event {entry} of {mention.key} is not yet handled by consumer group "
                        f"{name!r}; try again once the history writer has caught up (/metrics: "
                        "kck_call_history_backlog)"
                    )


async def remove_mentions(redis: aioredis.Redis, mentions: list[Mention]) -> int:
    """Remove what `mentions` found: whole keys, or their entries. Returns the entries removed."""
    removed = 0
    for m in mentions:
        if not m.items:
            removed += await redis.delete(m.key)
        elif m.kind == "stream":
            removed += await redis.xdel(m.key, *m.items)
        elif m.kind == "hash":
            removed += await redis.hdel(m.key, *m.items)
        elif m.kind == "list":
            for member in m.items:
                removed += await redis.lrem(m.key, 0, member)
        elif m.kind == "set":
            removed += await redis.srem(m.key, *m.items)
        elif m.kind == "zset":
            removed += await redis.zrem(m.key, *m.items)
    return removed


async def trim_streams_before(redis: aioredis.Redis, prefix: str, before_ms: int) -> int:
    """Drop the events older than `before_ms` from every stream under `prefix:`, never one a
    consumer group has not handled yet. Returns the events dropped."""
    dropped = 0
    async for raw_key in redis.scan_iter(match=f"{prefix}:*", count=1000, _type="stream"):
        key = _text(raw_key)
        bound = (before_ms, 0)
        for group in await redis.xinfo_groups(key):
            delivered = _stream_id(_text(group["last-delivered-id"]))
            bound = min(bound, (delivered[0], delivered[1] + 1))
            pending = await redis.xpending(key, _text(group["name"]))
            if pending["pending"]:
                bound = min(bound, _stream_id(_text(pending["min"])))
        dropped += await redis.xtrim(key, minid=f"{bound[0]}-{bound[1]}", approximate=False)
    return dropped


def _setting(reply: dict[Any, Any]) -> str:
    """The value of a CONFIG GET of one parameter ('' when Redis has no such parameter)."""
    value = next(iter(reply.values()), None)
    return "" if value is None else _text(value)


async def rewrite_redis_files(redis: aioredis.Redis) -> list[str]:
    """After an erasure: Redis' append-only file still holds the commands that wrote what was
    removed, until it is rewritten; have it rewritten (and a snapshot taken, where snapshots are
    configured). Returns what was started; a rewrite already running is left to finish."""
    started = []
    if _setting(await redis.config_get("appendonly")) == "yes":
        try:
            await redis.bgrewriteaof()
            started.append("append-only file rewrite")
        except aioredis.ResponseError:
            pass  # one is running already: it writes today's data, without what was removed
    if _setting(await redis.config_get("save")).strip():
        try:
            await redis.bgsave()
            started.append("snapshot")
        except aioredis.ResponseError:
            pass
    return started
