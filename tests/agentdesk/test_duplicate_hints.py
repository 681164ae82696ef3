"""The duplicate hint and the idea topics over HTTP, on SQLite and on PostgreSQL: open matters
of the same category at the same address or within 50 m, the caller attached to one of them
(another resident, audited, no new matter) and told with the first resident when the answer goes
out; similar ideas for a new idea and the topic group on the unit page."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from agentdesk.tickets.matters import MatterService, UnitAction
from agentdesk.tickets.models import Ticket
from kck.clock import ManualClock
from matters.links import UnitGrant
from matters.models import MatterEvent, MatterResident
from tests.agentdesk.conftest import DeskWorld, sign_in
from tests.agentdesk.matters_app import link_path, matter_service, matters_app, outbox
from tests.matters.world import ticket_form

Client = TestClient[web.Request, web.Application]
START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
TOWER = (50.06170, 19.93655)  # the Town Hall Tower on the Main Market Square


@pytest.fixture(params=["sqlite", "postgres"])
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The desk's database (the fixture's name is the desk's): a migrated SQLite copy, or a
    PostgreSQL database made from the migrated template."""
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    path = tmp_path / "kck.db"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def matters(world: DeskWorld, clock: ManualClock) -> MatterService:
    return matter_service(world, clock)


@pytest.fixture
async def agent(
    world: DeskWorld,
    clock: ManualClock,
    matters: MatterService,
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
) -> tuple[Client, str]:
    client = await aiohttp_client(matters_app(world, matters, clock))
    await world.add_user("anowak")
    return client, await sign_in(client, "anowak")


async def save(agent: tuple[Client, str], **changes: Any) -> str:
    client, token = agent
    response = await client.post(
        "/api/tickets", json=ticket_form(**changes), headers={"X-CSRF-Token": token}
    )
    assert response.status == 201, await response.text()
    return str((await response.json())["number"])


async def nearby(agent: tuple[Client, str], **query: str) -> list[dict[str, Any]]:
    response = await agent[0].get("/api/desk/nearby-matters", params=query)
    assert response.status == 200
    return list((await response.json())["matters"])


async def attach(agent: tuple[Client, str], number: str, **fields: Any) -> tuple[int, Any]:
    client, token = agent
    body = {
        "caller_number": "601 234 567",
        "caller_name": "Jan Nowak",
        "caller_email": "jan@example.org",
        "contact_consent": True,
        "language": "en",
        **fields,
    }
    response = await client.post(
        f"/api/tickets/{number}/residents", json=body, headers={"X-CSRF-Token": token}
    )
    return response.status, await response.json()


async def count_tickets(world: DeskWorld) -> int:
    async with world.services.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(Ticket)) or 0)


def grant(number: str, unit: str) -> UnitGrant:
    return UnitGrant(number, unit, START + timedelta(days=30))


async def test_an_open_matter_at_the_same_address_written_otherwise_is_shown(
    agent: tuple[Client, str],
) -> None:
    number = await save(agent, location_text="ul. Floriańska 3")
    await save(agent, category="roads_pavements", location_text="Floriańska 3", units=["ZDMK"])

    [found] = await nearby(agent, category="greenery", location_text="FLORIANSKA 3, Kraków")
    assert found["number"] == number
    assert found["same_address"] is True and found["distance_m"] is None
    assert found["why"] == "ten sam adres"
    assert found["status_text"] == "przekazana do jednostek"
    assert found["residents"] == 1
    assert await nearby(agent, category="greenery", location_text="ul. Floriańska 5") == []
    assert await nearby(agent, category="waste", location_text="ul. Floriańska 3") == []


