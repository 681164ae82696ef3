"""Service requests: a POST becomes a matter exactly as the desk makes one (the ticket form's
checks, `TicketStore`, `MatterService.forward`), and a matter reads back in Open311's terms.

Resent POSTs: a request carrying the client's own `client_request_id` that the client sent
before, or one with the same service, description and place from the same client within
`open311.resend_window_s`, answers with the first request's matter and makes no second one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from agentdesk.i18n import code_in_words, translate
from agentdesk.open311.clients import ApiClient
from agentdesk.open311.formats import Open311Error
from agentdesk.open311.models import Open311Request
from agentdesk.open311.service_types import (
    KIND_ATTRIBUTE,
    PLACE_ATTRIBUTE,
    PLACE_DETAIL_MAX,
    MatterKind,
    ServiceType,
)
from agentdesk.tickets.form import FieldError, TicketFormInvalid, parse_ticket_form
from agentdesk.tickets.kinds import TicketKind
from agentdesk.tickets.matters import MatterService
from agentdesk.tickets.models import Ticket
from agentdesk.tickets.store import TicketStore, TicketView
from agentdesk.tickets.units import CityUnits
from kck.settings import Open311Settings
from matters.lifecycle import MatterStatus, UnitStatus
from matters.models import MatterEvent

log = logging.getLogger(__name__)

# what the resident is told is "closed": the answer is on its way to them, or the centre closed it
CLOSED_STATUSES = frozenset({MatterStatus.RESIDENT_INFORMED.value, MatterStatus.CLOSED.value})
# a reservation of a resent request whose first POST never finished (the node died) is taken over
STALE_RESERVATION = timedelta(minutes=2)
CLIENT_ID_MAX = 100
MEDIA_URL_MAX = 500
# the ticket form's fields under their Open311 names, for the error descriptions
OPEN311_FIELDS = {
    "category": "service_code",
    "location_text": "address_string",
    "latitude": "lat",
    "longitude": "long",
    "description": "description",
    "caller_number": "phone",
    "caller_name": "first_name",
    "caller_email": "email",
    "contact_consent": "email",
    "units": "service_code",
}


# the Open311 `kind` attribute's values as the ticket's kinds
OPEN311_KINDS = {
    MatterKind.PROBLEM.value: TicketKind.REPORT,
    MatterKind.IDEA.value: TicketKind.IDEA,
    MatterKind.QUESTION.value: TicketKind.QUESTION,
    MatterKind.COMPLAINT.value: TicketKind.COMPLAINT,
}


@dataclass(frozen=True)
class Submission:
    """A POSTed request's fields, as sent (strings; `attributes` keyed by attribute code)."""

    service_code: str
    description: str = ""
    lat: str = ""
    long: str = ""
    address_string: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    media_url: str = ""
    attributes: Mapping[str, str] = dataclasses.field(default_factory=dict)
    client_request_id: str = ""
    locale: str = "pl"

    def fingerprint(self) -> str:
        """Service, text and place: what makes two POSTs the same report."""
        parts = (
            self.service_code,
            " ".join(self.description.split()).lower(),
            self.lat.strip(),
            self.long.strip(),
            " ".join(self.address_string.split()).lower(),
        )
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Accepted:
    number: str
    notice: str
    resent: bool  # the matter of an earlier POST of the same request
    ticket: TicketView | None = None  # the matter this POST made (none when resent)


@dataclass(frozen=True)
class RequestView:
    """A matter in Open311's terms (the spec's fields of GET requests)."""

    service_request_id: str
    status: str
    status_notes: str | None
    service_name: str
    service_code: str
    description: str
    agency_responsible: str | None
    requested_datetime: str
    updated_datetime: str
    address: str | None
    lat: float | None
    long: float | None
    media_url: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "service_request_id": self.service_request_id,
            "status": self.status,
            "status_notes": self.status_notes,
            "service_name": self.service_name,
            "service_code": self.service_code,
            "description": self.description,
            "agency_responsible": self.agency_responsible,
            "service_notice": None,
            "requested_datetime": self.requested_datetime,
            "updated_datetime": self.updated_datetime,
            "expected_datetime": None,
            "address": self.address,
            "address_id": None,
            "zipcode": None,
            "lat": self.lat,
            "long": self.long,
            "media_url": self.media_url,
        }


