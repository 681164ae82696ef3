"""Where the outbox's SMS go: an HTTP SMS gateway, or a folder of text files for development.

The HTTP gateway posts one request per message (JSON or a form, its fields from the settings'
templates) with an authorisation header; any 2xx answer is success and the gateway's message id
is read from its JSON answer. Anything else — a refusal, a timeout, a connection refused — is a
`DeliveryFailed`, and the outbox tries again later.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import aiohttp

from matters.outbox import DeliveryFailed, OutgoingMail


def _dig(answer: Any, path: str) -> str | None:
    """The value at a dotted path of a JSON answer ("data.id"), as text; None when absent."""
    for part in path.split("."):
        if isinstance(answer, dict) and part in answer:
            answer = answer[part]
        elif isinstance(answer, list) and part.isdigit() and int(part) < len(answer):
            answer = answer[int(part)]
        else:
            return None
    return None if answer is None or isinstance(answer, dict | list) else str(answer)


class HTTPSMSGateway:
    def __init__(
        self,
        url: str,
        *,
        fields: dict[str, str],
        body: str = "json",
        auth_header: str = "",
        auth_token: str = "",
        id_field: str = "id",
        sender: str = "KCK",
        timeout_s: float = 10.0,
    ) -> None:
        self.url = url
        self.fields = fields
        self.body = body
        self.headers = {auth_header: auth_token} if auth_header and auth_token else {}
        self.id_field = id_field
        self.sender = sender
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    def request_fields(self, sms: OutgoingMail) -> dict[str, str]:
        values = {"to": sms.recipient, "text": sms.body, "sender": self.sender, "key": sms.key}
        return {name: template.format(**values) for name, template in self.fields.items()}

    async def send_sms(self, sms: OutgoingMail) -> str | None:
        fields = self.request_fields(sms)
        payload: dict[str, Any] = {"json": fields} if self.body == "json" else {"data": fields}
        try:
            async with (
                aiohttp.ClientSession(timeout=self.timeout) as client,
                client.post(self.url, headers=self.headers, **payload) as response,
            ):
                text = await response.text()
                if not 200 <= response.status < 300:
                    raise DeliveryFailed(
                        f"SMS gateway {self.url}: HTTP {response.status} {text[:200]!r}"
                    )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryFailed(f"SMS gateway {self.url}: {exc or type(exc).__name__}") from exc
        if not self.id_field:
            return None
        try:
            return _dig(json.loads(text), self.id_field)
        except ValueError:
            return None  # a 2xx without JSON: sent, no id to keep


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class SMSFolder:
    """Development's phone: each SMS one `.txt` file (recipient, then the text), named after its
    outbox key; the file's name is the message id kept."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, sms: OutgoingMail) -> Path:
        return self.folder / f"{_UNSAFE.sub('_', sms.key)}.txt"

    def _write(self, sms: OutgoingMail) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path_for(sms)
        if not path.exists():  # written before a crash marked it sent: once is enough
            partial = path.with_suffix(".part")
            partial.write_text(f"To: {sms.recipient}\n\n{sms.body}\n", encoding="utf-8")
            partial.replace(path)
        return path.name

    async def send_sms(self, sms: OutgoingMail) -> str | None:
        try:
            return await asyncio.to_thread(self._write, sms)
        except OSError as exc:
            raise DeliveryFailed(f"SMS folder {self.folder}: {exc}") from exc
