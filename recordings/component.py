"""The recordings part of the controller: reads the router's answered calls from the `queues`
stream (consumer group `recordings`), hears hang-ups on AMI, and runs the lifecycle."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol

from kck.bus import BusEvent
from kck.call_events import CALLS_STREAM
from kck.lease import holder_name
from kck.services import Services
from kck.stopping import stop_task
from recordings.lifecycle import (
    AnsweredCall,
    Folders,
    MixMonitorControl,
    QueuedCall,
    RecordingLifecycle,
)

log = logging.getLogger(__name__)

GROUP = "recordings"
TASK_STOP_S = 5.0

# what the composition root makes of a router event: a call queued, answered, or nothing for us
Translate = Callable[[BusEvent], QueuedCall | AnsweredCall | None]


class AMIEvents(MixMonitorControl, Protocol):
    """The AMI client as the recordings need it: actions and the Hangup event."""

    def add_event_handler(self, handler: Any, *event_types: Any) -> None: ...


class RecordingsComponent:
    name = "recordings"

    def __init__(self, services: Services, ami: AMIEvents, translate: Translate) -> None:
        settings = services.settings
        self.services = services
        self.ami = ami
        self.translate = translate
        self.lifecycle = RecordingLifecycle(
            services.sessions,
            services.redis,
            services.bus.prefix,
            ami,
            settings.recordings,
            Folders(kck=settings.recordings_dir, asterisk=settings.asterisk_recordings_dir),
            settings.tz,
            services.clock,
        )
        self._task: asyncio.Task[None] | None = None
        self.started = 0
        self.handled = 0

    async def start(self) -> None:
        self.ami.add_event_handler(self._on_hangup, "Hangup")
        bus = self.services.bus
        # the group exists once start returns: nothing answered from then on is missed
        await bus.ensure_group(CALLS_STREAM, GROUP, "$")
        self._task = asyncio.create_task(
            bus.consume(CALLS_STREAM, GROUP, holder_name(), self._on_router_event),
            name="recordings",
        )

    async def _on_router_event(self, event: BusEvent) -> None:
        what = self.translate(event)
        if isinstance(what, QueuedCall):
            await self.lifecycle.queued(what)
        elif isinstance(what, AnsweredCall) and await self.lifecycle.answered(what) is not None:
            self.started += 1
        self.handled += 1

    async def _on_hangup(self, event: Any) -> None:
        uniqueid = getattr(event, "channel_uniqueid", None)
        if uniqueid:
            self.lifecycle.channel_gone(str(uniqueid))

    async def stop(self) -> None:
        if self._task is not None:
            await stop_task(self._task, within=TASK_STOP_S, what="recordings")
            self._task = None
        await self.lifecycle.drain()

    def health(self) -> dict[str, Any]:
        return {
            "up": self._task is not None and not self._task.done(),
            "started": self.started,
            "folder": str(self.services.settings.recordings_dir),
        }
