"""A unit's questions to the resident, read from the audit (`matter_events`): the open ones (the
unit's part is still `info_requested`) for /matters, the desk and the matter page, and the
questions and answers of one unit on one matter for its page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentdesk.tickets.matters import INFO_ANSWERED
from agentdesk.tickets.models import Ticket, TicketUnit
from matters.lifecycle import UnitStatus
from matters.models import MatterEvent

ASKED = UnitStatus.INFO_REQUESTED.value


@dataclass(frozen=True)
class OpenQuestion:
    number: str
    unit: str
    question: str
    asked_at: datetime


@dataclass(frozen=True)
class Exchange:
    """One line of a unit's conversation with the resident: its question or their answer."""

    at: datetime
    asked: bool  # True: the unit's question; False: the resident's answer
    text: str
    actor: str


async def open_questions(
    sessions: async_sessionmaker[AsyncSession], numbers: Iterable[str] | None = None
) -> list[OpenQuestion]:
    """The latest question of each unit still waiting for the resident, oldest first
    (`numbers`: only those matters)."""
    query = (
        select(Ticket.number, MatterEvent.unit_code, MatterEvent.detail, MatterEvent.at)
        .join(MatterEvent, MatterEvent.ticket_id == Ticket.id)
        .join(
            TicketUnit,
            (TicketUnit.ticket_id == Ticket.id) & (TicketUnit.unit_code == MatterEvent.unit_code),
        )
        .where(TicketUnit.status == ASKED, MatterEvent.action == ASKED)
        .order_by(MatterEvent.id)
    )
    if numbers is not None:
        query = query.where(Ticket.number.in_(list(numbers)))
    latest: dict[tuple[str, str], OpenQuestion] = {}
    async with sessions() as session:
        for number, unit, detail, at in await session.execute(query):
            latest[(number, unit or "")] = OpenQuestion(number, unit or "", detail or "", at)
    return sorted(latest.values(), key=lambda q: q.asked_at)


async def conversation(
    sessions: async_sessionmaker[AsyncSession], number: str, unit: str
) -> list[Exchange]:
    """The unit's questions on the matter and the resident's answers, in order."""
    async with sessions() as session:
        rows = await session.scalars(
            select(MatterEvent)
            .join(Ticket, Ticket.id == MatterEvent.ticket_id)
            .where(
                Ticket.number == number,
                MatterEvent.unit_code == unit,
                MatterEvent.action.in_([ASKED, INFO_ANSWERED]),
            )
            .order_by(MatterEvent.id)
        )
        return [Exchange(r.at, r.action == ASKED, r.detail or "", r.actor) for r in rows]
