"""A process-local QueueGateway: a FIFO of waiting calls that tests, `kck ivr try` and demos use."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from ivr.channel import Channel
from queues.model import CallbackRequest, QueueOutcome, RoutingRequest


@dataclass
class InMemoryQueueGateway:
    """Waiting calls in arrival order; `finish(call_id, outcome)` ends a wait.

    With `answer_at_once` set, every wait ends at once with that outcome (dry runs and scripted
    tests: the menu's part ends when the call is handed over).
    """

    answer_at_once: QueueOutcome | None = None
    wait_timeout: float | None = None
    waiting: list[RoutingRequest] = field(default_factory=list)
    handed_over: list[RoutingRequest] = field(default_factory=list)
    callbacks: list[CallbackRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._waits: dict[str, asyncio.Future[QueueOutcome]] = {}
        self._arrived: dict[str, asyncio.Event] = {}
        self.arrivals: asyncio.Queue[RoutingRequest] = asyncio.Queue()  # every enqueue, in order

    def _arrival(self, call_id: str) -> asyncio.Event:
        return self._arrived.setdefault(call_id, asyncio.Event())

    async def enqueue(self, request: RoutingRequest) -> None:
        self.waiting.append(request)
        self.handed_over.append(request)
        self.arrivals.put_nowait(request)

    async def wait(self, request: RoutingRequest, channel: Channel) -> QueueOutcome:
        if self.answer_at_once is not None:
            self._remove(request.call_id)
            return self.answer_at_once
        future: asyncio.Future[QueueOutcome] = asyncio.get_running_loop().create_future()
        self._waits[request.call_id] = future
        self._arrival(request.call_id).set()
        try:
            await channel.music(True)
            return await asyncio.wait_for(asyncio.shield(future), self.wait_timeout)
        except TimeoutError:
            return QueueOutcome.NO_AGENT
        finally:
            self._waits.pop(request.call_id, None)
            self._remove(request.call_id)

    def finish(self, call_id: str, outcome: QueueOutcome = QueueOutcome.ANSWERED) -> bool:
        """End a call's wait (an agent answered, or no agent can); False if it is not waiting."""
        future = self._waits.get(call_id)
        if future is None or future.done():
            return False
        future.set_result(outcome)
        return True

    async def until_waiting(self, call_id: str) -> None:
        """Return once the call is on hold in this queue (tests, demos)."""
        await self._arrival(call_id).wait()

    def is_waiting(self, call_id: str) -> bool:
        return call_id in self._waits

    async def request_callback(self, callback: CallbackRequest) -> None:
        self.callbacks.append(callback)

    def _remove(self, call_id: str) -> None:
        self.waiting = [r for r in self.waiting if r.call_id != call_id]
