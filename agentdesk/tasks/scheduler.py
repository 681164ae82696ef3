"""Callback tasks to the router: when a task's window opens it joins its queue as a callback
request, exactly as the IVR's callback step does (`Router.enqueue(..., callback_number=)`), and
`queues.callbacks.CallbackDialer` rings an agent and then the resident."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from agentdesk.tasks.store import TaskStore, TaskView, callback_call_id
from kck.clock import Clock
from kck.stopping import TASK_STOP_S, stop_task
from queues.model import RoutingRequest
from queues.router import Router

log = logging.getLogger(__name__)

# a process that missed a wake-up (another process scheduled a task) looks again this often
RESCAN_S = 30.0


class CallbackScheduler:
    """A part of the controller (start/stop/health); `wake()` after a task is made."""

    name = "callback-tasks"

    def __init__(self, store: TaskStore, router: Router, clock: Clock) -> None:
        self.store = store
        self.router = router
        self.clock = clock
        self.queued = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def request(self, task: TaskView) -> RoutingRequest:
        """The callback's routing request: the call's queue and primary skill (a queue or skill
        no longer configured: the first queue, any agent)."""
        config = self.router.config
        queue = task.queue if task.queue in config.queues else next(iter(config.queues))
        skills = {task.skill: 1} if task.skill in config.skills and queue == task.queue else {}
        return RoutingRequest(
            call_id=task.router_call_id or callback_call_id(task.call_id),
            uniqueid="",
            channel="",
            caller=task.number,
            language="pl",
            queue=queue,
            skills=skills,
            priority=0,
            arrived_at=self.clock.now().isoformat(),
            variables={"task_id": str(task.id), "task_note": task.note or ""},
        )

    async def run_due(self) -> list[int]:
        """Hand every callback whose window has opened to the router; returns their ids."""
        sent: list[int] = []
        for task in await self.store.due_callbacks(self.clock.now()):
            if not task.number:
                continue
            await self.router.enqueue(self.request(task), callback_number=task.number)
            if await self.store.mark_queued(task.id):
                sent.append(task.id)
                log.info("callback task %d of call %s queued", task.id, task.call_id)
        self.queued += len(sent)
        return sent

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="callback-tasks")

    async def stop(self) -> None:
        if self._task is not None:
            await stop_task(self._task, within=TASK_STOP_S, what="callback tasks")
            self._task = None

    def health(self) -> dict[str, object]:
        return {"up": self._task is not None and not self._task.done(), "queued": self.queued}

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_due()
                pause = _until(await self.store.next_window(), self.clock.now())
            except Exception:
                log.exception("callback tasks: could not hand due callbacks to the router")
                pause = RESCAN_S
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), pause)


def _until(when: datetime | None, now: datetime) -> float:
    if when is None:
        return RESCAN_S
    return max(0.0, min(RESCAN_S, (when - now).total_seconds()))
