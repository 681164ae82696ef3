"""A person's requests sent through Open311 (agentdesk/open311: a portal or an app POSTed them):
the row of each request linked to one of their tickets, with the photo's address (`media_url`)
and the answers to the service's questions (`attributes`), which may show or name them. Their
contact (phone, e-mail, name) and the text are on the ticket and go with it. Read for an export;
the photo's address and the attributes cleared for an erasure or past the tickets' retention
(the row, its service, client and times stay for the statistics and a resent POST's lookup)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agentdesk.open311.models import Open311Request
from agentdesk.tickets.models import Ticket

CLEARED = {"media_url": None, "attributes": None}
_HOLDS_SOMETHING = or_(
    Open311Request.media_url.is_not(None), Open311Request.attributes.is_not(None)
)


async def requests_of(db: AsyncSession, ticket_ids: Iterable[int]) -> list[Open311Request]:
    query = select(Open311Request).where(Open311Request.ticket_id.in_(sorted(ticket_ids)))
    return list(await db.scalars(query.order_by(Open311Request.received_at, Open311Request.id)))


async def erase_requests(db: AsyncSession, ticket_ids: Iterable[int]) -> int:
    """Clear the requests of these tickets; returns how many held a photo or attributes."""
    cleared = await db.execute(
        update(Open311Request)
        .where(Open311Request.ticket_id.in_(sorted(ticket_ids)), _HOLDS_SOMETHING)
        .values(CLEARED)
    )
    return cleared.rowcount or 0  # type: ignore[attr-defined]


async def purge_requests(db: AsyncSession, tickets_before: datetime, held: Select[str]) -> int:
    """The requests of tickets older than `tickets_before` (none whose call's recording is
    held), as the tickets' identity."""
    old = select(Ticket.id).where(
        Ticket.created_at < tickets_before,
        or_(Ticket.call_id.is_(None), Ticket.call_id.not_in(held)),
    )
    cleared = await db.execute(
        update(Open311Request)
        .where(Open311Request.ticket_id.in_(old), _HOLDS_SOMETHING)
        .values(CLEARED)
    )
    return cleared.rowcount or 0  # type: ignore[attr-defined]
