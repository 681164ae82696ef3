"""Events for one stream from many callers, sent in order, many to a Redis round trip.

Each call used to send its call-history changes itself, one XADD (one round trip, one task)
each. Here every caller's event joins one queue; a single sender takes whatever has gathered
while the previous round trip was out and sends it as one pipeline (no transaction: Redis runs a
pipeline's commands in the order sent), so the stream keeps the order in which events were
handed in, across calls and within each. Under load the batches grow by themselves; alone, an
event still goes at once. A failed event is reported to the caller's `on_failure` and never
stops the events after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

# the most XADDs in one pipeline: bounds the reply a slow Redis must build and we must parse
MAX_BATCH = 200

FailureReport = Callable[[BaseException], None]


@dataclass(frozen=True)
class _Pending:
    event_type: str
    data: Mapping[str, Any]
    sent: asyncio.Future[None]
    on_failure: FailureReport


class StreamBatches:
    """`publish()` queues an event for `key` and returns a future done once it was sent (or
    failed and was reported); the sender task exists only while events wait."""

    def __init__(self, redis: aioredis.Redis, key: str, *, maxlen: int = 100_000) -> None:
        self.redis = redis
        self.key = key
        self.maxlen = maxlen
        self._waiting: list[_Pending] = []
        self._sender: asyncio.Task[None] | None = None
        self.round_trips = 0

    def publish(
        self, event_type: str, data: Mapping[str, Any], on_failure: FailureReport
    ) -> asyncio.Future[None]:
        sent: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Pending(event_type, data, sent, on_failure))
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_all(), name=f"stream-batches:{self.key}")
        return sent

    async def _send_all(self) -> None:
        batch: list[_Pending] = []
        try:
            while self._waiting:
                batch = self._waiting[:MAX_BATCH]
                del self._waiting[:MAX_BATCH]
                await self._send(batch)
        finally:
            self._sender = None
            # only if we were cancelled (the loop is closing): nobody waits for ever
            for left in batch + self._waiting:
                if not left.sent.done():
                    left.sent.set_result(None)
            self._waiting.clear()

    async def _send(self, batch: list[_Pending]) -> None:
        results: list[Any]
        try:
            self.round_trips += 1
            if len(batch) == 1:  # alone: a plain XADD (a pipeline of one costs a third more CPU)
                alone = _fields(batch[0])
                results = [
                    await self.redis.xadd(self.key, alone, maxlen=self.maxlen, approximate=True)
                ]
            else:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for event in batch:
                        pipe.xadd(self.key, _fields(event), maxlen=self.maxlen, approximate=True)
                    results = await pipe.execute(raise_on_error=False)
        except Exception as exc:  # the whole batch failed (Redis away): each caller is told
            results = [exc] * len(batch)
        for event, result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                with contextlib.suppress(Exception):  # a report must not stop the sender
                    event.on_failure(result)
            if not event.sent.done():
                event.sent.set_result(None)


def _fields(event: _Pending) -> dict[Any, Any]:
    return {
        "type": event.event_type,
        "data": json.dumps(event.data, ensure_ascii=False, default=str),
    }
