"""A matter service on a real database, with the shipped units and a manual clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from agentdesk.tickets.form import parse_ticket_form
from agentdesk.tickets.matters import MatterMail, MatterService
from agentdesk.tickets.store import TicketStore
from agentdesk.tickets.units import BY_ACCOUNT, CityUnits, load_units
from kck.clock import ManualClock
from kck.config_files import SHIPPED_CONFIG
from kck.db import session_factory
from matters.links import LinkSigner

WARSAW = ZoneInfo("Europe/Warsaw")
START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
UNITS = load_units(SHIPPED_CONFIG / "units.yaml")
SIGNER = LinkSigner(b"a test secret that is long enough", timedelta(days=30))
MAIL = MatterMail("http://kck.test", "Kontakt Centrum Miasta", "+48126165555")


# a resident who agreed to SMS only: no name or e-mail kept
SMS_ONLY: dict[str, Any] = {
    "contact_consent": False,
    "caller_name": "",
    "caller_email": "",
    "sms_consent": True,
}


def ticket_form(**changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "category": "greenery",
        "location_text": "ul. Floriańska 1",
        "description": "Złamana gałąź nad chodnikiem",
        "caller_number": "600123456",
        "caller_name": "Anna Kowalska",
        "caller_email": "anna@example.org",
        "contact_consent": True,
        "units": ["ZZM", "SM"],
        "language": "pl",
    }
    form.update(changes)
    return form


async def new_matter(engine: AsyncEngine, clock: ManualClock, **changes: Any) -> str:
    store = TicketStore(session_factory(engine), WARSAW)
    saved = await store.create(
        parse_ticket_form(ticket_form(**changes), UNITS), created_by=None, now=clock.now()
    )
    return saved.number


def matter_service(
    engine: AsyncEngine, clock: ManualClock, units: CityUnits = UNITS
) -> MatterService:
    return MatterService(session_factory(engine), units, SIGNER, MAIL, clock)


def by_account(*codes: str) -> CityUnits:
    """The shipped units, `codes` working by account (an inbox) instead of by e-mail link."""
    return CityUnits(
        tuple(replace(u, works_by=BY_ACCOUNT) if u.code in codes else u for u in UNITS.units)
    )
