"""Stopping asyncio tasks within a bound, even tasks that swallow a cancel.

redis-py and Python 3.11's `wait_for` and `timeout` can each turn a cancel that lands at the wrong
moment into a normal return or a TimeoutError, so one `task.cancel()` does not always end a loop,
and `await task` after it can wait forever. Stopping code uses `stop_task` instead; loops that
may have swallowed their cancel check `raise_if_cancel_requested` at the top.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

# A task that is still running this long after a cancel is cancelled again.
RECANCEL_S = 0.5
# How long a component's stop gives one of its background tasks to end.
TASK_STOP_S = 2.0


async def stop_task(task: asyncio.Task[Any], *, within: float, what: str) -> bool:
    """Cancel `task` (again every RECANCEL_S) until it ends; True if it ended within `within`
    seconds. A task still running then is logged, naming `what`, and left behind: the stop that
    called us must not hang on it. A cancel of our own caller is not swallowed here."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not task.done():
        remaining = deadline - loop.time()
        if remaining <= 0:
            log.error("%s did not stop within %s s of being cancelled; left behind", what, within)
            return False
        task.cancel()
        await asyncio.wait({task}, timeout=min(RECANCEL_S, remaining))
    if not task.cancelled() and (error := task.exception()) is not None:
        log.warning("%s ended with %r while stopping", what, error)
    return True


async def stop_tasks(tasks: Iterable[asyncio.Task[Any]], *, within: float, what: str) -> bool:
    """`stop_task` on each of `tasks` at once (each named `what` and the task's name); True if
    every one ended within `within` seconds."""
    stops = (stop_task(t, within=within, what=f"{what} ({t.get_name()})") for t in tasks)
    return all(await asyncio.gather(*stops))


def raise_if_cancel_requested() -> None:
    """Raise CancelledError if the current task was cancelled but the cancel was swallowed."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
