"""A unit officer's inbox: the matters of their units, overdue first, then the open ones by the
date they were forwarded, then those the unit has finished (answered, passed on), newest first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentdesk.tickets.deadlines import deadline_day
from agentdesk.tickets.models import Ticket, TicketUnit
from agentdesk.tickets.units import DEFAULT_DEADLINE, CityUnits
from kck.business_days import BusinessCalendar
from matters.lifecycle import UNIT_DONE, UnitStatus

INBOX_LIMIT = 300


@dataclass(frozen=True)
class InboxRow:
    number: str
    unit: str
    unit_status: str
    category: str
    location: str
    forwarded_at: datetime | None
    due: date | None  # the deadline day (business days, config/units.yaml `deadlines`)
    overdue: bool

    @property
    def open(self) -> bool:
        return UnitStatus(self.unit_status) not in UNIT_DONE


def _order(row: InboxRow) -> tuple[int, float]:
    moment = row.forwarded_at.timestamp() if row.forwarded_at else 0.0
    if not row.open:
        return (2, -moment)
    return (0 if row.overdue else 1, moment)


async def unit_inbox(
    sessions: async_sessionmaker[AsyncSession],
    units: Iterable[str],
    now: datetime,
    *,
    rules: CityUnits,
    calendar: BusinessCalendar,
) -> list[InboxRow]:
    """The inbox of an officer of `units`; a part is overdue from the first business day after
    its deadline day, the same rule as the reminders (agentdesk/tickets/deadlines.py)."""
    codes = sorted(set(units))
    if not codes:
        return []
    async with sessions() as session:
        rows = await session.execute(
            select(Ticket, TicketUnit)
            .join(TicketUnit, TicketUnit.ticket_id == Ticket.id)
            .where(
                TicketUnit.unit_code.in_(codes),
                TicketUnit.status != UnitStatus.PENDING.value,
            )
            .order_by(TicketUnit.forwarded_at.desc())
            .limit(INBOX_LIMIT)
        )
        found = []
        today = calendar.local_date(now)
        for ticket, part in rows:
            due: date | None = None
            if part.forwarded_at is not None:
                unit = rules.get(part.unit_code)
                rule = unit.deadline if unit else DEFAULT_DEADLINE
                due = deadline_day(calendar, part.forwarded_at, rule.days_for(ticket.category))
            open_ = UnitStatus(part.status) not in UNIT_DONE
            found.append(
                InboxRow(
                    ticket.number,
                    part.unit_code,
                    part.status,
                    ticket.category,
                    ticket.location_text or "",
                    part.forwarded_at,
                    due,
                    open_ and due is not None and calendar.business_days_after(due, today) >= 1,
                )
            )
    return sorted(found, key=_order)
