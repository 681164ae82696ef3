"""Hands events to handlers: one call's events in order, different calls concurrently.

A call is its Linkedid (both halves of a Local channel and the dialled agent share it), else
its Uniqueid; device state changes are ordered per device; everything else in one system lane.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from asterisk.ami.events import AMIEvent, DeviceStateChange
from kck.stopping import TASK_STOP_S, stop_task

log = logging.getLogger(__name__)

EventHandler = Callable[[AMIEvent], Awaitable[None] | None]
EventFilter = type[AMIEvent] | str


def lane_key(event: AMIEvent) -> str:
    call = event.linkedid or event.uniqueid
    if call:
        return f"call:{call}"
    if isinstance(event, DeviceStateChange) and event.device:
        return f"device:{event.device}"
    return "system"


@dataclass(frozen=True)
class _Subscription:
    handler: EventHandler
    types: tuple[type[AMIEvent], ...]
    names: frozenset[str]

    def wants(self, event: AMIEvent) -> bool:
        if not self.types and not self.names:
            return True
        return isinstance(event, self.types) or event.name.lower() in self.names


class CallOrderedDispatcher:
    def __init__(self) -> None:
        self._subscriptions: list[_Subscription] = []
        self._lanes: dict[str, collections.deque[AMIEvent]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self.handler_errors = 0
        self.unwanted = 0

    def add_handler(self, handler: EventHandler, *event_types: EventFilter) -> None:
        types = tuple(t for t in event_types if isinstance(t, type))
        names = frozenset(t.lower() for t in event_types if isinstance(t, str))
        self._subscriptions.append(_Subscription(handler, types, names))

    def remove_handler(self, handler: EventHandler) -> None:
        self._subscriptions = [s for s in self._subscriptions if s.handler is not handler]

    @property
    def active_lanes(self) -> int:
        """Calls with events still being handled; lanes are dropped once empty (no leak)."""
        return len(self._workers)

    @property
    def pending(self) -> int:
        return sum(len(lane) for lane in self._lanes.values())

    def submit(self, event: AMIEvent) -> None:
        if not any(subscription.wants(event) for subscription in self._subscriptions):
            # most of Asterisk's events (VarSet, Newexten...) interest no handler: no lane, no task
            self.unwanted += 1
            return
        key = lane_key(event)
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = collections.deque()
        lane.append(event)
        if key not in self._workers:
            self._idle.clear()
            self._workers[key] = asyncio.get_running_loop().create_task(
                self._work(key, lane), name=f"ami-lane-{key}"
            )

    async def _work(self, key: str, lane: collections.deque[AMIEvent]) -> None:
        try:
            while lane:
                event = lane.popleft()
                for subscription in list(self._subscriptions):
                    if subscription.wants(event):
                        await self._call(subscription.handler, event)
        finally:
            # No await between the empty check and this removal: a new event for this key
            # either landed in ``lane`` before (and was handled) or starts a new worker after.
            self._workers.pop(key, None)
            if not lane:
                self._lanes.pop(key, None)
            if not self._workers:
                self._idle.set()

    async def _call(self, handler: EventHandler, event: AMIEvent) -> None:
        try:
            result = handler(event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            self.handler_errors += 1
            log.exception(
                "AMI event handler %s failed on %s (Uniqueid %s, Linkedid %s)",
                getattr(handler, "__qualname__", handler),
                event.name,
                event.uniqueid,
                event.linkedid,
            )

    async def drain(self) -> None:
        """Wait until every submitted event has been handled."""
        while self._workers:
            await self._idle.wait()

    async def close(self) -> None:
        """Cancel the running handlers; bounded even if one swallows its cancel (redis-py)."""
        workers = list(self._workers.values())
        await asyncio.gather(
            *(stop_task(w, within=TASK_STOP_S, what=f"AMI {w.get_name()}") for w in workers)
        )
        self._lanes.clear()
