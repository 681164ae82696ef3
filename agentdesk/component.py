"""Runs the web application as a runtime component (an aiohttp site on the configured bind).

The composition root (`kck.controller`) gives it the router, the controller's health and the
parts that have metrics; the desk is wired here to that router and to the knowledge base.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from agentdesk.app import DeskParts, HealthSource, create_app, units_file
from agentdesk.board import RouterStateWriter, register_board_routes
from agentdesk.kb_adapter import KbKnowledge
from agentdesk.keys import feed_key, tasks_key
from agentdesk.menu_port import MenuEditingPort
from agentdesk.menu_routes import register_menu_routes
from agentdesk.monitoring import may_read_monitoring, monitoring_refused
from agentdesk.ports import StepLabels
from agentdesk.recording_routes import register_recording_routes
from agentdesk.reports import register_report_routes
from agentdesk.router_backend import RouterDeskBackend
from agentdesk.security import PUBLIC, add_route
from agentdesk.tasks.desk import desk_tasks
from agentdesk.tasks.routes import register_task_routes
from agentdesk.tickets.matters import MatterMail, MatterService
from agentdesk.tickets.units import CityUnits, load_units
from agentdesk.transcription_routes import register_transcription_routes
from agentdesk.web_server import GuardedAppRunner
from kb import KnowledgeBase, load_polish_analyzer
from kck.heap import freeze_warmed_up
from kck.services import Services
from kck.stopping import TASK_STOP_S, stop_task
from matters.links import LinkSigner
from queues.consult import ConsultCalls
from queues.router import Router
from recordings.access import RecordingAccess
from recordings.lifecycle import RecordingLifecycle
from recordings.transcription_queue import transcription_queue_of

log = logging.getLogger(__name__)

# On stop, requests still running (an open wall-board socket is one) get this long before their
# connections are closed; aiohttp's default is 60 s, which held `kck serve` up on SIGTERM.
WEB_SHUTDOWN_S = 2.0


# Prometheus text of one part of the controller (AMI, router, IVR), read at each scrape.
MetricsSource = Callable[[], Awaitable[str]]


@dataclass(frozen=True)
class MatterWiring:
    """What the desk needs of the matters part: the units' link signer, the outbox's wake-up."""

    signer: LinkSigner
    wake: Callable[[], None]


def matter_service(services: Services, units: CityUnits, wiring: MatterWiring) -> MatterService:
    mail = MatterMail.from_settings(services.settings)
    return MatterService(services.sessions, units, wiring.signer, mail, services.clock, wiring.wake)


class WebComponent:
    name = "web"

    def __init__(
        self,
        services: Services,
        router: Router,
        health: HealthSource,
        metrics: Sequence[MetricsSource] = (),
        recordings: RecordingLifecycle | None = None,
        *,
        consults: ConsultCalls | None = None,
        step_labels: StepLabels | None = None,
        menus: MenuEditingPort | None = None,
        matters: MatterWiring | None = None,
    ) -> None:
        """`step_labels`: the IVR's step names, for the reports' IVR branches; `menus`: the
        IVR's menu versions, for the menu editor (`/editor/menus`); `matters`: the units' link
        signer and the outbox's wake-up (forwarding and the unit page)."""
        self.menus = menus
        self.services = services
        self.matters = matters
        self.step_labels = step_labels
        self.router = router
        self.recordings = recordings  # pause/resume from the desk (None: nothing is recorded)
        self.consults = consults
        self._health = health  # the whole controller's, for /health and the status page
        self._metrics_sources = tuple(metrics)
        self._runner: GuardedAppRunner | None = None
        self._warm_up: asyncio.Task[Any] | None = None
        self.port: int | None = None
        self.app: web.Application | None = None

    def desk_parts(self, router: Router, units: CityUnits | None = None) -> DeskParts:
        matters = None
        if self.matters is not None and units is not None:
            matters = matter_service(self.services, units, self.matters)
        return DeskParts(
            backend=RouterDeskBackend(router, self.services.clock, self.consults),
            knowledge=KbKnowledge(KnowledgeBase(self.services.engine, memory_index=True)),
            units=units,
            matters=matters,
        )

    async def start(self) -> None:
        # The Polish stemmer takes seconds to load: load it now, not on the first screen-pop.
        self._warm_up = asyncio.create_task(_warm_up_analyzer(), name="kb analyzer warm-up")
        router = self.router
        # parsing a configuration file is CPU work: off the event loop
        units = await asyncio.to_thread(load_units, units_file(self.services))
        self.app = create_app(self.services, self._health, self.desk_parts(router, units))
        register_board_routes(self.app, RouterStateWriter(router))
        register_report_routes(self.app, step_labels=self.step_labels)
        register_recording_routes(self.app, recording_access(self.services), self.recordings)
        if self.menus is not None:
            register_menu_routes(self.app, self.menus)
        register_transcription_routes(self.app, transcription_queue_of(self.services))
        register_task_routes(self.app, desk_tasks(self.services, router))
        # Scrapers do not sign in: they send the monitoring token (docs/deployment.md).
        add_route(self.app, "GET", "/metrics", self._metrics, PUBLIC)
        http = self.services.settings.http
        self._runner = GuardedAppRunner(
            self.app, http, access_log=None, shutdown_timeout=WEB_SHUTDOWN_S
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, http.host, http.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else http.port

    async def _metrics(self, request: web.Request) -> web.Response:
        """Prometheus text of every runtime component that offers `metrics_text()`."""
        if not may_read_monitoring(request):
            return monitoring_refused(request)
        parts = [await source() for source in self._metrics_sources]
        return web.Response(text="".join(parts), content_type="text/plain", charset="utf-8")

    async def stop(self) -> None:
        if self._warm_up is not None:
            await stop_task(self._warm_up, within=TASK_STOP_S, what="KB analyser warm-up")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def health(self) -> dict[str, Any]:
        health: dict[str, Any] = {"up": self._runner is not None, "url": self.url}
        if self._runner is not None:
            health["connections"] = self._runner.budget.open
            health["connections_refused"] = self._runner.budget.refused
        if self.app is not None and feed_key in self.app:
            health["board"] = self.app[feed_key].health()  # open boards, pause between recounts
        if self.app is not None and tasks_key in self.app:  # the desk's tasks (docs/desk.md)
            tasks = self.app[tasks_key]
            health["callback_scheduler"] = tasks.scheduler.health()  # running, callbacks queued
            health["nonvoice_dispatcher"] = tasks.dispatcher.health()  # listening, offered
        return health

    @property
    def url(self) -> str:
        return f"http://{self.services.settings.http.host}:{self.port}/"


def recording_access(services: Services) -> RecordingAccess:
    settings = services.settings
    return RecordingAccess(
        services.sessions,
        services.redis,
        services.bus.prefix,
        settings.recordings_dir,
        services.clock,
        agent_may_play=settings.recordings.agent_may_play,
    )


async def _warm_up_analyzer() -> None:
    await load_polish_analyzer()
    freeze_warmed_up()  # its ≈1.2 million objects live as long as the process