@dataclass(frozen=True)
class RequestQuery:
    """GET requests' filters (already parsed)."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()  # open, closed


def open311_status(matter_status: str) -> str:
    return "closed" if matter_status in CLOSED_STATUSES else "open"


class ServiceRequests:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        tickets: TicketStore,
        matters: MatterService,
        units: CityUnits,
        settings: Open311Settings,
    ) -> None:
        self.sessions = sessions
        self.tickets = tickets
        self.matters = matters
        self.units = units
        self.settings = settings
        self.tz = tickets.tz

    # -- POST requests -------------------------------------------------------------------------

    async def submit(
        self, client: ApiClient, service: ServiceType, sent: Submission, now: datetime
    ) -> Accepted:
        form_data = self._ticket_fields(service, sent)
        try:
            form = parse_ticket_form(form_data, self.units)
        except TicketFormInvalid as invalid:
            raise Open311Error(400, *self._field_errors(invalid.errors, sent.locale)) from None
        if len(service.units) > self.settings.max_units:
            # too many units to send a resident's report to all: an agent chooses
            form = dataclasses.replace(form, units=())
        earlier = await self._earlier(client, sent, now)
        if earlier is not None:
            return earlier
        reservation = await self._reserve(client, service, sent, now)
        if isinstance(reservation, Accepted):
            return reservation
        ticket = await self.tickets.create(form, created_by=None, now=now)
        async with self.sessions.begin() as session:
            row = await session.get(Open311Request, reservation)
            ticket_id = await session.scalar(
                select(Ticket.id).where(Ticket.number == ticket.number)
            )
            assert row is not None and ticket_id is not None
            row.ticket_id = ticket_id
            session.add(
                MatterEvent(
                    ticket_id=ticket_id,
                    action="created",
                    to_status=MatterStatus.NEW.value,
                    actor=client.source,
                    detail=f"Open311 {service.code}",
                    at=now,
                )
            )
        log.info("Open311 %s: request %s saved for %s", client.name, ticket.number, service.code)
        if form.units:
            try:
                await self.matters.forward(ticket.number, client.source)
            except Exception:
                # like the desk: the matter is saved and stays new, to be forwarded again
                log.exception("Open311 request %s saved but not forwarded", ticket.number)
        notice = self._notice(ticket.number, form.units, sent.locale)
        return Accepted(ticket.number, notice, False, ticket)

    def _ticket_fields(self, service: ServiceType, sent: Submission) -> dict[str, Any]:
        detail = sent.attributes.get(PLACE_ATTRIBUTE, "").strip()[:PLACE_DETAIL_MAX]
        place = ", ".join(p for p in (sent.address_string.strip(), detail) if p)
        if not place and sent.lat.strip() and sent.long.strip():
            place = f"{sent.lat.strip()}, {sent.long.strip()}"
        lines = [sent.description.strip()]
        kind = sent.attributes.get(KIND_ATTRIBUTE, "")
        if kind and kind != MatterKind.PROBLEM:
            lines.append(translate(sent.locale, f"citizen.open311.kind.{kind}"))
        if sent.media_url:
            lines.append(sent.media_url.strip())
        contact = bool(sent.email.strip() or sent.phone.strip())
        name = " ".join(p.strip() for p in (sent.first_name, sent.last_name) if p.strip())
        return {
            # an idea is grouped with the ideas like it; a question and a complaint go to the
            # units as such; a problem (or no kind) is a report at a place
            "kind": OPEN311_KINDS.get(kind, TicketKind.REPORT),
            "category": service.code,
            "location_text": place,
            "latitude": sent.lat,
            "longitude": sent.long,
            # the kind and the photo's address are for the unit, below the resident's words
            "description": "\n\n".join(line for line in lines if line) if lines[0] else "",
            "caller_number": sent.phone,
            # the name is kept only with a way to answer (the same consent as at the desk)
            "caller_name": name if contact else "",
            "caller_email": sent.email,
            # e-mail or phone given = consent to be answered that way
            "contact_consent": contact,
            "units": list(service.units),
            "language": sent.locale,
        }

    def _field_errors(self, errors: Iterable[FieldError], locale: str) -> list[str]:
        return [f"{OPEN311_FIELDS.get(e.field, e.field)}: {e.message(locale)}" for e in errors]

    def _notice(self, number: str, units: tuple[str, ...], locale: str) -> str:
        if not units:
            return translate(locale, "citizen.open311.notice.received", number=number)
        names = ", ".join(u.name(locale) for code in units if (u := self.units.get(code)))
        return translate(locale, "citizen.open311.notice.forwarded", number=number, units=names)

    async def _earlier(self, client: ApiClient, sent: Submission, now: datetime) -> Accepted | None:
        """The matter this same request made before (resent), if any."""
        query = select(Open311Request).where(Open311Request.client_id == client.id)
        if sent.client_request_id:
            query = query.where(Open311Request.client_request_id == sent.client_request_id)
        else:
            since = now - timedelta(seconds=self.settings.resend_window_s)
            query = query.where(
                Open311Request.fingerprint == sent.fingerprint(),
                Open311Request.received_at >= since,
                Open311Request.ticket_id.is_not(None),
            )
        async with self.sessions() as session:
            row = await session.scalar(query.order_by(Open311Request.id.desc()).limit(1))
            if row is None:
                return None
            if row.ticket_id is None:
                if now - row.received_at < STALE_RESERVATION:
                    raise Open311Error(409, translate(sent.locale, "open311.error.in_progress"))
                return None  # its first POST died half-way: _reserve takes the id over
            ticket = await session.get(Ticket, row.ticket_id, options=[selectinload(Ticket.units)])
            assert ticket is not None
            units = tuple(u.unit_code for u in ticket.units)
        log.info("Open311 %s: request resent, answered with %s", client.name, ticket.number)
        return Accepted(ticket.number, self._notice(ticket.number, units, sent.locale), True)

    async def _reserve(
        self, client: ApiClient, service: ServiceType, sent: Submission, now: datetime
    ) -> int | Accepted:
        """The request's row before its matter exists, so a concurrent resend with the same
        client id finds it (the unique key settles the race)."""
        try:
            async with self.sessions.begin() as session:
                if sent.client_request_id:
                    # only a reservation whose POST died long ago: a fresh one is another
                    # POST of this request still at work (the unique key then refuses ours)
                    await session.execute(
                        delete(Open311Request).where(
                            Open311Request.client_id == client.id,
                            Open311Request.client_request_id == sent.client_request_id,
                            Open311Request.ticket_id.is_(None),
                            Open311Request.received_at < now - STALE_RESERVATION,
                        )
                    )
                row = Open311Request(
                    client_id=client.id,
                    service_code=service.code,
                    client_request_id=sent.client_request_id or None,
                    fingerprint=sent.fingerprint(),
                    media_url=sent.media_url or None,
                    attributes=json.dumps(dict(sent.attributes), ensure_ascii=False)
                    if sent.attributes
                    else None,
                    received_at=now,
                )
                session.add(row)
                await session.flush()
                return row.id
        except IntegrityError:
            earlier = await self._earlier(client, sent, now)
            if earlier is None:
                raise Open311Error(
                    409, translate(sent.locale, "open311.error.in_progress")
                ) from None
            return earlier

    # -- GET requests ---------------------------------------------------------------------------

    async def find(self, number: str, locale: str) -> RequestView | None:
        found = await self.search(RequestQuery(ids=(number.strip().upper(),)), locale, now=None)
        return found[0] if found else None

    async def search(
        self, query: RequestQuery, locale: str, now: datetime | None
    ) -> list[RequestView]:
        """Matters that came through Open311, newest first; without ids or dates only the last
        `open311.default_days` (from `now`), at most `open311.max_requests`."""
        sql: Select[Ticket, Open311Request] = (
            select(Ticket, Open311Request)
            .join(Open311Request, Open311Request.ticket_id == Ticket.id)
            .options(selectinload(Ticket.units))
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(self.settings.max_requests)
        )
        if query.ids:
            sql = sql.where(Ticket.number.in_(query.ids))
        if query.service_codes:
            sql = sql.where(Ticket.category.in_(query.service_codes))
        start = query.start
        if start is None and not query.ids and now is not None:
            start = (query.end or now) - timedelta(days=self.settings.default_days)
        if start is not None:
            sql = sql.where(Ticket.created_at >= start)
        if query.end is not None:
            sql = sql.where(Ticket.created_at <= query.end)
        if set(query.statuses) == {"closed"}:
            sql = sql.where(Ticket.status.in_(CLOSED_STATUSES))
        elif set(query.statuses) == {"open"}:
            sql = sql.where(Ticket.status.not_in(CLOSED_STATUSES))
        async with self.sessions() as session:
            rows = [(t, r) for t, r in await session.execute(sql)]
            events = await self._last_events(session, [t.id for t, _ in rows])
        return [self._view(t, r, events.get(t.id), locale) for t, r in rows]

    async def _last_events(self, session: AsyncSession, ids: list[int]) -> dict[int, MatterEvent]:
        if not ids:
            return {}
        latest: dict[int, MatterEvent] = {}
        for event in await session.scalars(
            select(MatterEvent).where(MatterEvent.ticket_id.in_(ids)).order_by(MatterEvent.id)
        ):
            latest[event.ticket_id] = event
        return latest

    def _unit_name(self, code: str, locale: str) -> str:
        unit = self.units.get(code)
        return unit.name(locale) if unit else code

    def _notes(self, ticket: Ticket, last: MatterEvent | None, locale: str) -> str:
        """The latest step in words; once answered, the units' answers too."""
        words = code_in_words(locale, "matter.status", ticket.status)
        if last is not None and last.unit_code is not None and last.to_status:
            step = code_in_words(locale, "unit.status", last.to_status)
            words = f"{words} ({self._unit_name(last.unit_code, locale)}: {step})"
        if ticket.status in (*CLOSED_STATUSES, MatterStatus.ANSWERED.value):
            answers = [
                f"{self._unit_name(u.unit_code, locale)}: {u.answer}"
                for u in ticket.units
                if u.status == UnitStatus.ANSWERED and u.answer
            ]
            words = "\n".join([words, *answers])
        return words

    def _view(
        self, ticket: Ticket, request: Open311Request, last: MatterEvent | None, locale: str
    ) -> RequestView:
        updated = last.at if last is not None else ticket.created_at
        agencies = [
            self._unit_name(u.unit_code, locale)
            for u in ticket.units
            if u.status != UnitStatus.PASSED_ON
        ]
        return RequestView(
            service_request_id=ticket.number,
            status=open311_status(ticket.status),
            status_notes=self._notes(ticket, last, locale),
            service_name=translate(locale, f"category.{ticket.category}"),
            service_code=ticket.category,
            description=ticket.description,
            agency_responsible="; ".join(agencies) or None,
            requested_datetime=ticket.created_at.astimezone(self.tz).isoformat(),
            updated_datetime=updated.astimezone(self.tz).isoformat(),
            address=ticket.location_text,
            lat=ticket.latitude,
            long=ticket.longitude,
            media_url=request.media_url,
        )
