"""The outbox: every message to a unit or a resident is a row first, then a worker sends it.

`enqueue` writes the row in the caller's transaction (the matter's step and its message commit
together or not at all) and is idempotent by `key`. `OutboxWorker.send_due` claims one due row
at a time with a conditional update (two workers never send the same row), sends it, and marks
it sent, or puts it back with a backoff; rows are never deleted, so nothing is lost while the
mail server or the SMS gateway is down. A message's `channel` says which gateway takes it (e-mail
or SMS).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kck.clock import Clock
from matters.models import OutboxMessage

log = logging.getLogger(__name__)

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
# the key of a message to a resident (the rest are to units): what privacy/ looks for
RESIDENT_KEY = "resident:"
EMAIL = "email"
SMS = "sms"  # recipient: a phone number in E.164; subject: empty; body: the text
CLAIM = timedelta(minutes=5)  # a sender that has not finished by then is taken for dead
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)


@dataclass(frozen=True)
class OutgoingMail:
    key: str
    recipient: str
    subject: str
    body: str
    channel: str = EMAIL

    @property
    def message_id(self) -> str:
        """The same for every attempt of one message: a receiver can drop a repeat."""
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:32]
        return f"<{digest}@kck.outbox>"


class DeliveryFailed(Exception):
    """The gateway did not take the message; the outbox tries again later."""


class MailGateway(Protocol):
    async def send(self, mail: OutgoingMail, sender: str) -> None: ...


class SMSGateway(Protocol):
    async def send_sms(self, sms: OutgoingMail) -> str | None:
        """Hand the SMS over; the gateway's id of it when it gives one."""
        ...


class NoSMSGateway:
    """No gateway configured: SMS wait in the outbox (retried with backoff) until there is one."""

    async def send_sms(self, sms: OutgoingMail) -> str | None:
        raise DeliveryFailed("no SMS gateway configured (sms.gateway: none)")


async def enqueue(
    session: AsyncSession,
    mail: OutgoingMail,
    *,
    now: datetime,
    ticket_id: int | None = None,
) -> bool:
    """Add `mail` unless a message with its key exists; True when it was added."""
    if await session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == mail.key)):
        return False
    try:
        async with session.begin_nested():
            session.add(
                OutboxMessage(
                    key=mail.key,
                    channel=mail.channel,
                    recipient=mail.recipient,
                    subject=mail.subject,
                    body=mail.body,
                    ticket_id=ticket_id,
                    state=PENDING,
                    attempts=0,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
        return True
    except IntegrityError:
        return False  # the same key added at the same moment by another transaction


def backoff(attempts: int) -> timedelta:
    """30 s after the first failure, doubling, at most an hour."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)


@dataclass(frozen=True)
class OutboxRow:
    """A message as the supervisors' page shows it."""

    id: int
    channel: str
    recipient: str
    subject: str
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None


class OutboxWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        gateway: MailGateway,
        sender: str,
        clock: Clock,
        *,
        idle_s: float = 30.0,
        sms: SMSGateway | None = None,
    ) -> None:
        self.sessions = sessions
        self.gateway = gateway
        self.sms = sms or NoSMSGateway()
        self.sender = sender
        self.clock = clock
        self.idle_s = idle_s
        self._wake = asyncio.Event()
        self.sent = 0
        self.failed = 0
        self.last_error: str | None = None

    def wake(self) -> None:
        """Something was enqueued: look now instead of at the next poll."""
        self._wake.set()

    async def _due(self, now: datetime) -> list[int]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(OutboxMessage.id)
                .where(
                    or_(
                        (OutboxMessage.state == PENDING) & (OutboxMessage.next_attempt_at <= now),
                        (OutboxMessage.state == SENDING) & (OutboxMessage.sending_until < now),
                    )
                )
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(50)
            )
            return list(rows)

    async def _claim(self, message_id: int, now: datetime) -> OutgoingMail | None:
        async with self.sessions.begin() as session:
            claimed = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == message_id,
                    or_(
                        OutboxMessage.state == PENDING,
                        (OutboxMessage.state == SENDING) & (OutboxMessage.sending_until < now),
                    ),
                )
                .values(state=SENDING, sending_until=now + CLAIM)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return None  # another worker has it
            row = await session.get_one(OutboxMessage, message_id)
            return OutgoingMail(row.key, row.recipient, row.subject, row.body, row.channel)

    async def _finish(
        self, message_id: int, error: str | None, gateway_id: str | None = None
    ) -> None:
        now = self.clock.now()
        async with self.sessions.begin() as session:
            row = await session.get_one(OutboxMessage, message_id)
            row.attempts += 1
            row.sending_until = None
            if error is None:
                row.state = SENT
                row.sent_at = now
                row.last_error = None
                row.gateway_id = gateway_id[:120] if gateway_id else None
            else:
                row.state = PENDING
                row.next_attempt_at = now + backoff(row.attempts)
                row.last_error = error[:500]

    async def send_due(self) -> int:
        """Send every message that is due now; returns how many were sent."""
        sent = 0
        for message_id in await self._due(self.clock.now()):
            mail = await self._claim(message_id, self.clock.now())
            if mail is None:
                continue
            gateway_id = None
            try:
                if mail.channel == SMS:
                    gateway_id = await self.sms.send_sms(mail)
                else:
                    await self.gateway.send(mail, self.sender)
            except DeliveryFailed as exc:
                self.failed += 1
                self.last_error = str(exc)
                log.warning(
                    "outbox: message %s to %s not sent: %s", message_id, mail.recipient, exc
                )
                await self._finish(message_id, str(exc))
                continue
            await self._finish(message_id, None, gateway_id)
            sent += 1
            self.sent += 1
        return sent

    async def _next_due_in(self) -> float:
        async with self.sessions() as session:
            first = await session.scalar(
                select(func.min(OutboxMessage.next_attempt_at)).where(
                    OutboxMessage.state == PENDING
                )
            )
        if first is None:
            return self.idle_s
        return max(0.0, min(self.idle_s, (first - self.clock.now()).total_seconds()))

    async def run(self) -> None:
        """Send, then wait until the next message is due, one is enqueued, or the poll comes."""
        while True:
            # cleared before looking: a message enqueued during the round wakes the next one
            self._wake.clear()
            try:
                await self.send_due()
                wait = await self._next_due_in()
            except Exception:  # the database away: the rows are safe, look again later
                log.exception("outbox: sending round failed")
                wait = self.idle_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)


async def outbox_rows(
    sessions: async_sessionmaker[AsyncSession], limit: int = 100
) -> tuple[dict[str, int], list[OutboxRow]]:
    """Counts by state and the latest messages, newest first."""
    async with sessions() as session:
        counts = dict(
            (state, int(n))
            for state, n in await session.execute(
                select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
            )
        )
        rows = await session.scalars(
            select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
        )
        return counts, [
            OutboxRow(
                r.id,
                r.channel,
                r.recipient,
                r.subject,
                r.state,
                r.attempts,
                r.created_at,
                r.next_attempt_at,
                r.sent_at,
                r.last_error,
            )
            for r in rows
        ]
