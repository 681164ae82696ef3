"""In Debian's headless Chromium: the board updating while calls flow, a report with chart and CSV."""

from __future__ import annotations

import csv
import io
import os
import random
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, ViewportSize, async_playwright, expect
from sqlalchemy import select
from yaml import safe_load

from agentdesk.accounts import Accounts
from agentdesk.board.force import AUDIT_ACTION
from kck.clock import ShiftedClock, business_day_offset
from kck.config_files import SHIPPED_CONFIG
from kck.db.models import AgentStateLog, AuditEntry, Call, Role
from kck.services import Services
from tests.agentdesk.browser import CHROMIUM_ARGS
from tests.board.conftest import PASSWORD, add_users, build_board_app

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SCREENSHOT = SCREENSHOTS / "board.png"
WALL_SHOT = SCREENSHOTS / "board-wall.png"
AGENTS_YAML = SHIPPED_CONFIG / "agents.yaml"
QUEUES = tuple(q["id"] for q in safe_load((SHIPPED_CONFIG / "queues.yaml").read_text())["queues"])
DESKTOP: ViewportSize = {"width": 1600, "height": 1000}
FULL_HD: ViewportSize = {"width": 1920, "height": 1080}
STATES = ("available", "on_call", "on_call", "wrap_up", "paused", "offered")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.skip("Debian chromium is not installed")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


@pytest.fixture
def services(services: Services) -> Services:
    """On a working day's office hours, as `kck demo` runs: the board counts today's calls in
    Europe/Warsaw, and a busy morning of three hours must fall on today whenever the suite runs
    (CI at 00:05 in Kraków found the morning on yesterday's board)."""
    offset = business_day_offset(datetime.now(UTC), services.settings.tz)
    return replace(services, clock=ShiftedClock(offset))


@pytest.fixture
async def server(configured_services: Services) -> AsyncIterator[TestServer]:
    test_server = TestServer(build_board_app(configured_services))
    await test_server.start_server()
    yield test_server
    await test_server.close()


async def signed_in_page(
    browser: Browser,
    server: TestServer,
    services: Services,
    viewport: ViewportSize = DESKTOP,
) -> Page:
    await Accounts(services.sessions).add(
        "sylwia", PASSWORD, Role.SUPERVISOR, display_name="Sylwia K."
    )
    page = await browser.new_page(viewport=viewport, accept_downloads=True)
    await page.goto(str(server.make_url("/login")))
    await page.fill("#username", "sylwia")
    await page.fill("#password", PASSWORD)
    await page.click("#login-submit")
    await page.wait_for_load_state()
    return page


async def docs_screenshot(page: Page, name: str) -> None:
    """docs/screenshots/<name>, refreshed on request only (KCK_UPDATE_SCREENSHOTS=1)."""
    if os.environ.get("KCK_UPDATE_SCREENSHOTS") == "1":
        await page.screenshot(path=str(SCREENSHOTS / name))


async def busy_morning(services: Services, agents: dict[str, int], calls: int) -> None:
    """A few hundred calls of this morning and agents in every state."""
    rng = random.Random(55)
    now = services.clock.now()
    async with services.sessions.begin() as session:
        for n in range(calls):
            queued = now - timedelta(seconds=rng.uniform(120, 3 * 3600))
            wait = rng.choice([rng.uniform(2, 20), rng.uniform(5, 150)])
            answered = rng.random() < 0.85
            session.add(
                Call(
                    uniqueid=f"m.{n}",
                    arrived_at=queued - timedelta(seconds=20),
                    queued_at=queued,
                    answered_at=queued + timedelta(seconds=wait) if answered else None,
                    ended_at=queued
                    + timedelta(seconds=wait + (rng.uniform(60, 300) if answered else 0)),
                    queue=rng.choice(QUEUES),
                    outcome="answered" if answered else "abandoned",
                    wrapup_outcome=rng.choice(["resolved_first_line"] * 3 + ["ticket_created"])
                    if answered
                    else None,
                )
            )
        for index, user_id in enumerate(agents.values()):
            state = STATES[index % len(STATES)]
            # a morning of talk, wrap-up and short idle gaps, then the current state
            moment = now - timedelta(hours=2)
            while moment < now - timedelta(minutes=16):
                for step, length in (("available", 40), ("on_call", 240), ("wrap_up", 30)):
                    session.add(AgentStateLog(agent_id=user_id, state=step, at=moment))
                    moment += timedelta(seconds=length * rng.uniform(0.5, 1.5))
            session.add(
                AgentStateLog(
                    agent_id=user_id,
                    state=state,
                    reason="break" if state == "paused" else None,
                    at=now - timedelta(seconds=rng.uniform(5, 900)),
                )
            )


