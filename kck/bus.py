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


@dataclass(frozen=True)
class BusEvent:
    """One event read from a stream: its stream id, type and JSON payload."""

    stream: str
    id: str
    type: str
    data: dict[str, Any]


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
        return event_id.decode() if isinstance(event_id, bytes) else str(event_id)

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
        await self.ensure_group(stream, group, start)
        key = self.key(stream)
        await self._drain_own_pending(key, group, consumer, handler)
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
                await self._claim_stale(key, group, consumer, handler, claim_idle_ms)
            reply: Any = await self.redis.xreadgroup(
                group, consumer, {key: ">"}, count=count, block=block_ms
            )
            for _stream, entries in reply or []:
                for raw_id, fields in entries:
                    await self._deliver(key, group, raw_id, fields, handler)

    async def _drain_own_pending(
        self, key: str, group: str, consumer: str, handler: Handler
    ) -> None:
        reply: Any = await self.redis.xreadgroup(group, consumer, {key: "0"}, count=1000)
        for _stream, entries in reply or []:
            for raw_id, fields in entries:
                await self._deliver(key, group, raw_id, fields, handler)

    async def _claim_stale(
        self, key: str, group: str, consumer: str, handler: Handler, idle_ms: int
    ) -> None:
        result = await self.redis.xautoclaim(
            key, group, consumer, min_idle_time=idle_ms, start_id="0-0", count=100
        )
        for raw_id, fields in result[1]:
            if fields:
                await self._deliver(key, group, raw_id, fields, handler)

    async def _deliver(
        self, key: str, group: str, raw_id: Any, fields: Mapping[Any, Any], handler: Handler
    ) -> None:
        event = _decode(key, raw_id, fields)
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
        await self.redis.xack(key, group, raw_id)

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


def _decode(key: str, raw_id: Any, fields: Mapping[Any, Any]) -> BusEvent:
    def text(value: Any) -> str:
        return value.decode() if isinstance(value, bytes) else str(value)

    plain = {text(k): text(v) for k, v in fields.items()}
    try:
        data = json.loads(plain.get("data", "{}"))
    except ValueError:
        data = {"_malformed": plain.get("data")}
    return BusEvent(
        stream=key,
        id=text(raw_id),
        type=plain.get("type", "?"),
        data=data if isinstance(data, dict) else {"value": data},
    )
