"""Where the outbox's e-mail goes: an SMTP server, or a folder of .eml files for development."""

from __future__ import annotations

import asyncio
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from matters.outbox import DeliveryFailed, OutgoingMail


def as_email(mail: OutgoingMail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Message-ID"] = mail.message_id
    message["Date"] = formatdate(localtime=False)
    message.set_content(mail.body)
    return message


class SMTPGateway:
    """The standard library's client in a thread (the event loop never waits on the server)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        starttls: bool = False,
        username: str = "",
        password: str = "",
        timeout_s: float = 20.0,
    ) -> None:
        self.host = host
        self.port = port
        self.starttls = starttls
        self.username = username
        self.password = password
        self.timeout_s = timeout_s

    def _send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as client:
            if self.starttls:
                client.starttls(context=ssl.create_default_context())
            if self.username:
                client.login(self.username, self.password)
            client.send_message(message)

    async def send(self, mail: OutgoingMail, sender: str) -> None:
        try:
            await asyncio.to_thread(self._send, as_email(mail, sender))
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"SMTP {self.host}:{self.port}: {exc}") from exc


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class MailFolder:
    """Development's mailbox: each message one `.eml` file, named after its outbox key."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, mail: OutgoingMail) -> Path:
        return self.folder / f"{_UNSAFE.sub('_', mail.key)}.eml"

    def _write(self, mail: OutgoingMail, sender: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path_for(mail)
        if path.exists():
            return  # written before a crash marked it sent: once is enough
        partial = path.with_suffix(".part")
        partial.write_bytes(bytes(as_email(mail, sender)))
        partial.replace(path)

    async def send(self, mail: OutgoingMail, sender: str) -> None:
        try:
            await asyncio.to_thread(self._write, mail, sender)
        except OSError as exc:
            raise DeliveryFailed(f"mail folder {self.folder}: {exc}") from exc
