"""Waiting in tests for a state that is visible only as values (counters, flags), not as events."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Poll `condition` every 10 ms; fail the test (TimeoutError) if it is not met in `seconds`."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def until_true(check: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> None:
    """`until` for a state read with I/O (Redis, SQL, HTTP): poll `check` every 50 ms."""
    async with asyncio.timeout(seconds):
        while not await check():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