async def test_an_open_matter_within_50_m_is_shown_and_one_farther_is_not(
    agent: tuple[Client, str],
) -> None:
    lat, lon = TOWER
    number = await save(agent, location_text="Rynek Główny", latitude=lat, longitude=lon)
    # 0.0004° of latitude is 44 m, 0.0005° is 56 m
    [found] = await nearby(
        agent, category="greenery", latitude=f"{lat + 0.0004}", longitude=f"{lon}"
    )
    assert found["number"] == number and found["distance_m"] == 44
    assert found["why"] == "44 m stąd" and found["same_address"] is False
    far = await nearby(agent, category="greenery", latitude=f"{lat + 0.0005}", longitude=f"{lon}")
    assert far == []


async def test_a_matter_already_answered_is_not_offered(
    agent: tuple[Client, str], matters: MatterService
) -> None:
    number = await save(agent, units=["ZZM"])
    assert len(await nearby(agent, category="greenery", location_text="ul. Floriańska 1")) == 1
    await matters.unit_act(grant(number, "ZZM"), UnitAction.ANSWER, "Usuniemy jutro.")
    assert await nearby(agent, category="greenery", location_text="ul. Floriańska 1") == []
    status, body = await attach(agent, number)
    assert status == 409
    assert body["message"].startswith(f"Sprawa {number} jest już w stanie")


async def test_the_attached_caller_is_another_resident_audited_and_gets_the_answer_once(
    world: DeskWorld, agent: tuple[Client, str], matters: MatterService
) -> None:
    number = await save(agent)
    before = await count_tickets(world)

    status, body = await attach(agent, number)
    assert status == 201, body
    assert body["residents"] == 2 and body["already"] is False
    assert body["message"].startswith(f"Dzwoniący dołączony do sprawy {number}")
    status, again = await attach(agent, number, caller_number="601234567")
    assert status == 200 and again["already"] is True and again["residents"] == 2
    # the same address as the first resident's: stored, but written to once
    status, _ = await attach(
        agent, number, caller_number="602000000", caller_email="ANNA@example.org"
    )
    assert status == 201

    assert await count_tickets(world) == before  # no new matter
    async with world.services.sessions() as db:
        residents = list(await db.scalars(select(MatterResident).order_by(MatterResident.id)))
        events = list(
            await db.scalars(select(MatterEvent).where(MatterEvent.action == "resident_attached"))
        )
    assert [(r.caller_number, r.name, r.email, r.language) for r in residents] == [
        ("+48601234567", "Jan Nowak", "jan@example.org", "en"),
        ("+48602000000", "Jan Nowak", "ANNA@example.org", "en"),
    ]
    assert [(e.actor, e.detail) for e in events] == [
        ("agent:anowak", f"resident {residents[0].id}"),
        ("agent:anowak", f"resident {residents[1].id}"),
    ]
    [shown] = await nearby(agent, category="greenery", location_text="ul. Floriańska 1")
    assert shown["residents"] == 3
    zzm = next(m for m in await outbox(world) if m.recipient == "kck-zzm@krakow.example")
    unit_page = await (await agent[0].get(link_path(zzm.body))).text()
    assert 'Mieszkańcy w tej sprawie</dt><dd id="unit-residents">3</dd>' in unit_page
    assert "Jan Nowak" not in unit_page and "jan@example.org" not in unit_page

    await matters.unit_act(grant(number, "ZZM"), UnitAction.ANSWER, "Gałąź usuniemy do piątku.")
    state = await matters.unit_act(grant(number, "SM"), UnitAction.ANSWER, "Sprawdzimy chodnik.")
    assert state.status == "resident_informed"
    told = [m for m in await outbox(world) if m.key.startswith("resident:")]
    assert sorted((m.recipient, m.key) for m in told) == [
        ("anna@example.org", f"resident:{number}:1"),
        ("jan@example.org", f"resident:{number}:1:r{residents[0].id}"),
    ]
    jan = next(m for m in told if m.recipient == "jan@example.org")
    assert "Gałąź usuniemy do piątku." in jan.body and "Sprawdzimy chodnik." in jan.body
    assert jan.subject.startswith("Answer")  # his language, English


