"""The outbox as a part of the running controller: its worker task, its health, and the mail
and SMS gateways and link signer the settings ask for."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from kck.services import Services
from kck.settings import MailSettings, Settings
from kck.stopping import TASK_STOP_S, stop_task
from matters.gateways import MailFolder, SMTPGateway
from matters.links import LinkSigner, load_or_create_secret
from matters.outbox import MailGateway, NoSMSGateway, OutboxWorker, SMSGateway
from matters.sms_gateways import HTTPSMSGateway, SMSFolder


def mail_gateway(settings: Settings) -> MailGateway:
    mail: MailSettings = settings.mail
    if mail.gateway == "file":
        return MailFolder(settings.path(mail.folder))
    return SMTPGateway(
        mail.smtp_host,
        mail.smtp_port,
        starttls=mail.smtp_starttls,
        username=mail.smtp_username,
        password=mail.smtp_password.get_secret_value(),
        timeout_s=mail.smtp_timeout_s,
    )


def sms_gateway(settings: Settings) -> SMSGateway:
    sms = settings.sms
    if sms.gateway == "file":
        return SMSFolder(settings.path(sms.folder))
    if sms.gateway == "http":
        return HTTPSMSGateway(
            sms.url,
            fields=sms.fields,
            body=sms.body,
            auth_header=sms.auth_header,
            auth_token=sms.auth_token.get_secret_value(),
            id_field=sms.id_field,
            sender=sms.sender,
            timeout_s=sms.timeout_s,
        )
    return NoSMSGateway()


async def link_signer(settings: Settings) -> LinkSigner:
    """The units' link signer; reading (or making) the kept secret is file I/O: off the loop."""
    secret = await asyncio.to_thread(
        load_or_create_secret, settings.mail.link_secret.get_secret_value(), settings.var_dir
    )
    return LinkSigner(secret, timedelta(days=settings.mail.link_days))


class OutboxComponent:
    name = "outbox"

    def __init__(
        self, services: Services, gateway: MailGateway, sms: SMSGateway | None = None
    ) -> None:
        self.gateway = gateway
        self.sms = sms or NoSMSGateway()
        self.worker = OutboxWorker(
            services.sessions, gateway, services.settings.mail.sender, services.clock, sms=self.sms
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self.worker.run(), name="outbox worker")

    async def stop(self) -> None:
        if self._task is not None:
            await stop_task(self._task, within=TASK_STOP_S, what="outbox worker")
            self._task = None

    def health(self) -> dict[str, Any]:
        running = self._task is not None and not self._task.done()
        return {
            "up": running,
            "gateway": type(self.gateway).__name__,
            "sms_gateway": type(self.sms).__name__,
            "sent": self.worker.sent,
            "failed_attempts": self.worker.failed,
            "last_error": self.worker.last_error,
        }
