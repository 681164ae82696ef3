"""The desk driven as an agent drives it: real Chromium, real server, Redis and SQLite."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from agentdesk.app import DeskParts, create_app
from agentdesk.keys import knowledge_key
from agentdesk.tickets.models import Ticket
from agentdesk.tickets.units import load_units
from kck.config_files import SHIPPED_CONFIG
from kck.db.models import Call, Role
from kck.health import fixed_health
from tests.agentdesk.browser import DESK_VIEWPORT, chromium, serve, watch_for_broken_scripts
from tests.agentdesk.conftest import PASSWORD, DeskWorld, on_manual_clock, routing_request

pytestmark = pytest.mark.browser
SCREENSHOTS = os.environ.get("KCK_DESK_SCREENSHOTS")  # a folder: the tests also save screenshots


@pytest.fixture
async def desk_url(world: DeskWorld) -> AsyncIterator[str]:
    runner, port = await serve(world.app)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def page(desk_url: str) -> AsyncIterator[Page]:
    async with chromium() as browser:
        context = await browser.new_context(viewport=DESK_VIEWPORT, locale="pl-PL")
        page = await context.new_page()
        errors = watch_for_broken_scripts(page)  # CSP refusals too
        yield page
        await context.close()
        assert errors == [], f"script errors on the desk: {errors}"  # a broken script fails loudly


async def sign_in(
    page: Page, url: str, username: str, password: str = PASSWORD, extension: str = "101"
) -> None:
    await page.goto(f"{url}/login")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.fill("#extension", extension)
    await page.press("#extension", "Enter")


async def sign_in_available(world: DeskWorld, page: Page, url: str) -> None:
    """anowak signs in and goes available."""
    await world.add_user("anowak")
    await sign_in(page, url, "anowak")
    await expect(page.locator("#conn")).to_have_attribute("data-up", "1")
    await page.click("#btn-available")
    await expect(page.locator("#state-badge")).to_have_attribute("data-state", "available")


async def shot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        await page.screenshot(path=str(Path(SCREENSHOTS) / name))


async def test_agent_takes_a_call_from_pop_to_ticket_to_wrap_up_and_back_to_available(
    world: DeskWorld, desk_url: str, page: Page
) -> None:
    await world.add_user("anowak")
    await sign_in(page, desk_url, "anowak")
    await expect(page).to_have_url(f"{desk_url}/desk")
    badge = page.locator("#state-badge")
    await expect(badge).to_have_attribute("data-state", "paused")
    await expect(page.locator("#conn")).to_have_attribute("data-up", "1")
    await page.keyboard.press("Alt+a")  # keyboard: go available
    await expect(badge).to_have_attribute("data-state", "available")

    caller = "+48600123456"
    earlier = datetime.now(UTC) - timedelta(days=6)
    await world.store_call(
        caller,
        arrived_at=earlier,
        outcome="answered",
        wrapup_outcome="callback_needed",
        queue="city_issues",
    )
    call_id = await world.store_call(caller)
    offer = await world.offer("anowak", call_id, routing_request(call_id, caller))
    pop = page.locator("#pop")
    await expect(pop).to_be_visible()
    await expect(pop).to_have_attribute("data-shown", offer.offer_id)
    await expect(page.locator("#caller-number")).to_have_text("+48 600 123 456")
    await expect(page.locator("#ivr-path")).to_have_text("Polski → Zgłoszenie problemu → Zieleń")
    await expect(page.locator("#recording-state")).to_have_text("nagrywana")
    await expect(page.locator("#recording-pause")).to_be_visible()
    await expect(page.locator("#transcript")).to_contain_text("złamało się drzewo")
    await expect(page.locator("#history-calls tbody tr")).to_have_count(1)
    await expect(page.locator("#history-calls")).to_contain_text("trzeba oddzwonić")
    await expect(page.locator("#caller-language")).to_have_text("polski")
    await expect(page.locator("#caller-language")).to_have_attribute("title", "pl")
    queue = page.locator("#queue-name")  # the queue by its name in queues.yaml, the id kept aside
    await expect(queue).to_have_text("Zgłoszenia miejskie")
    await expect(queue).to_have_attribute("data-queue", "city_issues")
    earlier_call = page.locator("#history-calls tbody tr")
    await expect(earlier_call).to_have_attribute("data-queue", "city_issues")
    await expect(earlier_call).to_contain_text("Zgłoszenia miejskie")
    first_card = page.locator("#suggestions li").first
    await expect(first_card).to_have_attribute("data-slug", "zielen-powalone-drzewo")
    reason = first_card.locator(".reason")
    await expect(reason).to_contain_text("powód: temat rozpoznany w mowie")
    await expect(reason).not_to_contain_text("intent")
    await expect(reason).to_have_attribute("title", re.compile("intent fallen-tree"))
    await expect(page.locator("#f-category")).to_have_value("greenery")
    await expect(page.locator("#f-caller_number")).to_have_value("+48 600 123 456")
    await expect(page.locator("#f-units input[value=ZZM]")).to_be_checked()

    await world.answer(offer)
    await expect(badge).to_have_attribute("data-state", "on_call")
    await page.keyboard.press("Alt+k")
    await page.keyboard.type("odpady")
    await expect(page.locator("#kb-hits li mark").first).to_contain_text("odpad", ignore_case=True)
    await page.keyboard.press("Alt+n")
    await page.keyboard.type("Konar na chodniku, dzwoniący czeka na informację.")
    await page.fill("#f-location_text", "ul. Lubicz 12")
    await page.fill("#f-description", "Złamany konar drzewa leży na chodniku przy przystanku.")
    await shot(page, "desk-pop.png")
    await page.press("#f-description", "Control+Enter")
    await expect(page.locator("#ticket-message")).to_contain_text("Zapisano zgłoszenie KCK-")
    number = await page.locator("#ticket-message").get_attribute("data-number")

    await world.hang_up(call_id)
    await expect(badge).to_have_attribute("data-state", "wrap_up")
    await expect(page.locator("#wrapup-form")).to_be_visible()
    await expect(page.locator("#o-ticket_created")).to_be_checked()
    await page.click("#wrapup-save")
    await expect(page.locator("#wrapup-message")).to_have_text("Zapisano wynik rozmowy.")
    await expect(badge).to_have_attribute(
        "data-state", "available", timeout=10_000
    )  # wrap-up ran out
    await expect(pop).to_be_hidden()

    async with world.services.sessions() as db:
        call = await db.get(Call, call_id)
        ticket = await db.scalar(select(Ticket).where(Ticket.number == number))
    assert call is not None and call.wrapup_outcome == "ticket_created"
    assert (
        ticket is not None and ticket.call_id == call_id and ticket.location_text == "ul. Lubicz 12"
    )

    await page.fill("#lookup-number", number or "")
    await page.press("#lookup-number", "Enter")
    await expect(page.locator("#lookup-result")).to_contain_text("Zarząd Zieleni Miejskiej")
    await expect(page.locator("#lookup-result")).to_contain_text(
        "Zarząd Zieleni Miejskiej (czeka na przekazanie)"
    )
    await expect(page.locator("#lookup-result")).to_contain_text(
        "Status: nowa, jeszcze nieprzekazana"
    )
    await expect(page.locator("#lookup-matter-page")).to_have_count(0)  # no matters wired here


@on_manual_clock
async def test_wrap_up_counts_down_on_the_routers_time_and_ends_when_the_router_ends_it(
    world: DeskWorld, desk_url: str, page: Page
) -> None:
    # The desk PC's clock is 7 minutes off the server's, and stands still once the call is
    # answered: from then on it moves only when the test runs it, as the router's clock does.
    desk_pc_time = world.services.clock.now() + timedelta(minutes=7)
    await page.clock.install(time=desk_pc_time)
    await world.add_user("anowak")
    await sign_in(page, desk_url, "anowak")
    badge, countdown = page.locator("#state-badge"), page.locator("#wrapup-countdown")
    await expect(page.locator("#conn")).to_have_attribute("data-up", "1")
    await page.click("#btn-available")
    await expect(badge).to_have_attribute("data-state", "available")
    await expect(countdown).to_be_hidden()
    caller = "+48600123456"
    await world.store_call(
        caller,
        arrived_at=world.services.clock.now() - timedelta(days=6),
        outcome="answered",
        wrapup_outcome="callback_needed",
        queue="city_issues",
    )
    call_id = await world.store_call(caller)
    offer = await world.offer("anowak", call_id, routing_request(call_id, caller), "long_wrap_up")
    await expect(page.locator("#pop")).to_have_attribute("data-shown", offer.offer_id)
    await world.answer(offer)
    await expect(badge).to_have_attribute("data-state", "on_call")
    await page.clock.pause_at(desk_pc_time + timedelta(minutes=10))
    await page.fill("#f-location_text", "ul. Lubicz 12")
    await page.fill("#notes", "Konar na chodniku; dzwoniący sam zgłosi to w ZZM.")

    await world.hang_up(call_id)  # the queue's wrap-up is 300 s
    await expect(badge).to_have_attribute("data-state", "wrap_up")
    await expect(countdown).to_have_text("koniec obsługi za 05:00")
    await expect(page.locator("#call-timer")).to_have_text("−05:00")
    await page.clock.run_for(15_000)
    await expect(countdown).to_have_text("koniec obsługi za 04:45")
    await expect(countdown).to_have_attribute("data-seconds-left", "285")
    await page.check("#o-resolved_first_line")
    await shot(page, "desk-wrap-up.png")

    world.advance(60)  # a minute on the router's clock; then the page is reloaded (in English)
    await page.click("#lang-switch")
    await expect(countdown).to_have_text("wrap-up ends in 04:00")  # from the state on load
    await page.clock.run_for(300_000)  # the page's count runs out before the router's timer
    await expect(countdown).to_have_text("wrap-up ends in 00:00")
    await expect(badge).to_have_attribute("data-state", "wrap_up")  # the page does not end it
    assert (await world.backend.status("anowak")).state.value == "wrap_up"

    world.advance(240)  # the router's deadline: its timer ends wrap-up and the desk follows
    await expect(badge).to_have_attribute("data-state", "available")
    await expect(countdown).to_be_hidden()


async def test_invalid_ticket_marks_the_fields_with_their_messages(
    world: DeskWorld, desk_url: str, page: Page
) -> None:
    await sign_in_available(world, page, desk_url)
    call_id = await world.store_call()
    await world.offer("anowak", call_id)
    await expect(page.locator("#pop")).to_be_visible()
    await page.click("#ticket-save")
    await expect(page.locator("#err-location_text")).to_contain_text("Podaj miejsce")
    await expect(page.locator("#err-description")).to_have_text("To pole jest wymagane.")
    await expect(page.locator("#f-location_text")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#f-location_text")).to_be_focused()


async def test_wrong_password_shows_the_message_and_stays_on_login(
    world: DeskWorld, desk_url: str, page: Page
) -> None:
    await world.add_user("anowak")
    await sign_in(page, desk_url, "anowak", password="not the password")
    await expect(page.locator("#login-error")).to_have_text("Nieprawidłowy użytkownik lub hasło.")
    await page.click("#lang-switch")
    await sign_in(page, desk_url, "anowak", password="still not it")
    await expect(page.locator("#login-error")).to_have_text("Wrong user name or password.")


async def test_agent_opening_the_status_page_is_refused(
    world: DeskWorld, desk_url: str, page: Page
) -> None:
    await world.add_user("anowak")
    await sign_in(page, desk_url, "anowak")
    await expect(page).to_have_url(f"{desk_url}/desk")
    response = await page.goto(f"{desk_url}/status")
    assert response is not None and response.status == 403
    await expect(page.locator("[role=alert]")).to_have_text("Brak uprawnień do tej strony.")


async def test_editor_is_sent_to_the_editor_home_and_refused_the_desk(
    world: DeskWorld, desk_url: str, page: Page
) -> None:
    await world.add_user("editor", Role.EDITOR, extension=None)
    await sign_in(page, desk_url, "editor", extension="")
    await expect(page).to_have_url(f"{desk_url}/editor")
    await expect(page.locator("#to-cards")).to_have_attribute("href", "/editor/cards")
    response = await page.goto(f"{desk_url}/desk")
    assert response is not None and response.status == 403


async def test_request_without_the_csrf_token_is_refused_in_the_browser(
    world: DeskWorld, desk_url: str, page: Page
) -> None:
    await world.add_user("anowak")
    await sign_in(page, desk_url, "anowak")
    await expect(page.locator("#conn")).to_have_attribute("data-up", "1")
    status = await page.evaluate(
        """() => fetch('/api/desk/state', {method: 'POST', headers: {'Content-Type': 'application/json'},
                 body: JSON.stringify({state: 'available'})}).then(r => r.status)"""
    )
    assert status == 403
    assert (await world.backend.status("anowak")).state.value == "paused"


async def test_offer_during_a_server_restart_pops_after_the_desk_reconnects(
    world: DeskWorld, page: Page
) -> None:
    runner, port = await serve(world.app)
    url = f"http://127.0.0.1:{port}"
    await world.add_user("anowak")
    await sign_in(page, url, "anowak")
    await expect(page.locator("#conn")).to_have_attribute("data-up", "1")
    await page.click("#btn-available")
    await expect(page.locator("#state-badge")).to_have_attribute("data-state", "available")
    await runner.cleanup()  # the socket drops (1001) and nothing listens any more
    await expect(page.locator("#conn")).to_have_attribute("data-up", "0")
    await expect(page.locator("#banner")).to_have_text(
        "Utracono połączenie z serwerem — łączę ponownie…"
    )
    offer = await world.offer("anowak", await world.store_call())  # made while the desk is cut off
    again = create_app(
        world.services, fixed_health({"mode": "test", "parts": {}}), _same_parts(world)
    )
    runner, _ = await serve(again, port)
    try:
        await expect(page.locator("#pop")).to_have_attribute(
            "data-shown", offer.offer_id, timeout=15_000
        )
        await expect(page.locator("#banner")).to_be_hidden()
    finally:
        await runner.cleanup()


def _same_parts(world: DeskWorld) -> DeskParts:
    return DeskParts(
        backend=world.backend,
        knowledge=world.app[knowledge_key],
        units=load_units(SHIPPED_CONFIG / "units.yaml"),
    )
