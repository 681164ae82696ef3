"""The router's script calls from many callers, many to a Redis round trip.

Each router operation is one EVALSHA. Alone, a call goes at once on a pooled connection, as it
always did. While one is out, the calls made meanwhile (a burst: 200 calls offered at once after
an outage) wait for it and then go together as one pipeline (no transaction: Redis runs a
pipeline's scripts one after the other in the order sent, each atomic as before), answered to
each caller. The burst then costs a few round trips on one connection instead of a round trip
and a new pooled connection per caller (bench/README.md, issue 20 point 4).

A call cancelled before its batch is sent is not sent. A script Redis does not have (a restarted
Redis) is loaded and the calls it refused are sent again, in their order: Redis ran none of them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

# the most script calls in one pipeline: bounds the reply a slow Redis must build and we parse
MAX_BATCH = 100


@dataclass(frozen=True)
class _Call:
    args: list[Any]
    answer: asyncio.Future[Any]


class ScriptBatches:
    """`await run(args)`: the script's reply for `args` (ARGV; the script takes no KEYS), or the
    exception Redis answered with."""

    def __init__(self, redis: aioredis.Redis, source: str) -> None:
        self.redis = redis
        self.source = source
        self._script = redis.register_script(source)
        self._waiting: list[_Call] = []
        self._out = False  # a call or a batch is being answered
        self._sender: asyncio.Task[None] | None = None
        self.round_trips = 0

    @property
    def sha(self) -> str:
        return str(self._script.sha)

    async def run(self, args: list[Any]) -> Any:
        if self._out:
            answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._waiting.append(_Call(args, answer))
            return await answer
        self._out = True
        try:
            self.round_trips += 1
            return await self._script(keys=[], args=args)
        finally:
            self._out = False
            self._send_waiting()

    def _send_waiting(self) -> None:
        if self._waiting and self._sender is None:
            self._out = True
            self._sender = asyncio.create_task(self._send_all(), name="router-script-batches")

    async def _send_all(self) -> None:
        batch: list[_Call] = []
        try:
            while self._waiting:
                batch = [c for c in self._waiting[:MAX_BATCH] if not c.answer.done()]
                del self._waiting[:MAX_BATCH]
                if batch:
                    await self._send(batch)
        finally:
            self._sender = None
            self._out = False
            # only if we were cancelled (the loop is closing): nobody waits for ever
            for left in batch + self._waiting:
                if not left.answer.done():
                    left.answer.set_exception(ConnectionError("the router's sender stopped"))
            self._waiting.clear()

    async def _send(self, batch: list[_Call]) -> None:
        todo = batch
        for attempt in range(2):
            try:
                results = await self._pipeline(todo)
            except Exception as exc:  # the whole batch failed (Redis away): each caller is told
                results = [exc] * len(todo)
            refused = []
            for call, result in zip(todo, results, strict=True):
                if isinstance(result, NoScriptError) and attempt == 0:
                    refused.append(call)
                elif call.answer.done():
                    continue  # its caller gave up meanwhile
                elif isinstance(result, BaseException):
                    call.answer.set_exception(result)
                else:
                    call.answer.set_result(result)
            if not refused:
                return
            await self.redis.script_load(self.source)
            todo = refused

    async def _pipeline(self, calls: list[_Call]) -> list[Any]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for call in calls:
                pipe.evalsha(self.sha, 0, *call.args)
            self.round_trips += 1
            return list(await pipe.execute(raise_on_error=False))
