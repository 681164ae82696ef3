"""A unit officer's inbox: the matters of their units, overdue first, then the open ones by the
date they were forwarded, then those the unit has finished (answered, passed on), newest first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentdesk.tickets.models import Ticket, TicketUnit
from matters.lifecycle import UNIT_DONE, UnitStatus

# how long a unit has for its answer from forwarding (calendar days; the reminders with business
# days and holidays per unit and kind are another part of issue 15)
ANSWER_WITHIN = timedelta(days=14)
INBOX_LIMIT = 300


@dataclass(frozen=True)
class InboxRow:
    number: str
    unit: str
    unit_status: str
    category: str
    location: str
    forwarded_at: datetime | None
    due: datetime | None
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
    sessions: async_sessionmaker[AsyncSession], units: Iterable[str], now: datetime
) -> list[InboxRow]:
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
        for ticket, part in rows:
            due = part.forwarded_at + ANSWER_WITHIN if part.forwarded_at else None
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
                    open_ and due is not None and due <= now,
                )
            )
    return sorted(found, key=_order)
