"""A transfer driven from the desk in real Chromium: the chooser by keyboard, the caller's pop
(IVR path, notes, ticket draft) following the call to the next agent's desk."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.agentdesk.browser import DESK_VIEWPORT, chromium, serve
from tests.agentdesk.conftest import DeskWorld, routing_request
from tests.agentdesk.test_desk_in_browser import shot, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
async def desks(world: DeskWorld) -> AsyncIterator[tuple[str, list[BrowserContext]]]:
    runner, port = await serve(world.app)
    try:
        async with chromium() as browser:
            contexts = [
                await browser.new_context(viewport=DESK_VIEWPORT, locale="pl-PL") for _ in range(2)
            ]
            yield f"http://127.0.0.1:{port}", contexts
            for context in contexts:
                await context.close()
    finally:
        await runner.cleanup()


async def _desk(context: BrowserContext, url: str, user: str, extension: str) -> Page:
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("close", lambda _: None)
    await sign_in(page, url, user, extension=extension)
    await expect(page).to_have_url(f"{url}/desk")
    await expect(page.locator("#conn")).to_have_attribute("data-up", "1")
    await page.keyboard.press("Alt+a")
    await expect(page.locator("#state-badge")).to_have_attribute("data-state", "available")
    setattr(page, "script_errors", errors)  # noqa: B010 - read at the end of the test
    return page


async def test_agent_transfers_by_keyboard_and_the_pop_follows_the_call_to_the_next_desk(
    world: DeskWorld, desks: tuple[str, list[BrowserContext]]
) -> None:
    url, (first_context, second_context) = desks
    await world.add_user("anowak", extension="101")
    await world.add_user("pkowal", extension="102")
    first = await _desk(first_context, url, "anowak", "101")
    caller = "+48600123456"
    call_id = await world.store_call(caller)
    offer = await world.offer("anowak", call_id, routing_request(call_id, caller))
    await expect(first.locator("#pop")).to_have_attribute("data-shown", offer.offer_id)
    await world.answer(offer)
    await expect(first.locator("#state-badge")).to_have_attribute("data-state", "on_call")
    transfer = first.locator("#btn-transfer")
    await expect(transfer).to_be_enabled()
    await first.keyboard.press("Alt+n")
    await first.keyboard.type("Drzewo na chodniku, sprawa dla drugiej osoby.")
    await first.fill("#f-location_text", "ul. Lubicz 12")
    await first.fill("#f-description", "Złamany konar przy przystanku.")

    second = await _desk(second_context, url, "pkowal", "102")
    await first.keyboard.press("Alt+x")  # the chooser opens with the list focused
    dialog = first.locator("#transfer-dialog")
    await expect(dialog).to_be_visible()
    chooser = first.locator("#transfer-target")
    await expect(chooser).to_be_focused()
    await expect(chooser.locator("optgroup[data-kind=agent] option")).to_have_text(["Pkowal (102)"])
    await expect(chooser.locator("optgroup[data-kind=queue] option")).to_have_count(2)
    await shot(first, "desk-transfer.png")
    await chooser.press("ArrowDown")  # the first entry: the one available agent
    await expect(chooser).to_have_value("agent:pkowal")
    await chooser.press("Enter")
    await expect(dialog).to_be_hidden()
    await expect(first.locator("#transfer-message")).to_have_text(
        "Połączenie przekazane. Jesteś w obsłudze po rozmowie."
    )
    await expect(first.locator("#state-badge")).to_have_attribute("data-state", "wrap_up")

    pop = second.locator("#pop")
    await expect(pop).to_be_visible()
    await expect(pop).to_have_attribute("data-call-id", call_id)
    await expect(second.locator("#ivr-path")).to_have_text("Polski → Zgłoszenie problemu → Zieleń")
    await expect(second.locator("#handover-from")).to_have_text("Przekazane przez: anowak")
    await expect(second.locator("#handover-notes")).to_have_text(
        "Drzewo na chodniku, sprawa dla drugiej osoby."
    )
    await expect(second.locator("#notes")).to_have_value(
        "Drzewo na chodniku, sprawa dla drugiej osoby."
    )
    await expect(second.locator("#f-location_text")).to_have_value("ul. Lubicz 12")
    await expect(second.locator("#f-description")).to_have_value("Złamany konar przy przystanku.")
    await shot(second, "desk-transfer-pop.png")
    for page in (first, second):
        assert getattr(page, "script_errors") == [], "script errors on the desk"  # noqa: B009


async def test_transfer_or_consult_that_cannot_be_done_is_refused_in_words(
    world: DeskWorld, desks: tuple[str, list[BrowserContext]]
) -> None:
    url, (first_context, _) = desks
    await world.add_user("anowak", extension="101")
    first = await _desk(first_context, url, "anowak", "101")
    call_id = await world.store_call("+48600123456")
    offer = await world.offer("anowak", call_id, routing_request(call_id, "+48600123456"))
    await world.answer(offer)
    await expect(first.locator("#btn-transfer")).to_be_enabled()
    await world.router.agent_login("pkowal")
    await first.click("#btn-transfer")
    chooser = first.locator("#transfer-target")
    await expect(chooser.locator("optgroup[data-kind=agent] option")).to_have_count(1)
    await world.router.agent_login("pkowal", paused=True)  # gone on a break meanwhile
    await chooser.select_option("agent:pkowal")
    await first.click("#transfer-go")
    await expect(first.locator("#transfer-error")).to_have_text(
        "Nie można przekazać: konsultant nie jest dostępny (przerwa)."
    )
    # a controller without AMI (as here) cannot hold the caller for a consult: said in words
    await first.click("#consult-go")
    await expect(first.locator("#transfer-error")).to_have_text(
        "Konsultacja jest niedostępna (brak połączenia z centralą)."
    )
    await expect(first.locator("#btn-consult-complete")).to_be_hidden()
    await expect(first.locator("#consult-go")).to_be_enabled()  # off while asked, back on
    await expect(first.locator("#state-badge")).to_have_attribute("data-state", "on_call")