async def test_a_resident_attached_without_consent_keeps_only_the_number_and_is_not_written_to(
    world: DeskWorld, agent: tuple[Client, str], matters: MatterService
) -> None:
    number = await save(
        agent, caller_email="", caller_name="", contact_consent=False, units=["ZZM"]
    )
    status, body = await attach(agent, number, caller_name="Jan", contact_consent=False)
    assert status == 422
    assert body["errors"]["contact_consent"].startswith("Dane kontaktowe zapisujemy tylko za zgodą")
    status, _ = await attach(agent, number, caller_name="", caller_email="", contact_consent=False)
    assert status == 201
    state = await matters.unit_act(grant(number, "ZZM"), UnitAction.ANSWER, "Usuniemy.")
    assert state.status == "answered"  # nobody to write to: the agent calls back
    assert [m for m in await outbox(world) if m.key.startswith("resident:")] == []


async def test_attaching_to_a_matter_that_does_not_exist_is_a_404(
    agent: tuple[Client, str],
) -> None:
    status, body = await attach(agent, "KCK-2026-999999")
    assert status == 404 and body["error"] == "not_found"


IDEAS = (
    "Proszę wydłużyć linię 52 do Bronowic Małych",
    "Przedłużenie autobusu 52 aż do pętli w Bronowicach",
    "Skrócenie linii nr 52, bo za Bronowicami jeździ pusta",
    "Nowy przystanek przy ul. Lubicz",
)


async def save_ideas(agent: tuple[Client, str]) -> list[str]:
    return [
        await save(
            agent,
            kind="idea",
            category="transport",
            location_text="",
            description=text,
            units=["ZTP"],
        )
        for text in IDEAS
    ]


async def test_a_new_idea_shows_the_ideas_on_its_topic_with_both_sides_counted(
    agent: tuple[Client, str],
) -> None:
    numbers = await save_ideas(agent)
    response = await agent[0].get(
        "/api/desk/similar-ideas",
        params={"category": "transport", "description": "Zlikwidować linię 52 do Bronowic"},
    )
    body = await response.json()
    # as many words in common each: the newest first
    assert [s["number"] for s in body["similar"]] == numbers[2::-1]
    assert [s["side"] for s in body["similar"]] == ["against", "for", "for"]
    assert body["counts"] == {"for": 2, "against": 2, "neither": 0}
    assert body["counts_text"] == "Za: 2 · przeciw: 2 · inne: 0"
    assert body["hint"] == "Podobne pomysły: 3 (wspólne słowa: 52, Bronowic)."
    # a report is never an idea's neighbour, an idea never a report's duplicate
    other = await agent[0].get(
        "/api/desk/similar-ideas", params={"category": "greenery", "description": "linia 52"}
    )
    assert (await other.json())["similar"] == []


async def test_the_unit_page_of_an_idea_shows_its_topic_with_both_sides_and_counts(
    world: DeskWorld, agent: tuple[Client, str]
) -> None:
    numbers = await save_ideas(agent)
    notice = next(
        m
        for m in await outbox(world)
        if m.recipient.startswith("kck-ztp") and numbers[2] in m.subject
    )
    agent[0].session.cookie_jar.clear()  # the unit is nobody signed in
    page = await agent[0].get(link_path(notice.body))
    html = await page.text()
    assert page.status == 200
    assert "Pomysły na ten sam temat" in html
    assert 'id="topic-for">za (dodać, wydłużyć, zwiększyć): <span class="count">2</span>' in html
    assert (
        'id="topic-against">przeciw (usunąć, skrócić, zmniejszyć): <span class="count">1</span>'
        in html
    )
    assert f"<b>{numbers[0]}</b> {IDEAS[0]}" in html
    assert f'<li class="this"><b>{numbers[2]}</b>' in html
    assert numbers[3] not in html  # the stop on Lubicz is another topic
