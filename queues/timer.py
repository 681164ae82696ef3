"""One timer per process for the router's next due moment (escalation step or end of wrap-up)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from kck.stopping import TASK_STOP_S, stop_task
from queues.router import Router

log = logging.getLogger(__name__)


class RouterTimer:
    """Sleeps until the earliest due timer in Redis, then runs `Router.tick`.

    Woken early when this process schedules an earlier timer; `safety_s` bounds the sleep so
    timers scheduled by a peer process that has since died are still served.
    """

    def __init__(self, router: Router, *, safety_s: float = 5.0) -> None:
        self.router = router
        self.safety_s = safety_s
        self._due: int | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.ticks = 0
        router.on_next_due = self._note_due

    def _note_due(self, due_ms: int | None) -> None:
        if due_ms is not None and (self._due is None or due_ms < self._due):
            self._wake.set()
        self._due = due_ms

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="router-timer")

    async def stop(self) -> None:
        if self._task is not None:
            await stop_task(self._task, within=TASK_STOP_S, what="router timer")
            self._task = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def _sleep_s(self) -> float:
        if self._due is None:
            return self.safety_s
        now_ms = self.router.clock.now().timestamp() * 1000
        return max(0.0, min(self.safety_s, (self._due - now_ms) / 1000))

    async def _run(self) -> None:
        self._due = await self.router.next_due_ms()
        task = asyncio.current_task()
        while True:
            # Python 3.11's wait_for and redis-py can each swallow a cancel that lands at the
            # wrong moment; a stop that was asked for must still end the loop.
            if task is not None and task.cancelling():
                raise asyncio.CancelledError
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._sleep_s()):
                    await self._wake.wait()
            now_ms = self.router.clock.now().timestamp() * 1000
            if self._due is not None and self._due > now_ms and self._wake.is_set():
                continue  # woken for an earlier due time that is not yet reached
            try:
                await self.router.tick()
                self.ticks += 1
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("router timer tick failed; retrying")
                await asyncio.sleep(1)
