"""Measures event-loop lag with a ticker task and collects errors the loop would only log."""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Any

TICK = 0.005
# Generous correctness bound ("the loop is not frozen"), not a speed figure: a spinning handler
# like panoramisk's would freeze the loop for the whole test.
MAX_LAG = 1.0


class LoopProbe:
    def __init__(self) -> None:
        self.max_lag = 0.0
        self.ticks = 0
        self.loop_errors: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(TICK)
            self.max_lag = max(self.max_lag, loop.time() - before - TICK)
            self.ticks += 1

    async def __aenter__(self) -> LoopProbe:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, context: self.loop_errors.append(context))
        self._task = loop.create_task(self._tick())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        asyncio.get_running_loop().set_exception_handler(None)
