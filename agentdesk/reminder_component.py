"""The units' deadlines as a part of the running controller: a round of reminders and escalations
every quarter of an hour, in one process of the installation (docs/units.md, "Deadlines")."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from agentdesk.tickets.matters import MatterMail
from agentdesk.tickets.reminders import Reminders
from agentdesk.tickets.units import load_units
from kck.business_days import BusinessCalendar
from kck.scheduled import every_interval_in_one_process
from kck.services import Services
from kck.stopping import TASK_STOP_S, stop_task
from matters.links import LinkSigner

REMIND_EVERY_S = 900.0


class ReminderComponent:
    name = "reminders"

    def __init__(self, services: Services, signer: LinkSigner, wake: Callable[[], None]) -> None:
        self.services = services
        self.signer = signer
        self.wake = wake
        self.reminders: Reminders | None = None
        self._task: asyncio.Task[None] | None = None
        self.reminded = 0
        self.escalated = 0

    async def start(self) -> None:
        services = self.services
        settings = services.settings
        # the installation's units.yaml, as the desk reads it (`kck serve` refuses without it)
        units = await asyncio.to_thread(load_units, settings.config_dir / "units.yaml")
        self.reminders = Reminders(
            services.sessions,
            units,
            self.signer,
            MatterMail.from_settings(settings),
            services.clock,
            BusinessCalendar(settings.tz),
            self.wake,
        )
        self._task = asyncio.create_task(
            every_interval_in_one_process(
                services.redis,
                f"{services.bus.prefix}:matters:reminders",
                REMIND_EVERY_S,
                self._round,
                "the round of reminders to late units",
            ),
            name="unit reminders",
        )

    async def _round(self) -> None:
        assert self.reminders is not None
        result = await self.reminders.run()
        self.reminded += result.reminded
        self.escalated += result.escalated

    async def stop(self) -> None:
        if self._task is not None:
            await stop_task(self._task, within=TASK_STOP_S, what="unit reminders")
            self._task = None

    def health(self) -> dict[str, Any]:
        return {
            "up": self._task is not None and not self._task.done(),
            "reminded": self.reminded,
            "escalated": self.escalated,
        }
