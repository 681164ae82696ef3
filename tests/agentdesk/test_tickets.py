"""Ticket form validation, numbering, the call link and lookup (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from agentdesk.tickets.form import TicketFormInvalid, parse_ticket_form
from agentdesk.tickets.models import Ticket
from agentdesk.tickets.store import TicketStore
from agentdesk.tickets.units import UnitsFileError, load_units
from kck.config_files import SHIPPED_CONFIG
from kck.db import session_factory
from kck.db.models import Call
from tests.agentdesk.conftest import Client, DeskWorld, sign_in

UNITS = load_units(SHIPPED_CONFIG / "units.yaml")
WARSAW = ZoneInfo("Europe/Warsaw")


def good_form(**changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "category": "greenery",
        "location_text": "ul. Lubicz 12, przy przystanku",
        "description": "Złamany konar drzewa leży na chodniku, blokuje przejście.",
        "caller_number": "600 123 456",
        "contact_consent": False,
        "units": ["ZZM"],
    }
    form.update(changes)
    return form


def errors_of(data: dict[str, Any], language: str = "pl") -> dict[str, str]:
    with pytest.raises(TicketFormInvalid) as caught:
        parse_ticket_form(data, UNITS)
    return caught.value.messages(language)


def test_shipped_units_file_lists_twenty_city_units() -> None:
    assert len(UNITS.units) == 20
    assert [u.code for u in UNITS.for_category("greenery")][:1] == ["ZZM"]


def test_units_file_with_unknown_category_names_file_line_and_unit(tmp_path: Any) -> None:
    path = tmp_path / "units.yaml"
    path.write_text("units:\n  - code: ZZM\n    name: {pl: Zieleń}\n    categories: [trees]\n")
    with pytest.raises(UnitsFileError, match=r"units.yaml:4:.*ZZM.*unknown category 'trees'"):
        load_units(path)


def test_valid_form_is_normalised_to_e164_and_trimmed() -> None:
    form = parse_ticket_form(good_form(location_text="  ul. Lubicz 12  "), UNITS)
    assert form.caller_number == "+48600123456"
    assert form.location_text == "ul. Lubicz 12"
    assert form.units == ("ZZM",)


def test_empty_form_names_every_missing_field_in_polish() -> None:
    errors = errors_of({})
    assert errors["category"] == "To pole jest wymagane."
    assert errors["description"] == "To pole jest wymagane."


def test_greenery_ticket_without_a_place_says_why_the_place_is_needed_in_english() -> None:
    errors = errors_of(good_form(location_text=""), "en")
    assert errors == {
        "location_text": "Give the place (address or description) — the unit cannot find the problem without it."
    }


def test_transport_ticket_needs_no_place_and_out_of_competence_needs_no_unit() -> None:
    parse_ticket_form(good_form(category="transport", location_text="", units=["ZTP"]), UNITS)
    form = parse_ticket_form(
        good_form(category="out_of_competence", location_text="", units=[]), UNITS
    )
    assert form.units == ()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"latitude": "50.06"}, "longitude", "Podaj obie współrzędne albo żadnej."),
        (
            {"latitude": "abc", "longitude": "19.9"},
            "latitude",
            "Współrzędna musi być liczbą, np. 50.0614.",
        ),
        (
            {"latitude": "40.0", "longitude": "19.9"},
            "latitude",
            "Współrzędne poza Polską — sprawdź szerokość (49–55) i długość (14–24.2).",
        ),
        ({"description": "krótko"}, "description", "Co najmniej 10 znaków."),
        (
            {"caller_number": "12"},
            "caller_number",
            "Nieprawidłowy numer telefonu, np. 12 616 55 55 lub +48 601 234 567.",
        ),
        (
            {"caller_email": "jan@", "contact_consent": True},
            "caller_email",
            "Nieprawidłowy adres e-mail.",
        ),
        (
            {"caller_number": "", "contact_consent": True},
            "contact_consent",
            "Zgoda na kontakt wymaga numeru telefonu lub adresu e-mail.",
        ),
        (
            {"caller_name": "Jan Kowalski"},
            "contact_consent",
            "Dane kontaktowe zapisujemy tylko za zgodą — zaznacz zgodę albo usuń dane.",
        ),
        ({"units": []}, "units", "Wybierz co najmniej jedną jednostkę miejską."),
        ({"units": ["ZZM", "NASA"]}, "units", "Nieznana jednostka: NASA."),
        ({"category": "weather"}, "category", "Wybierz kategorię z listy."),
    ],
)
def test_each_bad_field_gets_its_own_message(
    changes: dict[str, Any], field: str, message: str
) -> None:
    assert errors_of(good_form(**changes))[field] == message


def test_coordinates_with_a_comma_are_accepted() -> None:
    form = parse_ticket_form(good_form(latitude="50,0647", longitude="19,9450"), UNITS)
    assert (form.latitude, form.longitude) == (50.0647, 19.945)


async def test_tickets_are_numbered_per_year_without_gaps_or_duplicates(
    engine: AsyncEngine,
) -> None:
    store = TicketStore(session_factory(engine), WARSAW)
    form = parse_ticket_form(good_form(), UNITS)
    new_year_eve = datetime(2026, 12, 31, 22, 59, tzinfo=UTC)  # 23:59 in Warsaw
    first = await store.create(form, created_by=None, now=new_year_eve)
    at_once = await asyncio.gather(
        *(store.create(form, created_by=None, now=new_year_eve) for _ in range(5))
    )
    next_year = await store.create(
        form, created_by=None, now=datetime(2026, 12, 31, 23, 1, tzinfo=UTC)
    )
    assert first.number == "KCK-2026-000001"
    assert sorted(t.number for t in at_once) == [f"KCK-2026-00000{i}" for i in range(2, 7)]
    assert next_year.number == "KCK-2027-000001"


async def test_ticket_is_saved_with_its_units_and_call_link_and_found_by_number(
    engine: AsyncEngine,
) -> None:
    sessions = session_factory(engine)
    async with sessions.begin() as db:
        db.add(Call(id="c" * 32, uniqueid="1.1", caller_number="+48600123456"))
    store = TicketStore(sessions, WARSAW)
    form = parse_ticket_form(good_form(call_id="c" * 32, units=["ZZM", "SM"]), UNITS)
    saved = await store.create(form, created_by=None, now=datetime.now(UTC))
    found = await store.get(saved.number.lower())
    assert found is not None
    assert found.call_id == "c" * 32
    assert found.units == ("SM", "ZZM")
    assert [t.number for t in await store.for_call("c" * 32)] == [saved.number]


async def test_ticket_for_a_call_not_in_the_database_is_kept_without_the_link(
    engine: AsyncEngine,
) -> None:
    store = TicketStore(session_factory(engine), WARSAW)
    form = parse_ticket_form(good_form(call_id="f" * 32), UNITS)
    saved = await store.create(form, created_by=None, now=datetime.now(UTC))
    assert saved.call_id is None
    assert await store.get(saved.number) is not None


async def test_agent_saves_a_ticket_and_looks_it_up(world: DeskWorld, client: Client) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    agent = await world.accounts.get("anowak")
    assert agent is not None
    call_id = await world.store_call(agent_id=agent.id)  # a call anowak took
    response = await client.post(
        "/api/tickets", json=good_form(call_id=call_id), headers={"X-CSRF-Token": token}
    )
    assert response.status == 201, await response.text()
    body = await response.json()
    year = datetime.now(WARSAW).year
    assert body["number"] == f"KCK-{year}-000001"
    assert body["message"] == f"Zapisano zgłoszenie KCK-{year}-000001"
    looked_up = await client.get(f"/api/tickets/{body['number']}")
    data = await looked_up.json()
    assert data["units"] == [
        {
            "code": "ZZM",
            "name": "Zarząd Zieleni Miejskiej",
            "status": "pending",
            "status_text": "czeka na przekazanie",
        }
    ]
    assert data["call_id"] == call_id
    async with world.services.sessions() as db:
        ticket = await db.scalar(select(Ticket).where(Ticket.number == body["number"]))
    assert ticket is not None and ticket.created_by is not None
    missing = await client.get("/api/tickets/KCK-2020-999999")
    assert missing.status == 404
    assert (await missing.json())["message"] == "Nie ma zgłoszenia KCK-2020-999999."


async def test_invalid_ticket_is_refused_with_messages_per_field_in_english(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    client.session.cookie_jar.update_cookies({"kck_lang": "en"})
    response = await client.post(
        "/api/tickets",
        json=good_form(description="", units=["XYZ"]),
        headers={"X-CSRF-Token": token},
    )
    assert response.status == 422
    body = await response.json()
    assert body["errors"] == {
        "description": "This field is required.",
        "units": "Unknown unit: XYZ.",
    }
    async with world.services.sessions() as db:
        assert (await db.scalars(select(Ticket))).first() is None


async def test_ticket_body_that_is_not_json_gets_a_clear_400(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    response = await client.post(
        "/api/tickets",
        data="category=greenery",
        headers={"X-CSRF-Token": token, "Content-Type": "application/json"},
    )
    assert response.status == 400
    assert "not JSON" in await response.text()
