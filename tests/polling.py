"""Waiting in tests for a state that is visible only as values (counters, flags), not as events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Poll `condition` every 10 ms; fail the test (TimeoutError) if it is not met in `seconds`."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
