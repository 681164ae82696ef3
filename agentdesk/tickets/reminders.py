"""Reminders and escalation of late units: a round (`Reminders.run`) finds every unit past its
deadline (`agentdesk.tickets.deadlines`), e-mails the unit a reminder with a fresh link to the
matter, and `escalate_after` business days later e-mails the unit's escalation address and marks
the matter escalated — each step audited in `matter_events` and its e-mail put in the outbox in
the same transaction, with a key per matter, unit, forwarding and reminder number, so a round run
twice (or by two nodes) sends nothing twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentdesk.tickets.deadlines import ESCALATED, REMINDED, LatePart, late_parts
from agentdesk.tickets.matters import MatterMail, signed_unit_link, unit_link
from agentdesk.tickets.models import Ticket, TicketUnit
from agentdesk.tickets.units import CityUnits
from kck.business_days import BusinessCalendar
from kck.clock import Clock
from matters.links import LinkSigner
from matters.models import MatterEvent
from matters.outbox import OutgoingMail, enqueue
from matters.reminder_texts import late_unit_mail

log = logging.getLogger(__name__)

SYSTEM = "system"


@dataclass(frozen=True)
class RoundResult:
    reminded: int = 0
    escalated: int = 0


class Reminders:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        units: CityUnits,
        signer: LinkSigner,
        mail: MatterMail,
        clock: Clock,
        calendar: BusinessCalendar,
        on_enqueued: Callable[[], None] = lambda: None,
    ) -> None:
        self.sessions = sessions
        self.units = units
        self.signer = signer
        self.mail = mail
        self.clock = clock
        self.calendar = calendar
        self.on_enqueued = on_enqueued

    async def run(self) -> RoundResult:
        """One round: remind and escalate every late unit that is due for it."""
        now = self.clock.now()
        reminded = escalated = 0
        for part in await late_parts(self.sessions, self.units, self.calendar, now):
            if part.reminders == 0 and await self._step(part, REMINDED, now):
                reminded += 1
            if (
                part.escalation_due
                and not part.escalated
                and await self._step(part, ESCALATED, now)
            ):
                escalated += 1
        if reminded or escalated:
            log.info("deadlines: %d unit(s) reminded, %d escalated", reminded, escalated)
            self.on_enqueued()
        return RoundResult(reminded, escalated)

    async def _step(self, part: LatePart, action: str, now: datetime) -> bool:
        """Audit and e-mail one reminder or escalation, unless the part has moved on since it
        was read or the step is already done (another round): then nothing."""
        async with self.sessions.begin() as session:
            ticket = await session.scalar(
                select(Ticket).where(Ticket.id == part.ticket_id).with_for_update(of=Ticket)
            )
            unit_part = await session.get(TicketUnit, (part.ticket_id, part.unit_code))
            if ticket is None or unit_part is None or unit_part.forwarded_at != part.forwarded_at:
                return False
            done = await session.scalar(
                select(MatterEvent.id).where(
                    MatterEvent.ticket_id == part.ticket_id,
                    MatterEvent.unit_code == part.unit_code,
                    MatterEvent.action == action,
                    MatterEvent.at >= part.forwarded_at,
                )
            )
            if done is not None:
                return False
            mails = self._mails(part, action, now)
            added = [await enqueue(session, m, now=now, ticket_id=part.ticket_id) for m in mails]
            if mails and not any(added):
                return False  # another round got there first (its keys are in the outbox)
            detail = f"{part.days_late} business day(s) past the deadline {part.deadline_day}"
            session.add(
                MatterEvent(
                    ticket_id=part.ticket_id,
                    unit_code=part.unit_code,
                    action=action,
                    from_status=unit_part.status,
                    to_status=unit_part.status,
                    actor=SYSTEM,
                    detail=detail,
                    at=now,
                )
            )
        log.info("matter %s, unit %s: %s (%s)", part.number, part.unit_code, action, detail)
        return True

    def _mails(self, part: LatePart, action: str, now: datetime) -> list[OutgoingMail]:
        unit = self.units.get(part.unit_code)
        if unit is None:
            return []  # a unit removed from units.yaml since: audited, nobody to write to
        reminder = action == REMINDED
        # the unit is reminded the way it works; its supervisors get the page's signed link
        if reminder:
            where = unit_link(self.mail, self.signer, part.number, unit, now)
        else:
            where = signed_unit_link(self.mail, self.signer, part.number, unit.code, now)
        subject, body = late_unit_mail(
            "reminder" if reminder else "escalation",
            number=part.number,
            unit_name=unit.name_pl,
            category=part.category,
            deadline=part.deadline_day.isoformat(),
            late=part.days_late,
            link=where.url,
        )
        addresses = unit.emails if reminder else unit.deadline.escalation_emails
        kind = "remind" if reminder else "escalate"
        forwarded = int(part.forwarded_at.timestamp())
        # one reminder per forwarding today (number 1); the key leaves room for the next ones
        number = 1
        return [
            OutgoingMail(
                f"{kind}:{part.number}:{unit.code}:{address}:{forwarded}:{number}",
                address,
                subject,
                body,
            )
            for address in addresses
        ]
