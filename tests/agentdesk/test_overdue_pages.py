"""Units past their deadline on the supervisors' pages, /matters and the board: the matter, the
unit, the deadline day and how many business days late, with a fixed clock across Christmas."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from agentdesk.board import register_board_routes
from kck.clock import ManualClock
from kck.config_files import SHIPPED_CONFIG
from kck.db.models import Role
from tests.agentdesk.conftest import DeskWorld, sign_in
from tests.agentdesk.matters_app import matter_service, matters_app
from tests.agentdesk.test_unit_page import START, agent_saves_ticket
from tests.matters.world import ticket_form

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def client(
    world: DeskWorld,
    clock: ManualClock,
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
) -> Client:
    config = world.services.settings.config_dir
    config.mkdir(parents=True, exist_ok=True)
    shutil.copy(SHIPPED_CONFIG / "queues.yaml", config / "queues.yaml")  # the board's queues
    app = matters_app(world, matter_service(world, clock), clock)
    register_board_routes(app, min_interval_s=0.0)
    return await aiohttp_client(app)


async def supervisor_pages(client: Client) -> tuple[str, str]:
    matters = await client.get("/matters")
    board = await client.get("/board")
    assert matters.status == 200 and board.status == 200
    return await matters.text(), await board.text()


async def test_a_unit_past_its_deadline_shows_with_its_business_days_late(
    world: DeskWorld, client: Client, clock: ManualClock
) -> None:
    number = await agent_saves_ticket(world, client, units=["ZZM"])
    # forwarded Monday 7 December 2026; greenery: 14 business days (config/units.yaml), the
    # 14th is Tuesday 29 December (24–27 December skipped); on Monday 4 January 2027 it is
    # three business days late (30, 31 December, 4 January: New Year's Day and the weekend out)
    await world.add_user("kierownik", Role.SUPERVISOR, extension=None)
    client.session.cookie_jar.clear()
    await sign_in(client, "kierownik", extension="")
    clock.advance((datetime(2026, 12, 29, 22, 0, tzinfo=UTC) - START).total_seconds())
    for html in await supervisor_pages(client):
        assert 'id="no-overdue"' in html
    clock.advance((datetime(2027, 1, 4, 9, 0, tzinfo=UTC) - clock.now()).total_seconds())
    for html in await supervisor_pages(client):
        assert (
            f'<tr class="late"><td>{number}</td><td>Zarząd Zieleni Miejskiej</td>'
            '<td>2026-12-29</td>\n<td class="late-days">3</td>'
        ) in html


async def test_the_wall_shows_three_late_units_and_how_many_more_the_board_all(
    world: DeskWorld, client: Client, clock: ManualClock
) -> None:
    """The wall fits one screen (tests/board/test_board_browser.py): its late units are cut."""
    numbers = [await agent_saves_ticket(world, client, units=["ZZM"])]
    client.session.cookie_jar.clear()
    token = await sign_in(client, "anowak")
    for _ in range(4):
        saved = await client.post(
            "/api/tickets", json=ticket_form(units=["ZZM"]), headers={"X-CSRF-Token": token}
        )
        assert saved.status == 201, await saved.text()
        numbers.append(str((await saved.json())["number"]))
    await world.add_user("kierownik", Role.SUPERVISOR, extension=None)
    client.session.cookie_jar.clear()
    await sign_in(client, "kierownik", extension="")
    clock.advance((datetime(2027, 1, 4, 9, 0, tzinfo=UTC) - START).total_seconds())
    wall = await (await client.get("/board/wall")).text()
    board = await (await client.get("/board")).text()
    assert sum(f"<td>{n}</td>" in wall for n in numbers) == 3
    assert 'id="more-overdue"' in wall and "+ 2 więcej" in wall
    assert all(f"<td>{n}</td>" in board for n in numbers) and 'id="more-overdue"' not in board
