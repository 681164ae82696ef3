"""Saving and finding tickets: one transaction for number, ticket, units and the call link."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from agentdesk.tickets.form import TicketForm
from agentdesk.tickets.models import Ticket, TicketCounter, TicketUnit
from agentdesk.tickets.places import address_key
from kck.db.models import Call

log = logging.getLogger(__name__)

NUMBER_PREFIX = "KCK"


@dataclass(frozen=True)
class TicketView:
    """A saved ticket as pages and the pop show it."""

    number: str
    category: str
    location_text: str | None
    latitude: float | None
    longitude: float | None
    description: str
    caller_number: str | None
    caller_name: str | None
    caller_email: str | None
    contact_consent: bool
    units: tuple[str, ...]
    call_id: str | None
    created_at: datetime
    status: str
    created_by: int | None = None  # the user who wrote it
    unit_states: tuple[str, ...] = ()  # each unit's status, in the order of `units`
    sms_consent: bool = False
    kind: str = "report"  # agentdesk.tickets.kinds.TicketKind
    refer_to: str | None = None
    complaint_about: str | None = None


def format_number(year: int, sequence: int) -> str:
    """`KCK-2026-000123`: readable over the phone, sortable, unique per year."""
    return f"{NUMBER_PREFIX}-{year}-{sequence:06d}"


def ticket_view(ticket: Ticket) -> TicketView:
    return TicketView(
        number=ticket.number,
        category=ticket.category,
        location_text=ticket.location_text,
        latitude=ticket.latitude,
        longitude=ticket.longitude,
        description=ticket.description,
        caller_number=ticket.caller_number,
        caller_name=ticket.caller_name,
        caller_email=ticket.caller_email,
        contact_consent=ticket.contact_consent,
        units=tuple(u.unit_code for u in ticket.units),
        call_id=ticket.call_id,
        created_at=ticket.created_at,
        status=ticket.status,
        created_by=ticket.created_by,
        unit_states=tuple(u.status for u in ticket.units),
        sms_consent=ticket.sms_consent,
        kind=ticket.kind,
        refer_to=ticket.refer_to,
        complaint_about=ticket.complaint_about,
    )


async def _next_sequence(session: AsyncSession, year: int) -> int:
    # The row update takes the row lock on PostgreSQL (SQLite locks the database), so two
    # agents saving at once get different numbers; the insert race is settled by the primary key.
    for _ in range(3):
        result = await session.execute(
            update(TicketCounter)
            .where(TicketCounter.year == year)
            .values(last=TicketCounter.last + 1)
            .returning(TicketCounter.last)
        )
        got = result.scalar_one_or_none()
        if got is not None:
            return int(got)
        try:
            async with session.begin_nested():
                session.add(TicketCounter(year=year, last=1))
            return 1
        except IntegrityError:
            continue
    raise RuntimeError(f"could not reserve a ticket number for {year}")


class TicketStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], tz: ZoneInfo) -> None:
        self.sessions = sessions
        self.tz = tz

    async def create(
        self, form: TicketForm, *, created_by: int | None, now: datetime
    ) -> TicketView:
        """Number, ticket, its units and the link to the call, all or nothing."""
        year = now.astimezone(self.tz).year
        async with self.sessions.begin() as session:
            call_id = form.call_id
            if call_id is not None and await session.get(Call, call_id) is None:
                # The ticket matters more than the link: keep it, say so in the log.
                log.warning("ticket for unknown call %s saved without the call link", call_id)
                call_id = None
            sequence = await _next_sequence(session, year)
            ticket = Ticket(
                number=format_number(year, sequence),
                category=form.category.value,
                location_text=form.location_text,
                latitude=form.latitude,
                longitude=form.longitude,
                description=form.description,
                caller_number=form.caller_number,
                caller_name=form.caller_name if form.contact_consent else None,
                caller_email=form.caller_email if form.contact_consent else None,
                contact_consent=form.contact_consent,
                sms_consent=form.sms_consent,
                call_id=call_id,
                created_by=created_by,
                created_at=now,
                language=form.language,
                kind=form.kind.value,
                refer_to=form.refer_to,
                complaint_about=form.complaint_about,
                address_key=address_key(form.location_text),
                units=[TicketUnit(unit_code=code) for code in form.units],
            )
            session.add(ticket)
            await session.flush()
            return ticket_view(ticket)

    async def get(self, number: str) -> TicketView | None:
        async with self.sessions() as session:
            ticket = await session.scalar(
                select(Ticket)
                .where(Ticket.number == number.strip().upper())
                .options(selectinload(Ticket.units))
            )
            return ticket_view(ticket) if ticket else None

    async def for_caller(
        self, caller_number: str, since: datetime, limit: int = 10
    ) -> list[TicketView]:
        async with self.sessions() as session:
            tickets = await session.scalars(
                select(Ticket)
                .where(Ticket.caller_number == caller_number, Ticket.created_at >= since)
                .order_by(Ticket.created_at.desc())
                .limit(limit)
                .options(selectinload(Ticket.units))
            )
            return [ticket_view(t) for t in tickets]

    async def for_email(self, email: str, since: datetime, limit: int = 10) -> list[TicketView]:
        """The resident's matters by their e-mail (a non-voice matter's pop: docs/desk.md)."""
        async with self.sessions() as session:
            tickets = await session.scalars(
                select(Ticket)
                .where(func.lower(Ticket.caller_email) == email.strip().lower())
                .where(Ticket.created_at >= since)
                .order_by(Ticket.created_at.desc())
                .limit(limit)
                .options(selectinload(Ticket.units))
            )
            return [ticket_view(t) for t in tickets]

    async def for_call(self, call_id: str) -> list[TicketView]:
        async with self.sessions() as session:
            tickets = await session.scalars(
                select(Ticket)
                .where(Ticket.call_id == call_id)
                .order_by(Ticket.id)
                .options(selectinload(Ticket.units))
            )
            return [ticket_view(t) for t in tickets]


HISTORY_WINDOW = timedelta(days=90)
