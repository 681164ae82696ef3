"""The controller's parts, built and wired in one place: each part is given its collaborators
here — no part looks another up — in the order they start.

    AMI client ─┬─▶ router (events, resync, Originate, ControlPlayback)
                ├─▶ recordings (MixMonitor when the router says answered, end at Hangup)
    outbox (e-mails to units and residents) ◀── web application's matters (forward, unit page)
                └─▶ IVR's gateway to the router (waiting loop) ─▶ IVR on FastAGI
    privacy: the hourly purge of callers' identity past its retention
    router ─────────▶ web application (desk, board, reports), health and metrics of all parts
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from agentdesk.component import MatterWiring, MetricsSource, WebComponent
from agentdesk.reminder_component import ReminderComponent
from agentdesk.tickets.matters import MatterStatusByKeys
from asterisk.components import AMIComponent, ami_client_from_settings
from ivr.component import IVRComponent
from ivr.editing import MenuEditing
from ivr.router_gateway import RouterQueueGateway
from ivr.step_labels import LiveStepLabels
from kb import load_polish_analyzer
from kck.recording_feed import recording_input
from kck.services import Services
from kck.transcription_engines import engines_from_settings
from matters.component import OutboxComponent, link_signer, mail_gateway, sms_gateway
from privacy.component import PrivacyComponent
from queues.component import RouterComponent, create_router_component
from queues.queue_voicemail import QueueVoicemail
from queues.waiting import WaitingPrompts
from recordings.component import RecordingsComponent


class Component(Protocol):
    """A part of the running controller (FastAGI server, AMI client, router, web application…)."""

    name: str

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def health(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Controller:
    """The wired parts; `parts` in the order they start (and stop in reverse)."""

    ami: AMIComponent | None
    router: RouterComponent
    ivr: IVRComponent
    web: WebComponent
    recordings: RecordingsComponent | None = None
    outbox: OutboxComponent | None = None
    privacy: PrivacyComponent | None = None
    reminders: ReminderComponent | None = None

    @property
    def parts(self) -> list[Component]:
        parts = (
            self.ami,
            self.router,
            self.recordings,
            self.outbox,
            self.privacy,
            self.reminders,
            self.ivr,
            self.web,
        )
        return [p for p in parts if p is not None]


async def build_controller(
    services: Services, health: Callable[[], Awaitable[dict[str, Any]]]
) -> Controller:
    """`health`: the whole runtime's, probed at each request of the web application's /health
    and status page."""
    settings = services.settings
    ami = AMIComponent(ami_client_from_settings(settings.ami)) if settings.ami.enabled else None
    router = await create_router_component(services, ami.client if ami else None)
    gateway = RouterQueueGateway(
        router.router,
        settings.asterisk_sounds_dir,
        router.stop_playback,
        router.transfer_legs,
        outage_hold_s=settings.redis.outage_hold_s,
        voicemail=QueueVoicemail(
            settings.path(settings.paths.recordings),
            WaitingPrompts(sounds_dir=str(settings.asterisk_sounds_dir)),
        ),
    )
    # transcription of recordings: the engine of each call's language, in worker processes
    transcriber = engines_from_settings(settings)
    recordings = (
        RecordingsComponent(
            services, ami.client, recording_input, transcriber, terms=load_polish_analyzer
        )
        if ami is not None and settings.recordings.enabled
        else None
    )
    # every message to a unit or a resident leaves through the outbox (docs/units.md)
    outbox = OutboxComponent(services, mail_gateway(settings), sms_gateway(settings))
    matters = MatterWiring(await link_signer(settings), outbox.worker.wake)
    # the IVR's "status of my report" reads the matter's real state
    ivr = IVRComponent(
        services,
        gateway,
        matters=MatterStatusByKeys(services.sessions, settings.tz, services.clock),
    )
    metrics: list[MetricsSource] = [
        part.metrics_text for part in (ami, router, ivr, recordings) if part
    ]
    web = WebComponent(
        services,
        router.router,
        health,
        metrics,
        recordings=recordings.lifecycle if recordings is not None else None,
        consults=router.consults,
        step_labels=LiveStepLabels(ivr.library),
        menus=MenuEditing(
            ivr.library, tests_dir=ivr.menus_dir / "tests", timezone=settings.timezone
        ),
        matters=matters,
    )
    # late units: reminded, then escalated (docs/units.md, "Deadlines")
    reminders = ReminderComponent(services, matters.signer, outbox.worker.wake)
    return Controller(
        ami, router, ivr, web, recordings, outbox, PrivacyComponent(services), reminders
    )