async def test_board_updates_live_while_calls_flow(
    browser: Browser, server: TestServer, services: Services, tmp_path: Path
) -> None:
    names = [f"konsultant{n:02d}" for n in range(1, 19)]
    agents = await add_users(services, *names)
    await busy_morning(services, agents, calls=300)
    page = await signed_in_page(browser, server, services)
    await page.goto(str(server.make_url("/board")))
    await expect(page.locator("#link")).to_have_class("link up")
    await expect(page.locator('#totals [data-k="offered"]')).to_have_text("300")
    await expect(page.locator("#agents tbody tr")).to_have_count(18)

    # Calls keep arriving: each waits in a queue, the router says so on `stats`.
    now = services.clock.now()
    async with services.sessions.begin() as session:
        for n in range(7):
            session.add(
                Call(
                    uniqueid=f"w.{n}",
                    arrived_at=now - timedelta(seconds=40 + 10 * n),
                    queued_at=now - timedelta(seconds=30 + 10 * n),
                    queue=QUEUES[n % 3],
                )
            )
    await services.bus.broadcast("stats", "snapshot", {"at": now.isoformat()})
    await expect(page.locator('#totals [data-k="offered"]')).to_have_text("307")
    await expect(page.locator('#totals [data-k="waiting"]')).to_have_text("7")
    await expect(page.locator('#queues tr[data-queue="citizens_affairs"] td.hot')).to_have_text("3")

    # An agent goes on a call: the row changes at once and its time in state starts ticking.
    await services.bus.broadcast(
        "agents",
        "agent_state",
        {"agent": "konsultant01", "state": "on_call", "reason": None, "since": now.isoformat()},
    )
    row = page.locator('#agents tr[data-agent="konsultant01"]')
    await expect(row).to_have_class("state on_call")
    first = await row.locator("td.since").text_content()
    await expect(row.locator("td.since")).not_to_have_text(first or "")

    # Service level below target is coloured.
    sl_box = page.locator('#totals [data-sl="today"]')
    assert await sl_box.get_attribute("class") in {"below", "ok"}

    # docs/screenshots/board.png is refreshed on request only (KCK_UPDATE_SCREENSHOTS=1).
    shot = SCREENSHOT if os.environ.get("KCK_UPDATE_SCREENSHOTS") == "1" else tmp_path / "board.png"
    await page.screenshot(path=str(shot), full_page=True)  # the board page, with its controls
    assert shot.stat().st_size > 10_000
    await page.goto(str(server.make_url("/board/wall")))
    await expect(page.locator('#totals [data-k="offered"]')).to_have_text("307")
    await expect(page.locator("form")).to_have_count(0)


async def test_supervisor_forces_a_state_only_after_choosing_and_confirming_it(
    browser: Browser, server: TestServer, services: Services
) -> None:
    agents = await add_users(services, "anna", "bartek")
    await busy_morning(services, agents, calls=5)
    page = await signed_in_page(browser, server, services)
    await page.goto(str(server.make_url("/board")))
    row = page.locator('#agents tr[data-agent="bartek"]')
    dialog = page.locator("#force-dialog")
    await expect(row).to_have_count(1)
    before = await row.get_attribute("class")

    # No state is chosen beforehand: the button alone opens nothing and changes nothing.
    await expect(row.locator("select")).to_have_value("")
    await row.locator("button").click()
    await expect(dialog).to_be_hidden()

    # A pause: the dialog names the agent and the state, and wants a reason.
    await row.locator("select").select_option("paused")
    await row.locator("button").click()
    await expect(dialog).to_be_visible()
    await expect(page.locator("#force-question")).to_have_text(
        "Zmienić stan konsultanta Bartek (bartek) na przerwa?"
    )
    await page.click("#force-ok")
    await expect(page.locator("#force-error")).to_have_text("Wybierz powód przerwy.")
    await page.select_option("#force-reason", "training")
    await expect(page.locator("#force-error")).to_be_hidden()
    await docs_screenshot(page, "board-force.png")
    await page.click("#force-ok")
    await expect(dialog).to_be_hidden()
    await expect(row).to_have_class("state paused")
    await expect(row.locator("td").nth(2)).to_have_text("szkolenie")

    # Cancelled: nothing happens.
    await row.locator("select").select_option("logged_out")
    await row.locator("button").click()
    await expect(page.locator('#force-question b[data-f="state"]')).to_have_text("wylogowany")
    await page.click("#force-cancel")
    await expect(dialog).to_be_hidden()
    await expect(row).to_have_class("state paused")
    assert before != "state paused"

    async with services.sessions() as session:
        entries = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == AUDIT_ACTION))
        ).all()
    assert [(e.actor, e.target, e.details["to"], e.details["reason"]) for e in entries] == [
        ("sylwia", "bartek", "paused", "training")
    ]


