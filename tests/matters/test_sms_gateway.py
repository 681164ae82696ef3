"""SMS through the outbox to a real HTTP gateway (an aiohttp server on a real socket): refused
once, then taken — the SMS is sent exactly once and the gateway's id is kept; and the development
gateway's folder of files."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from kck.clock import ManualClock
from kck.db import session_factory
from matters.models import OutboxMessage
from matters.outbox import SMS, DeliveryFailed, OutboxWorker, OutgoingMail, backoff, enqueue
from matters.sms_gateways import HTTPSMSGateway, SMSFolder
from tests.matters.test_outbox import SENDER
from tests.matters.world import START

TOKEN = "Bearer test-token-123"


@dataclass
class Gateway:
    """The fake operator: refuses the first `failures` requests with 503, then takes them."""

    failures: int = 1
    requests: list[dict[str, str]] = field(default_factory=list)
    accepted: list[dict[str, str]] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    hang: asyncio.Event | None = None

    async def handle(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            body = {k: str(v) for k, v in (await request.json()).items()}
        else:
            body = {k: str(v) for k, v in (await request.post()).items()}
        self.requests.append(body)
        self.headers.append(request.headers.get("Authorization", ""))
        if self.hang is not None:
            await self.hang.wait()
        if len(self.requests) <= self.failures:
            return web.json_response({"error": "try later"}, status=503)
        self.accepted.append(body)
        return web.json_response({"data": {"id": f"gw-{len(self.accepted)}"}}, status=201)


@pytest.fixture
async def gateway() -> AsyncIterator[tuple[Gateway, str]]:
    fake = Gateway()
    app = web.Application()
    app.router.add_post("/send", fake.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield fake, str(server.make_url("/send"))
    if fake.hang is not None:
        fake.hang.set()
    await server.close()


def http_gateway(url: str, **changes: object) -> HTTPSMSGateway:
    options: dict[str, object] = {
        "fields": {"to": "{to}", "message": "{text}", "from": "{sender}", "ref": "{key}"},
        "auth_header": "Authorization",
        "auth_token": TOKEN,
        "id_field": "data.id",
        "sender": "KCK",
        "timeout_s": 5.0,
    }
    options.update(changes)
    return HTTPSMSGateway(url, **options)  # type: ignore[arg-type]


SMS_TEXT = "Sprawa KCK-2026-000001 jest zamknieta. Dziekujemy."


async def test_an_sms_refused_once_is_sent_exactly_once_when_the_gateway_takes_it(
    engine: AsyncEngine, gateway: tuple[Gateway, str]
) -> None:
    fake, url = gateway
    clock = ManualClock(START)
    sessions = session_factory(engine)
    worker = OutboxWorker(sessions, None, SENDER, clock, sms=http_gateway(url))  # type: ignore[arg-type]
    sms = OutgoingMail("resident:sms:KCK-2026-000001:closed:1", "+48600123456", "", SMS_TEXT, SMS)
    async with sessions.begin() as db:
        assert await enqueue(db, sms, now=START)
        assert not await enqueue(db, sms, now=START)  # the same key: still one

    assert await worker.send_due() == 0  # 503: waits with a backoff
    async with sessions() as db:
        row = await db.scalar(select(OutboxMessage))
        assert row is not None
        assert (row.state, row.attempts, row.channel) == ("pending", 1, "sms")
        assert row.last_error is not None and "HTTP 503" in row.last_error
        assert row.next_attempt_at == START + backoff(1)
    assert await worker.send_due() == 0  # not due yet: the gateway is not asked again
    assert len(fake.requests) == 1

    clock.advance(backoff(1).total_seconds())
    assert await worker.send_due() == 1
    assert await worker.send_due() == 0
    clock.advance(3600)
    assert await worker.send_due() == 0  # sent is sent: never again
    assert fake.accepted == [
        {"to": "+48600123456", "message": SMS_TEXT, "from": "KCK", "ref": sms.key}
    ]
    assert fake.headers == [TOKEN, TOKEN]
    async with sessions() as db:
        row = await db.scalar(select(OutboxMessage))
        assert row is not None
        assert (row.state, row.attempts, row.gateway_id) == ("sent", 2, "gw-1")


async def test_a_form_body_without_an_id_in_the_answer_is_sent(
    gateway: tuple[Gateway, str],
) -> None:
    fake, url = gateway
    fake.failures = 0
    sms = OutgoingMail("k1", "+48600123456", "", "Tekst", SMS)
    sent = await http_gateway(url, body="form", id_field="").send_sms(sms)
    assert sent is None
    assert fake.accepted == [{"to": "+48600123456", "message": "Tekst", "from": "KCK", "ref": "k1"}]


async def test_a_gateway_that_does_not_answer_in_time_or_is_down_fails_the_attempt(
    gateway: tuple[Gateway, str],
) -> None:
    fake, url = gateway
    fake.hang = asyncio.Event()  # the server takes the request and never answers
    sms = OutgoingMail("k2", "+48600123456", "", "Tekst", SMS)
    with pytest.raises(DeliveryFailed, match="SMS gateway"):
        await http_gateway(url, timeout_s=0.2).send_sms(sms)
    with pytest.raises(DeliveryFailed, match=re.escape("SMS gateway http://127.0.0.1:9/send")):
        await http_gateway("http://127.0.0.1:9/send").send_sms(sms)


async def test_without_a_gateway_an_sms_waits_in_the_outbox(engine: AsyncEngine) -> None:
    clock = ManualClock(START)
    sessions = session_factory(engine)
    worker = OutboxWorker(sessions, None, SENDER, clock)  # type: ignore[arg-type]
    async with sessions.begin() as db:
        await enqueue(db, OutgoingMail("k3", "+48600123456", "", "Tekst", SMS), now=START)
    assert await worker.send_due() == 0
    async with sessions() as db:
        row = await db.scalar(select(OutboxMessage))
        assert row is not None and row.state == "pending"
        assert row.last_error == "no SMS gateway configured (sms.gateway: none)"


async def test_the_file_gateway_writes_one_file_per_sms_once(tmp_path: Path) -> None:
    folder = SMSFolder(tmp_path / "sms")
    sms = OutgoingMail("resident:sms:KCK-2026-000001:forwarded:1", "+48600123456", "", "Tekst", SMS)
    name = await folder.send_sms(sms)
    assert name == "resident_sms_KCK-2026-000001_forwarded_1.txt"
    assert await folder.send_sms(sms) == name
    files = list((tmp_path / "sms").iterdir())
    assert [f.name for f in files] == [name]
    assert files[0].read_text(encoding="utf-8") == "To: +48600123456\n\nTekst\n"
