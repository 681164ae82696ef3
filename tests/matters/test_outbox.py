"""The outbox against a real SMTP server (aiosmtpd): a message waits while the server is down,
leaves once when it is up, and is never sent twice, also with two workers at once."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from kck.clock import ManualClock
from kck.db import session_factory
from matters.gateways import MailFolder, SMTPGateway
from matters.models import OutboxMessage
from matters.outbox import OutboxWorker, OutgoingMail, backoff, enqueue, outbox_rows
from tests.matters.world import START

SENDER = "Kontakt Centrum Miasta <kontakt@krakow.example>"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp_server(smtp_port: int, inbox: Inbox) -> Iterator[Controller]:
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    yield controller
    if getattr(controller, "_thread", None) is not None:
        controller.stop()


async def put(engine: AsyncEngine, mail: OutgoingMail) -> bool:
    async with session_factory(engine).begin() as db:
        return await enqueue(db, mail, now=START)


async def test_a_message_waits_while_smtp_is_down_and_is_sent_exactly_once_when_it_is_up(
    engine: AsyncEngine, smtp_port: int, smtp_server: Controller, inbox: Inbox
) -> None:
    clock = ManualClock(START)
    worker = OutboxWorker(
        session_factory(engine), SMTPGateway("127.0.0.1", smtp_port), SENDER, clock
    )
    mail = OutgoingMail("unit:KCK-2026-000001:ZZM", "kck-zzm@krakow.example", "Sprawa", "Treść ą")
    assert await put(engine, mail)
    assert not await put(engine, mail)  # the same key again: still one message

    assert await worker.send_due() == 0  # nobody listens on the port
    counts, [row] = await outbox_rows(session_factory(engine))
    assert counts == {"pending": 1}
    assert row.attempts == 1 and row.next_attempt_at == START + backoff(1)
    assert row.last_error is not None and f"127.0.0.1:{smtp_port}" in row.last_error

    await asyncio.to_thread(smtp_server.start)
    assert await worker.send_due() == 0  # not due yet: the backoff holds
    clock.advance(backoff(1).total_seconds())
    assert await worker.send_due() == 1
    assert await worker.send_due() == 0
    counts, [row] = await outbox_rows(session_factory(engine))
    assert counts == {"sent": 1} and row.sent_at == clock.now() and row.attempts == 2

    [received] = inbox.messages
    assert received["To"] == "kck-zzm@krakow.example"
    assert received["Message-ID"] == mail.message_id
    assert received.get_payload(decode=True).decode().strip() == "Treść ą"  # type: ignore[union-attr]


async def test_two_workers_at_once_send_each_message_once(
    engine: AsyncEngine, smtp_port: int, smtp_server: Controller, inbox: Inbox
) -> None:
    await asyncio.to_thread(smtp_server.start)
    for n in range(6):
        await put(engine, OutgoingMail(f"m{n}", f"r{n}@krakow.example", "S", "B"))
    clock = ManualClock(START)
    workers = [
        OutboxWorker(session_factory(engine), SMTPGateway("127.0.0.1", smtp_port), SENDER, clock)
        for _ in range(2)
    ]
    sent = await asyncio.gather(*(w.send_due() for w in workers))
    assert sum(sent) == 6
    assert sorted(str(m["To"]) for m in inbox.messages) == [
        f"r{n}@krakow.example" for n in range(6)
    ]


async def test_a_claim_of_a_worker_that_died_lapses_and_the_message_is_sent_then(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    clock = ManualClock(START)
    await put(engine, OutgoingMail("k1", "a@krakow.example", "S", "B"))
    async with session_factory(engine).begin() as db:
        row = await db.scalar(select(OutboxMessage))
        assert row is not None
        row.state, row.sending_until = "sending", START + timedelta(minutes=5)
    folder = MailFolder(tmp_path / "mail")
    worker = OutboxWorker(session_factory(engine), folder, SENDER, clock)
    assert await worker.send_due() == 0
    clock.advance(301)
    assert await worker.send_due() == 1
    [written] = (tmp_path / "mail").glob("*.eml")
    assert written.name == "k1.eml"
    assert message_from_bytes(written.read_bytes())["To"] == "a@krakow.example"


class Recording:
    """A gateway that tells the test when it has been given a message."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.given = asyncio.Event()

    async def send(self, mail: OutgoingMail, sender: str) -> None:
        self.sent.append(mail.key)
        self.given.set()


async def test_the_running_worker_sends_at_once_when_woken_not_at_the_next_poll(
    engine: AsyncEngine,
) -> None:
    gateway = Recording()
    worker = OutboxWorker(session_factory(engine), gateway, SENDER, ManualClock(START), idle_s=3600)
    task = asyncio.create_task(worker.run())
    try:
        await put(engine, OutgoingMail("woken", "a@krakow.example", "S", "B"))
        worker.wake()
        await asyncio.wait_for(gateway.given.wait(), timeout=30)  # a bound, not a pause
        assert gateway.sent == ["woken"]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