async def test_wall_mode_fits_one_full_hd_screen_with_the_demo_team(
    browser: Browser, server: TestServer, services: Services, tmp_path: Path
) -> None:
    team = [agent["username"] for agent in safe_load(AGENTS_YAML.read_text())["agents"]]
    await busy_morning(services, await add_users(services, *team), calls=300)
    now = services.clock.now()
    async with services.sessions.begin() as session:
        for n in range(9):  # callers waiting now, in every queue
            session.add(
                Call(
                    uniqueid=f"w.{n}",
                    arrived_at=now - timedelta(seconds=50 + 10 * n),
                    queued_at=now - timedelta(seconds=40 + 10 * n),
                    queue=QUEUES[n % len(QUEUES)],
                )
            )
        for n in range(12):  # more failed callbacks than the wall has room for
            session.add(
                Call(
                    uniqueid=f"f.{n}",
                    arrived_at=now - timedelta(minutes=90 - n),
                    ended_at=now - timedelta(minutes=60 - n),
                    caller_number=f"+4860010{n:04d}",
                    queue=QUEUES[n % len(QUEUES)],
                    outcome="callback_failed",
                    hangup_cause="NOANSWER",
                )
            )
    page = await signed_in_page(browser, server, services, viewport=FULL_HD)
    await page.goto(str(server.make_url("/board/wall")))
    await expect(page.locator('#totals [data-k="offered"]')).to_have_text("309")
    await expect(page.locator("#agents tbody tr")).to_have_count(len(team))
    await expect(page.locator("#failed-callbacks tbody tr")).to_have_count(4)
    await expect(page.locator("#more-failed-callbacks")).to_have_text("+ 8 więcej")
    why = page.locator("#failed-callbacks tbody tr").first.locator("td").nth(3)
    await expect(why).to_have_text("nie odebrano")  # the code in words (the catalogue's)
    await expect(why).to_have_attribute("title", "NOANSWER")

    shot = WALL_SHOT if os.environ.get("KCK_UPDATE_SCREENSHOTS") == "1" else tmp_path / "wall.png"
    await page.screenshot(path=str(shot))
    height, width = await page.evaluate(
        "() => [document.documentElement.scrollHeight, document.documentElement.scrollWidth]"
    )
    assert height <= FULL_HD["height"] and width <= FULL_HD["width"], (width, height)
    for key in ("waiting", "longest", "sl", "sl30", "asa", "abandon", "offered", "answered"):
        await expect(page.locator(f'#totals [data-k="{key}"]')).to_be_in_viewport()
    await expect(page.locator("#queues tbody tr").last).to_be_in_viewport()
    await expect(page.locator("#agents tbody tr").last).to_be_in_viewport()
    await expect(page.locator("#failed-callbacks tbody tr").last).to_be_in_viewport()
    assert shot.stat().st_size > 10_000


async def test_supervisor_lands_on_a_home_that_leads_to_board_and_reports(
    browser: Browser, server: TestServer, services: Services
) -> None:
    page = await signed_in_page(browser, server, services)
    await expect(page).to_have_url(str(server.make_url("/supervisor")))
    nav = page.locator("nav.topnav a")
    await expect(nav).to_have_text(
        ["Start", "Tablica", "Tryb ścienny", "Raporty", "Redakcja", "Stan systemu"]
    )
    await expect(page.locator("#home-cards a")).to_have_text(
        ["Tablica", "Tryb ścienny", "Raporty", "Redakcja", "Stan systemu"]
    )
    await docs_screenshot(page, "supervisor-home.png")
    await page.click("#home-cards a[data-card='/reports']")
    await expect(page).to_have_url(re.compile(r"/reports$"))
    await expect(page.locator("nav.topnav a[aria-current=page]")).to_have_text("Raporty")
    await expect(page.locator("#table-daily th").first).to_have_text("Dzień")
    await page.click("#lang-switch")
    await expect(page.locator("#table-daily th").first).to_have_text("Day")
    await page.click("nav.topnav a[data-nav='/board']")
    await expect(page.locator("nav.topnav a[aria-current=page]")).to_have_text("Wall board")
    await expect(page.locator("#link")).to_have_class("link up")
    await expect(page.locator("#link")).to_have_text("live")  # the board speaks English too
    await expect(page.locator("#agents th").nth(3)).to_have_text("Time in state")


async def test_report_shows_its_charts_and_downloads_csv(
    browser: Browser, server: TestServer, services: Services, tmp_path: Path
) -> None:
    agents = await add_users(services, "anna")
    await busy_morning(services, agents, calls=120)
    today = services.clock.now().astimezone(services.settings.tz).date().isoformat()
    page = await signed_in_page(browser, server, services)
    await page.goto(str(server.make_url(f"/reports?from={today}&to={today}")))

    for chart in ("calls_per_hour", "service_level_per_hour", "waits"):
        svg = page.locator(f"#chart-{chart} svg")
        await expect(svg).to_be_visible()
    assert await page.locator("#chart-calls_per_hour svg rect").count() > 3
    await expect(page.locator("#total-offered")).to_have_text("120")

    async with page.expect_download() as info:
        await page.click("#table-daily a.csv")
    download = await info.value
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert download.suggested_filename == f"kck_daily_{today}.csv"
    assert rows[0]["day"] == today and rows[0]["offered"] == "120"
