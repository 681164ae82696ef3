"""The event bus on Redis: Streams for events that must not be lost, pub/sub for live views."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

log = logging.getLogger(__name__)

Handler = Callable[["BusEvent"], Awaitable[None]]
BatchHandler = Callable[[list["BusEvent"]], Awaitable[None]]


@dataclass(frozen=True)
class BusEvent:
    """One event read from a stream: its stream id, type and JSON payload."""

    stream: str
    id: str
    type: str
    data: dict[str, Any]

    @classmethod
    def from_stream(cls, key: str, raw_id: Any, fields: Mapping[Any, Any]) -> BusEvent:
        """Decode an entry as XREAD/XRANGE return it (bytes or text; bad JSON is kept aside)."""
        return _decode(key, raw_id, fields)


@dataclass(frozen=True)
class GroupBacklog:
    """How far a consumer group is behind its stream.

    `pending`: read but not acknowledged; `unread`: whether newer events wait to be read;
    `behind_s`: stream time between the oldest event not yet handled and the newest published
    (stream ids are Redis's milliseconds), 0 when the group is up to date.
    """

    pending: int
    unread: bool
    behind_s: float


def _id_ms(raw: Any) -> int:
    """The milliseconds part of a stream id."""
    return int(_text(raw).split("-", 1)[0])


class EventBus:
    """Publish/consume typed JSON events; stream and channel names are prefixed per installation."""

    def __init__(self, redis: aioredis.Redis, prefix: str = "kck", maxlen: int = 100_000) -> None:
        self.redis = redis
        self.prefix = prefix
        self.maxlen = maxlen

    def key(self, name: str) -> str:
        return f"{self.prefix}:stream:{name}"

    def channel(self, name: str) -> str:
        return f"{self.prefix}:live:{name}"

    async def publish(self, stream: str, event_type: str, data: Mapping[str, Any]) -> str:
        """Append an event to a stream (kept until trimmed past `maxlen`); returns its id."""
        fields: dict[Any, Any] = {
            "type": event_type,
            "data": json.dumps(data, ensure_ascii=False, default=str),
        }
        event_id = await self.redis.xadd(
            self.key(stream), fields, maxlen=self.maxlen, approximate=True
        )
        return _text(event_id)

    async def backlog(self, stream: str, group: str) -> GroupBacklog | None:
        """The group's backlog (None when the stream or the group does not exist yet)."""
        key = self.key(stream)
        try:
            groups: Any = await self.redis.xinfo_groups(key)
            info: Any = await self.redis.xinfo_stream(key)
        except ResponseError:
            return None
        mine = next((g for g in groups if _text(g.get("name")) == group), None)
        if mine is None:
            return None
        newest = _id_ms(info["last-generated-id"])
        delivered = _text(mine["last-delivered-id"])
        unread = delivered != _text(info["last-generated-id"])
        pending = int(mine.get("pending") or 0)
        oldest = newest
        if unread:
            first: Any = await self.redis.xrange(key, min=f"({delivered}", count=1)
            if first:
                oldest = min(oldest, _id_ms(first[0][0]))
        if pending:
            summary: Any = await self.redis.xpending(key, group)
            if summary.get("min"):
                oldest = min(oldest, _id_ms(summary["min"]))
        return GroupBacklog(pending, unread, max(0, newest - oldest) / 1000)

    async def ensure_group(self, stream: str, group: str, start: str = "$") -> None:
        try:
            await self.redis.xgroup_create(self.key(stream), group, id=start, mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def consume(
        self,
        stream: str,
        group: str,
        consumer: str,
        handler: Handler,
        *,
        block_ms: int = 1000,
        count: int = 100,
        claim_idle_ms: int = 30_000,
        start: str = "$",
    ) -> None:
        """Run forever: deliver each event to `handler`, acknowledge it once handled.

        Events a crashed consumer of the same group left unacknowledged are claimed after
        `claim_idle_ms`; an event whose handler raises stays pending and is retried.
        """

        async def deliver(key: str, entries: list[Any]) -> None:
            for raw_id, fields in entries:
                await self._deliver(key, group, raw_id, fields, handler)

        await self._read_group(
            stream, group, consumer, deliver, block_ms, count, claim_idle_ms, start
        )

    async def consume_batches(
        self,
        stream: str,
        group: str,
        consumer: str,
        handler: BatchHandler,
        *,
        block_ms: int = 1000,
        count: int = 200,
        claim_idle_ms: int = 30_000,
        start: str = "$",
        linger_ms: int = 0,
    ) -> None:
        """Like `consume`, but `handler` gets up to `count` events at once, in stream order.

        `linger_ms`: after a batch smaller than `count`, wait this long before reading again so
        the next batch gathers more events (fewer, larger transactions; events wait that long).

        The batch is acknowledged once the handler returns (one SQL transaction per batch for a
        recorder). If it raises, the events are handed over one at a time so one bad event does
        not hold back the others: the ones that fail stay pending and are retried.
        """

        async def deliver(key: str, entries: list[Any]) -> None:
            events = [_decode(key, raw_id, fields) for raw_id, fields in entries]
            try:
                await handler(events)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning(
                    "batch handler failed; retrying its %d events one by one",
                    len(events),
                    exc_info=True,
                    extra={"stream": key},
                )
                for event in events:
                    await self._deliver_event(key, group, event, lambda e: handler([e]))
                return
            await self.redis.xack(key, group, *(event.id for event in events))
            if linger_ms and len(events) < count:
                await asyncio.sleep(linger_ms / 1000)

        await self._read_group(
            stream, group, consumer, deliver, block_ms, count, claim_idle_ms, start
        )

    async def _read_group(
        self,
        stream: str,
        group: str,
        consumer: str,
        deliver: Callable[[str, list[Any]], Awaitable[None]],
        block_ms: int,
        count: int,
        claim_idle_ms: int,
        start: str,
    ) -> None:
        """The consumer-group loop: own pending entries first, then claimed and new ones."""
        await self.ensure_group(stream, group, start)
        key = self.key(stream)
        reply: Any = await self.redis.xreadgroup(group, consumer, {key: "0"}, count=10_000)
        for _stream, entries in reply or []:
            own_pending = [entry for entry in entries if entry[1]]  # trimmed ones have no fields
            if own_pending:
                await deliver(key, own_pending)
        last_claim = 0.0
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        while True:
            # redis-py can swallow a cancellation that lands while a blocking read times out
            # (it returns None then); a cancel that was asked for must still end the loop.
            if task is not None and task.cancelling():
                raise asyncio.CancelledError
            if loop.time() - last_claim > claim_idle_ms / 1000:
                last_claim = loop.time()
                claimed: Any = await self.redis.xautoclaim(
                    key, group, consumer, min_idle_time=claim_idle_ms, start_id="0-0", count=count
                )
                stale = [entry for entry in claimed[1] if entry[1]]
                if stale:
                    await deliver(key, stale)
            reply = await self.redis.xreadgroup(
                group, consumer, {key: ">"}, count=count, block=block_ms
            )
            for _stream, entries in reply or []:
                if entries:
                    await deliver(key, entries)

    async def _deliver(
        self, key: str, group: str, raw_id: Any, fields: Mapping[Any, Any], handler: Handler
    ) -> None:
        await self._deliver_event(key, group, _decode(key, raw_id, fields), handler)

    async def _deliver_event(self, key: str, group: str, event: BusEvent, handler: Handler) -> None:
        try:
            await handler(event)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(
                "event handler failed; event stays pending",
                extra={"stream": key, "event_id": event.id},
            )
            return
        await self.redis.xack(key, group, event.id)

    async def broadcast(self, channel: str, event_type: str, data: Mapping[str, Any]) -> int:
        """Fire-and-forget for live views (wall board): receivers that are not listening miss it."""
        payload = json.dumps({"type": event_type, "data": data}, ensure_ascii=False, default=str)
        return int(await self.redis.publish(self.channel(channel), payload))

    async def listen(self, *channels: str) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Yield (type, data) of live messages on `channels` until cancelled."""
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(*(self.channel(c) for c in channels))
        try:
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                try:
                    body = json.loads(message["data"])
                    yield str(body["type"]), dict(body["data"])
                except (ValueError, KeyError, TypeError):
                    log.warning(
                        "malformed live message ignored",
                        extra={"channel": str(message.get("channel"))},
                    )
        finally:
            await pubsub.aclose()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _decode(key: str, raw_id: Any, fields: Mapping[Any, Any]) -> BusEvent:
    plain = {_text(k): _text(v) for k, v in fields.items()}
    try:
        data = json.loads(plain.get("data", "{}"))
    except ValueError:
        data = {"_malformed": plain.get("data")}
    return BusEvent(
        stream=key,
        id=_text(raw_id),
        type=plain.get("type", "?"),
        data=data if isinstance(data, dict) else {"value": data},
    )
