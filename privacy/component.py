"""The privacy part of the controller: the identity purge once an hour, in one process."""

from __future__ import annotations

import asyncio
from typing import Any

from agentdesk.tasks.desk import voicemail_root
from agentdesk.tasks.voicemail import VOICEMAIL_FOLDER
from kck.scheduled import every_interval_in_one_process
from kck.services import Services
from kck.stopping import stop_task
from privacy.retention import IdentityRetention

PURGE_EVERY_S = 3600.0
TASK_STOP_S = 5.0


def identity_retention(services: Services) -> IdentityRetention:
    settings = services.settings
    return IdentityRetention(
        services.sessions,
        services.redis,
        services.bus.prefix,
        settings.path(settings.speech.recordings),
        settings.privacy,
        services.clock,
        voicemail_folder=voicemail_root(services) / VOICEMAIL_FOLDER,
    )


class PrivacyComponent:
    name = "privacy"

    def __init__(self, services: Services) -> None:
        self.services = services
        self.retention = identity_retention(services)
        self._purging: asyncio.Task[None] | None = None
        self.cleared_calls = 0
        self.cleared_tickets = 0

    async def start(self) -> None:
        if self.services.settings.privacy.purge:
            self._purging = asyncio.create_task(
                every_interval_in_one_process(
                    self.services.redis,
                    f"{self.services.bus.prefix}:privacy:purge",
                    PURGE_EVERY_S,
                    self._purge,
                    "the scheduled purge of callers' identity",
                ),
                name="privacy-purge",
            )

    async def _purge(self) -> None:
        counts = await self.retention.purge()
        self.cleared_calls += counts.calls
        self.cleared_tickets += counts.tickets

    async def stop(self) -> None:
        if self._purging is not None:
            await stop_task(self._purging, within=TASK_STOP_S, what="privacy-purge")
            self._purging = None

    def health(self) -> dict[str, Any]:
        privacy = self.services.settings.privacy
        return {
            "up": not privacy.purge or (self._purging is not None and not self._purging.done()),
            "calls_days": privacy.calls_days,
            "tickets_days": privacy.tickets_days,
            "cleared_calls": self.cleared_calls,
            "cleared_tickets": self.cleared_tickets,
        }
