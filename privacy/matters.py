"""A person in the matters' tables (matters/models.py): the steps of their matters
(`matter_events`, whose texts are the units' answers and questions and the reasons of reopening;
the last answer of each unit is on `ticket_units` too) and the outbox's messages of their tickets — the answers e-mailed to them (their address, the
answers' text) and the units' notices. Read for an export, cleared for an erasure or past the
tickets' retention; the rows, their states and counts stay."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agentdesk.tickets.models import Ticket, TicketUnit
from matters.models import MatterEvent, OutboxMessage
from matters.outbox import RESIDENT_KEY, SENT

ERASED_ADDRESS = "[erased]"
PURGED = "[usunięto po okresie przechowywania / cleared after retention]"
# a unit told what the resident answered to its question (agentdesk/tickets/matters.py)
UNIT_INFO_KEY = "unit-info:"


def _to_resident(emails: Iterable[str]) -> Any:
    """An outbox row addressed to the resident: its key says so, or it goes to one of `emails`."""
    lowered = sorted({e.strip().lower() for e in emails if "@" in e})
    return or_(
        OutboxMessage.key.startswith(RESIDENT_KEY), func.lower(OutboxMessage.recipient).in_(lowered)
    )


async def events_of(db: AsyncSession, ticket_ids: list[int]) -> list[MatterEvent]:
    query = select(MatterEvent).where(MatterEvent.ticket_id.in_(ticket_ids))
    return list(await db.scalars(query.order_by(MatterEvent.at, MatterEvent.id)))


async def messages_of(db: AsyncSession, ticket_ids: list[int]) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.ticket_id.in_(ticket_ids))
    return list(await db.scalars(query.order_by(OutboxMessage.created_at, OutboxMessage.id)))


def is_to_resident(message: OutboxMessage, emails: Iterable[str]) -> bool:
    lowered = {e.strip().lower() for e in emails}
    return message.key.startswith(RESIDENT_KEY) or message.recipient.lower() in lowered


async def unsent_to_resident(
    db: AsyncSession, ticket_ids: list[int], emails: Iterable[str]
) -> list[str]:
    """The keys of messages to the person that have not left yet (an erasure waits for them)."""
    query = select(OutboxMessage.key).where(
        OutboxMessage.ticket_id.in_(ticket_ids), OutboxMessage.state != SENT, _to_resident(emails)
    )
    return list(await db.scalars(query))


def _scrub(text: str | None, needles: list[str]) -> str | None:
    if text is None:
        return None
    for needle in sorted(needles, key=len, reverse=True):
        text = text.replace(needle, "[erased]")
    return text


async def erase_matters(
    db: AsyncSession, ticket_ids: list[int], identities: list[str], erased: str
) -> tuple[int, int]:
    """Clear the texts of the matters' steps and the units' answers on the tickets (`erased` in
    their place) and, in the outbox, the messages to the person (address and body) and any
    mention of them in the units' notices (a notice with the resident's answer to a unit's
    question, `unit-info:`, loses its body: the answer is the resident's own words). Returns how many steps and messages were changed."""
    await db.execute(
        update(TicketUnit)
        .where(TicketUnit.ticket_id.in_(ticket_ids), TicketUnit.answer.is_not(None))
        .values(answer=erased)
    )
    steps = await db.execute(
        update(MatterEvent)
        .where(MatterEvent.ticket_id.in_(ticket_ids), MatterEvent.detail.is_not(None))
        .values(detail=erased)
    )
    changed = 0
    for message in await messages_of(db, ticket_ids):
        before = (message.recipient, message.subject, message.body, message.last_error)
        if is_to_resident(message, identities):
            message.recipient, message.body = ERASED_ADDRESS, erased
        elif message.key.startswith(UNIT_INFO_KEY):  # the resident's own words, to the unit
            message.body = erased
        else:
            message.body = _scrub(message.body, identities) or ""
        message.subject = _scrub(message.subject, identities) or ""
        message.last_error = _scrub(message.last_error, identities)
        if (message.recipient, message.subject, message.body, message.last_error) != before:
            changed += 1
    return steps.rowcount or 0, changed  # type: ignore[attr-defined]


async def purge_outbox(db: AsyncSession, tickets_before: datetime, held: Select[str]) -> int:
    """The sent messages to residents of tickets older than `tickets_before` (none whose call's
    recording is held): address and body cleared, as the tickets' identity is."""
    old = select(Ticket.id).where(
        Ticket.created_at < tickets_before,
        or_(Ticket.call_id.is_(None), Ticket.call_id.not_in(held)),
    )
    cleared = await db.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.ticket_id.in_(old),
            OutboxMessage.key.startswith(RESIDENT_KEY),
            OutboxMessage.state == SENT,
            OutboxMessage.recipient != ERASED_ADDRESS,
        )
        .values(recipient=ERASED_ADDRESS, body=PURGED, last_error=None)
    )
    return cleared.rowcount or 0  # type: ignore[attr-defined]
