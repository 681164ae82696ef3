"""Which units are late with a matter, by how many business days, and what has been done about
it (reminded, escalated): read from the tickets' units and the matters' audit.

A unit's part is due `deadline` business days after the day it was forwarded (that day not
counted, Europe/Warsaw); it is overdue from the first business day after that, and `days_late`
counts the business days since the deadline day up to today. A part is open while the unit has
neither answered nor passed the matter on (asking for more information does not stop the clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentdesk.tickets.models import Ticket, TicketUnit
from agentdesk.tickets.units import DEFAULT_DEADLINE, CityUnits, UnitDeadline
from kck.business_days import BusinessCalendar
from matters.lifecycle import UnitStatus
from matters.models import MatterEvent

OPEN_PARTS = (UnitStatus.FORWARDED, UnitStatus.RECEIVED, UnitStatus.INFO_REQUESTED)
REMINDED = "unit_reminded"  # matter_events.action of a reminder sent to a unit
ESCALATED = "unit_escalated"  # … and of an escalation


@dataclass(frozen=True)
class LatePart:
    """A unit past its deadline on a matter."""

    ticket_id: int
    number: str
    category: str
    unit_code: str
    forwarded_at: datetime
    deadline_day: date
    days_late: int
    reminders: int  # sent since this forwarding
    escalated: bool
    rule: UnitDeadline

    @property
    def escalation_due(self) -> bool:
        return self.days_late >= 1 + self.rule.escalate_after


def deadline_day(calendar: BusinessCalendar, forwarded_at: datetime, days: int) -> date:
    return calendar.add_business_days(calendar.local_date(forwarded_at), days)


async def late_parts(
    sessions: async_sessionmaker[AsyncSession],
    units: CityUnits,
    calendar: BusinessCalendar,
    now: datetime,
) -> list[LatePart]:
    """Every open unit part past its deadline at `now`, the latest first."""
    today = calendar.local_date(now)
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Ticket.id, Ticket.number, Ticket.category, TicketUnit)
                .join(TicketUnit, TicketUnit.ticket_id == Ticket.id)
                .where(
                    TicketUnit.status.in_([s.value for s in OPEN_PARTS]),
                    TicketUnit.forwarded_at.is_not(None),
                )
            )
        ).all()
        late: list[LatePart] = []
        for ticket_id, number, category, part in rows:
            forwarded_at = part.forwarded_at
            assert forwarded_at is not None  # the query's condition
            unit = units.get(part.unit_code)
            rule = unit.deadline if unit else DEFAULT_DEADLINE
            due = deadline_day(calendar, forwarded_at, rule.days_for(category))
            days_late = calendar.business_days_after(due, today)
            if days_late < 1:
                continue
            actions = list(
                await session.scalars(
                    select(MatterEvent.action).where(
                        MatterEvent.ticket_id == ticket_id,
                        MatterEvent.unit_code == part.unit_code,
                        MatterEvent.action.in_([REMINDED, ESCALATED]),
                        MatterEvent.at >= forwarded_at,
                    )
                )
            )
            late.append(
                LatePart(
                    ticket_id,
                    number,
                    category,
                    part.unit_code,
                    forwarded_at,
                    due,
                    days_late,
                    actions.count(REMINDED),
                    ESCALATED in actions,
                    rule,
                )
            )
    late.sort(key=lambda p: (-p.days_late, p.number, p.unit_code))
    return late
