"""Unit accounts over HTTP: a unit working by account gets an e-mail pointing to its inbox (no
link key); its officer signs in, sees only their units' matters, takes the steps of the unit page
through the same life cycle, and is refused (403) another unit's matter and the centre's pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from agentdesk.accounts import AccountError
from agentdesk.tickets.matters import MatterService, UnitAction
from kck.clock import ManualClock
from kck.db.models import Role
from matters.links import UnitGrant
from matters.models import MatterEvent
from tests.agentdesk.conftest import PASSWORD, DeskWorld, sign_in
from tests.agentdesk.matters_app import (
    by_account,
    matter_service,
    outbox,
)
from tests.matters.world import ticket_form

Client = TestClient[web.Request, web.Application]
START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
OFFICER = "zzm.officer"


@pytest.fixture
def matters(world: DeskWorld, clock: ManualClock) -> MatterService:
    return matter_service(world, clock, by_account("ZZM"))


class Agent:
    """anowak at the desk, saving tickets (the same one session for each)."""

    def __init__(self, world: DeskWorld, client: Client) -> None:
        self.world = world
        self.client = client
        self.token = ""

    async def saves(self, **changes: object) -> str:
        if not self.token:
            await self.world.add_user("anowak")
            self.token = await sign_in(self.client, "anowak")
        response = await self.client.post(
            "/api/tickets", json=ticket_form(**changes), headers={"X-CSRF-Token": self.token}
        )
        assert response.status == 201, await response.text()
        return str((await response.json())["number"])


async def add_officer(
    world: DeskWorld, name: str = OFFICER, units: tuple[str, ...] = ("ZZM",)
) -> None:
    await world.accounts.add(name, PASSWORD, Role.UNIT, extension=None, units=units)


async def test_only_the_role_unit_has_units_and_it_needs_at_least_one(world: DeskWorld) -> None:
    with pytest.raises(AccountError, match="needs its units' codes"):
        await world.accounts.add("nounits", PASSWORD, Role.UNIT)
    with pytest.raises(AccountError, match="only the role 'unit' takes --units"):
        await world.accounts.add("agentzzm", PASSWORD, Role.AGENT, units=["ZZM"])
    await add_officer(world, "two.units", ("zzm", "SM"))
    assert await world.accounts.unit_codes("two.units") == {"SM", "ZZM"}
    assert await world.accounts.unit_codes("agentzzm") == frozenset()


async def test_an_officer_sees_only_their_units_matters_and_takes_the_unit_pages_steps(
    world: DeskWorld, unit_client: Client, clock: ManualClock
) -> None:
    agent = Agent(world, unit_client)
    greenery = await agent.saves(units=["ZZM"])
    clock.advance(60)
    roads = await agent.saves(units=["SM"], description="Dziura w jezdni")
    notices = {m.recipient: m for m in await outbox(world)}
    zzm = notices["kck-zzm@krakow.example"].body
    assert "http://kck.test/unit/inbox" in zzm and "/unit/matter/" not in zzm  # no link key
    assert "/unit/matter/" in notices["kck-sm@krakow.example"].body  # SM still works by link

    await add_officer(world)
    unit_client.session.cookie_jar.clear()
    token = await sign_in(unit_client, OFFICER, extension="")
    inbox = await unit_client.get("/unit/inbox")
    html = await inbox.text()
    assert inbox.status == 200 and inbox.url.path == "/unit/inbox"
    assert greenery in html and roads not in html
    assert "Zarząd Zieleni Miejskiej" in html and "przekazana, bez potwierdzenia" in html

    # another unit's matter, or the officer's unit on a matter not theirs: refused
    assert (await unit_client.get(f"/unit/inbox/{roads}/SM")).status == 403
    assert (await unit_client.get(f"/unit/inbox/{greenery}/SM")).status == 403
    assert (await unit_client.get(f"/unit/inbox/{roads}/ZZM")).status == 404
    step = {"csrf_token": token, "action": "received"}
    assert (await unit_client.post(f"/unit/inbox/{roads}/SM", data=step)).status == 403
    # and the centre's pages
    for path in ("/desk", "/matters", f"/api/tickets/{roads}", f"/matters/{greenery}"):
        assert (await unit_client.get(path)).status == 403, path

    page = await unit_client.get(f"/unit/inbox/{greenery}/ZZM")
    html = await page.text()
    assert page.status == 200 and "Złamana gałąź nad chodnikiem" in html
    assert "600123456" not in html and "anna@example.org" not in html  # never the contact data
    assert "Anna Kowalska" in html  # she agreed to share her name
    forged = {"action": "received"}
    assert (await unit_client.post(f"/unit/inbox/{greenery}/ZZM", data=forged)).status == 403
    done = await unit_client.post(f"/unit/inbox/{greenery}/ZZM", data=step)
    assert done.status == 200 and done.url.query.get("done") == "received"
    assert "Zapisano: przyjęta przez jednostkę." in await done.text()
    answer = {"csrf_token": token, "action": "answer", "text": "Gałąź usunięta."}
    await unit_client.post(f"/unit/inbox/{greenery}/ZZM", data=answer)

    async with world.services.sessions() as db:
        events = (await db.scalars(select(MatterEvent).order_by(MatterEvent.id))).all()
    assert [(e.action, e.actor) for e in events if e.unit_code == "ZZM"][-2:] == [
        ("received", "unit:ZZM"),
        ("answered", "unit:ZZM"),
    ]
    [resident] = [m for m in await outbox(world) if m.recipient == "anna@example.org"]
    assert "Gałąź usunięta." in resident.body
    html = await (await unit_client.get("/unit/inbox")).text()
    assert "odpowiedź udzielona" in html


async def test_overdue_matters_come_first_in_the_inbox_and_finished_ones_last(
    world: DeskWorld, unit_client: Client, clock: ManualClock, matters: MatterService
) -> None:
    agent = Agent(world, unit_client)
    finished = await agent.saves(units=["ZZM"])
    await matters.unit_act(UnitGrant(finished, "ZZM", START), UnitAction.ANSWER, "Zrobione.")
    clock.advance(60)
    overdue = await agent.saves(units=["ZZM"])
    # more than the 14 business days a unit has (24–26 December are holidays in between)
    clock.advance(25 * 86400)
    fresh = await agent.saves(units=["ZZM"])
    await add_officer(world)
    unit_client.session.cookie_jar.clear()
    await sign_in(unit_client, OFFICER, extension="")
    html = await (await unit_client.get("/unit/inbox")).text()
    assert html.index(overdue) < html.index(fresh) < html.index(finished)
    assert html.count("po terminie") == 1  # the finished one is older, but done
