"""One kind of Redis command from many callers, many to a round trip.

Alone, a command goes at once on a pooled connection (`direct`). While one is out, the commands
made meanwhile (a burst: 200 calls offered at once after an outage) wait for it and then go
together as one pipeline (no transaction: Redis runs a pipeline's commands in the order sent),
each caller answered with its own reply or error. A burst then costs a few round trips on one
connection instead of a round trip and a new pooled connection per caller (bench/README.md,
issue 20 point 4). A command whose caller gave up before its batch was sent is not sent.

`refused(reply)` names replies after which `before_retry()` runs and those commands are sent once
more, in order (a script Redis lost: `queues.script_batches`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

T = TypeVar("T")

# the most commands in one pipeline: bounds the reply a slow Redis must build and we parse
MAX_BATCH = 100


@dataclass(frozen=True)
class _Command(Generic[T]):
    item: T
    answer: asyncio.Future[Any]


def _never(_reply: Any) -> bool:
    return False


async def _nothing() -> None:
    return None


class SharedRoundTrips(Generic[T]):
    """`await run(item)`: the reply to the command `item` stands for, or the error Redis gave."""

    def __init__(
        self,
        redis: aioredis.Redis,
        direct: Callable[[T], Awaitable[Any]],
        add: Callable[[Pipeline, T], None],
        *,
        name: str,
        refused: Callable[[Any], bool] = _never,
        before_retry: Callable[[], Awaitable[None]] = _nothing,
    ) -> None:
        self.redis = redis
        self.name = name
        self._direct = direct
        self._add = add
        self._refused = refused
        self._before_retry = before_retry
        self._waiting: list[_Command[T]] = []
        self._out = False  # a command or a batch is being answered
        self._sender: asyncio.Task[None] | None = None
        self.round_trips = 0

    async def run(self, item: T) -> Any:
        if self._out:
            answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._waiting.append(_Command(item, answer))
            return await answer
        self._out = True
        try:
            self.round_trips += 1
            return await self._direct(item)
        finally:
            self._out = False
            self._send_waiting()

    def _send_waiting(self) -> None:
        if self._waiting and self._sender is None:
            self._out = True
            self._sender = asyncio.create_task(self._send_all(), name=self.name)

    async def _send_all(self) -> None:
        batch: list[_Command[T]] = []
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
                    left.answer.set_exception(ConnectionError(f"{self.name} stopped"))
            self._waiting.clear()

    async def _send(self, batch: list[_Command[T]]) -> None:
        todo = batch
        for attempt in range(2):
            try:
                results = await self._pipeline(todo)
            except Exception as exc:  # the whole batch failed (Redis away): each caller is told
                results = [exc] * len(todo)
            again = []
            for command, result in zip(todo, results, strict=True):
                if attempt == 0 and self._refused(result):
                    again.append(command)
                elif command.answer.done():
                    continue  # its caller gave up meanwhile
                elif isinstance(result, BaseException):
                    command.answer.set_exception(result)
                else:
                    command.answer.set_result(result)
            if not again:
                return
            try:
                await self._before_retry()
            except Exception as exc:  # e.g. the script could not be loaded: those callers are told
                for command in again:
                    if not command.answer.done():
                        command.answer.set_exception(exc)
                return
            todo = again

    async def _pipeline(self, commands: list[_Command[T]]) -> list[Any]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for command in commands:
                self._add(pipe, command.item)
            self.round_trips += 1
            return list(await pipe.execute(raise_on_error=False))
