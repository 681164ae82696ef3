"""A person as another resident of a matter (`matter_residents`: a caller attached to an open
matter at the desk): their number, name and e-mail cleared for an erasure or past the tickets'
retention, with the answers e-mailed to them; the rows stay, so the matter keeps its count."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agentdesk.tickets.models import Ticket
from matters.models import MatterResident, OutboxMessage
from matters.outbox import RESIDENT_KEY, SENT
from privacy.matters import ERASED_ADDRESS, PURGED

IDENTITY_CLEARED = {"caller_number": None, "name": None, "email": None}


async def _clear(db: AsyncSession, residents: list[int], body: str, *, sent_only: bool) -> None:
    """The residents' identity, and the answers e-mailed to them (their key ends in `:r<id>`)."""
    if not residents:
        return
    await db.execute(
        update(MatterResident).where(MatterResident.id.in_(residents)).values(**IDENTITY_CLEARED)
    )
    to_them = or_(*(OutboxMessage.key.endswith(f":r{r}") for r in residents))
    where = [OutboxMessage.key.startswith(RESIDENT_KEY), to_them]
    if sent_only:
        where.append(OutboxMessage.state == SENT)
    await db.execute(
        update(OutboxMessage)
        .where(*where)
        .values(recipient=ERASED_ADDRESS, body=body, last_error=None)
    )


async def residents_of(db: AsyncSession, identities: Iterable[str]) -> list[MatterResident]:
    """Every attached resident with one of the person's numbers, e-mails or names (as
    `privacy.person.Footprint.identities` has them)."""
    values = sorted({i.strip() for i in identities if i.strip()})
    lowered = sorted({v.lower() for v in values})
    query = select(MatterResident).where(
        or_(
            MatterResident.caller_number.in_(values),
            func.lower(MatterResident.email).in_(lowered),
            func.lower(MatterResident.name).in_(lowered),
        )
    )
    return list(await db.scalars(query.order_by(MatterResident.id)))


async def erase_residents(db: AsyncSession, identities: Iterable[str], erased: str) -> int:
    """Clear every attached resident of the person (`residents_of`); returns how many."""
    found = [r.id for r in await residents_of(db, identities)]
    await _clear(db, found, erased, sent_only=False)
    return len(found)


async def purge_residents(db: AsyncSession, tickets_before: datetime, held: Select[str]) -> int:
    """The attached residents of tickets older than `tickets_before` (none whose call's recording
    is held) lose their identity, as the tickets' first callers do."""
    old = select(Ticket.id).where(
        Ticket.created_at < tickets_before,
        or_(Ticket.call_id.is_(None), Ticket.call_id.not_in(held)),
    )
    found = list(
        await db.scalars(
            select(MatterResident.id).where(
                MatterResident.ticket_id.in_(old),
                or_(
                    MatterResident.caller_number.is_not(None),
                    MatterResident.name.is_not(None),
                    MatterResident.email.is_not(None),
                ),
            )
        )
    )
    await _clear(db, found, PURGED, sent_only=True)
    return len(found)
