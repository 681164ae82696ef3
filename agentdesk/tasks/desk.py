"""What the desk's task routes work with, built once in the composition root."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from agentdesk.tasks.nonvoice_matters import queue_matter
from agentdesk.tasks.scheduler import CallbackScheduler
from agentdesk.tasks.store import CallbackWish, TaskRefused, TaskStore, TaskView
from agentdesk.tasks.voicemail import VoicemailInbox
from agentdesk.tickets.store import TicketView
from kck.services import Services
from queues.nonvoice import NonVoiceDispatcher, NonVoiceQueue
from queues.router import Router


@dataclass
class DeskTasks:
    store: TaskStore
    scheduler: CallbackScheduler
    inbox: VoicemailInbox
    skills_of: Callable[[str], Collection[str]]  # an agent's skills (agents.yaml)
    tz: ZoneInfo
    matters: NonVoiceQueue  # matters without a call (queues.nonvoice)
    dispatcher: NonVoiceDispatcher
    skills: Collection[str] = ()  # every skill of the routing configuration

    async def offer_matter(self, ticket: TicketView, source: str, now: datetime) -> str | None:
        """A matter that came without a call (Open311: `open311:<client>`) waits in the
        non-voice queue for an agent with its category's skill; the agent offered it at once."""
        return await queue_matter(self.matters, ticket, source, self.skills, now)

    async def callback(
        self, call_id: str, agent: str, wish: CallbackWish, number: str | None = None
    ) -> TaskView:
        """The callback task of `call_id` (one per call), handed to the router now if its
        window is open (otherwise the scheduler does when it opens)."""
        task = await self.store.callback_for_call(call_id, agent, wish, number)
        await self.scheduler.run_due()
        self.scheduler.wake()
        return await self.store.get(task.id) or task

    def wish(self, body: Mapping[str, Any]) -> CallbackWish:
        """The agent's window (local times, `2026-12-08T10:00`) and note; refused if unreadable."""
        return CallbackWish(
            window_from=self._local(body.get("from")),
            window_until=self._local(body.get("until")),
            note=str(body.get("note") or ""),
        )

    def _local(self, value: Any) -> datetime | None:
        if not value:
            return None
        try:
            when = datetime.fromisoformat(str(value)[:32])
        except ValueError:
            raise TaskRefused("window", f"window time {value!r} is not a date and time") from None
        return when.replace(tzinfo=self.tz) if when.tzinfo is None else when


def voicemail_root(services: Services) -> Path:
    """Where the IVR's voicemail step records (`paths.recordings`, as ivr.component gives it to
    the FastAGI route): not the call recordings' folder."""
    return services.settings.path(services.settings.paths.recordings)


def desk_tasks(services: Services, router: Router) -> DeskTasks:
    store = TaskStore(services.sessions, services.clock)
    config = router.config
    matters = NonVoiceQueue(router.store.redis, services.clock, prefix=router.store.prefix)
    return DeskTasks(
        store=store,
        scheduler=CallbackScheduler(store, router, services.clock),
        inbox=VoicemailInbox(store, voicemail_root(services), config.skills),
        skills_of=lambda agent: tuple(a.skills) if (a := config.agents.get(agent)) else (),
        tz=services.settings.tz,
        matters=matters,
        dispatcher=NonVoiceDispatcher(matters, live=services.bus.live),
        skills=tuple(config.skills),
    )
