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
from kck.metrics import collector_text
from kck.scheduled import every_interval_in_one_process
from kck.services import Services
from kck.stopping import stop_task
from recordings.lifecycle import (
    AnsweredCall,
    AnsweredCallback,
    CallbackNotReached,
    Folders,
    MixMonitorControl,
    QueuedCall,
    RecordingLifecycle,
)
from recordings.retention import Retention
from recordings.transcription import LoadIndexTerms, Transcriber, TranscriptionWorker
from recordings.transcription_queue import QueueCollector, transcription_queue_of

log = logging.getLogger(__name__)

GROUP = "recordings"
TASK_STOP_S = 5.0
PURGE_EVERY_S = 3600.0  # the scheduled purge: one process of the installation, once an hour

# what the composition root makes of a router event: a call queued, answered, or nothing for us
Translate = Callable[
    [BusEvent], QueuedCall | AnsweredCall | AnsweredCallback | CallbackNotReached | None
]


class AMIEvents(MixMonitorControl, Protocol):
    """The AMI client as the recordings need it: actions and the Hangup event."""

    def add_event_handler(self, handler: Any, *event_types: Any) -> None: ...


class RecordingsComponent:
    name = "recordings"

    def __init__(
        self,
        services: Services,
        ami: AMIEvents,
        translate: Translate,
        transcriber: Transcriber | None = None,
        terms: LoadIndexTerms | None = None,
    ) -> None:
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
        self.retention = Retention(
            services.sessions, settings.recordings_dir, settings.recordings, services.clock
        )
        self.transcriber = transcriber
        self.queue = transcription_queue_of(services)
        self.transcription = (
            TranscriptionWorker(
                services.sessions,
                transcriber,
                settings.recordings_dir,
                services.clock,
                terms=terms,
                running=self.queue.running,
                concurrency=settings.recordings.transcription.concurrency,
            )
            if transcriber is not None
            else None
        )
        self._task: asyncio.Task[None] | None = None
        self._purging: asyncio.Task[None] | None = None
        self._transcribing: asyncio.Task[None] | None = None
        self.purged = 0
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
        self._purging = asyncio.create_task(self._purge_forever(), name="recordings-purge")
        if self.transcription is not None:
            self._transcribing = asyncio.create_task(
                self.transcription.run_forever(), name="recordings-transcription"
            )

    async def _purge_forever(self) -> None:
        await every_interval_in_one_process(
            self.services.redis,
            f"{self.services.bus.prefix}:rec:purge",
            PURGE_EVERY_S,
            self._purge,
            "the scheduled purge of recordings",
        )

    async def _purge(self) -> None:
        self.purged += len(await self.retention.purge())

    async def _on_router_event(self, event: BusEvent) -> None:
        what = self.translate(event)
        if isinstance(what, QueuedCall):
            await self.lifecycle.queued(what)
        elif isinstance(what, CallbackNotReached):
            await self.lifecycle.not_reached(what)
        elif (
            isinstance(what, AnsweredCall | AnsweredCallback)
            and await self.lifecycle.answered(what) is not None
        ):
            self.started += 1
        self.handled += 1

    async def _on_hangup(self, event: Any) -> None:
        uniqueid = getattr(event, "channel_uniqueid", None)
        if uniqueid:
            self.lifecycle.channel_gone(str(uniqueid))

    async def stop(self) -> None:
        for task in (self._task, self._purging, self._transcribing):
            if task is not None:
                await stop_task(task, within=TASK_STOP_S, what=task.get_name())
        self._task = self._purging = self._transcribing = None
        if self.transcriber is not None:
            await self.transcriber.stop()
        await self.lifecycle.drain()

    async def metrics_text(self) -> str:
        """The transcription queue's gauges (the web app's `/metrics` collects them)."""
        return collector_text(QueueCollector(await self.queue.counts()))

    def health(self) -> dict[str, Any]:
        return {
            "up": self._task is not None and not self._task.done(),
            "started": self.started,
            "purged": self.purged,
            "transcribed": self.transcription.done if self.transcription else None,
            "folder": str(self.services.settings.recordings_dir),
        }
