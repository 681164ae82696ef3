"""A caller attached to an open matter instead of a new one: stored as another resident of the
matter (name and e-mail only with consent), audited in `matter_events`, and told with the first
resident when the matter's answer goes out (`agentdesk.tickets.matters`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentdesk.tickets.form import ResidentContact
from agentdesk.tickets.models import Ticket
from agentdesk.tickets.nearby import OPEN_STATES
from kck.db.models import Call
from matters.models import MatterEvent, MatterResident

ATTACHED = "resident_attached"  # the audit's action


class MatterClosedToResidents(ValueError):
    """The matter is no longer waiting for its answer: a new caller would never hear it."""

    def __init__(self, number: str, status: str) -> None:
        super().__init__(f"matter {number} is {status}: no resident can be attached to it")
        self.number = number
        self.status = status


@dataclass(frozen=True)
class Attached:
    number: str
    resident_id: int
    residents: int  # the first caller and every one attached, this one included
    already: bool  # the same caller was attached before: nothing new was stored


def _same_caller(row: MatterResident, contact: ResidentContact) -> bool:
    if contact.caller_email and row.email:
        return row.email.lower() == contact.caller_email.lower()
    return contact.caller_number is not None and row.caller_number == contact.caller_number


class ResidentRoll:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def attach(
        self,
        number: str,
        contact: ResidentContact,
        *,
        call_id: str | None,
        actor: str,
        now: datetime,
    ) -> Attached | None:
        """Attach the caller to matter `number` (None: no such matter). The same caller twice
        is stored once."""
        async with self.sessions.begin() as session:
            ticket = await session.scalar(
                select(Ticket).where(Ticket.number == number.strip().upper()).with_for_update()
            )
            if ticket is None:
                return None
            if ticket.status not in {s.value for s in OPEN_STATES}:
                raise MatterClosedToResidents(ticket.number, ticket.status)
            rows = list(
                await session.scalars(
                    select(MatterResident).where(MatterResident.ticket_id == ticket.id)
                )
            )
            earlier = next((r for r in rows if _same_caller(r, contact)), None)
            if earlier is not None:
                return Attached(ticket.number, earlier.id, 1 + len(rows), already=True)
            if call_id is not None and await session.get(Call, call_id) is None:
                call_id = None
            resident = MatterResident(
                ticket_id=ticket.id,
                caller_number=contact.caller_number,
                name=contact.caller_name if contact.contact_consent else None,
                email=contact.caller_email if contact.contact_consent else None,
                contact_consent=contact.contact_consent,
                language=contact.language,
                call_id=call_id,
                attached_by=actor,
                attached_at=now,
            )
            session.add(resident)
            await session.flush()
            session.add(
                MatterEvent(
                    ticket_id=ticket.id,
                    action=ATTACHED,
                    actor=actor,
                    # no personal data in the audit: the resident's row says who
                    detail=f"resident {resident.id}" + (f", call {call_id}" if call_id else ""),
                    at=now,
                )
            )
            return Attached(ticket.number, resident.id, 2 + len(rows), already=False)

    async def count(self, number: str) -> int:
        """How many residents a matter has besides its first caller."""
        async with self.sessions() as session:
            found = await session.scalar(
                select(func.count())
                .select_from(MatterResident)
                .join(Ticket, Ticket.id == MatterResident.ticket_id)
                .where(Ticket.number == number.strip().upper())
            )
            return int(found or 0)
