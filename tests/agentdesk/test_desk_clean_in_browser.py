"""After a call nothing of it stays on the desk or in the browser; the outcome is not skipped
silently; errors look like errors. Real Chromium, real server, Redis and SQLite."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from kck.db.models import Call
from tests.agentdesk.conftest import DeskWorld, routing_request
from tests.agentdesk.test_desk_in_browser import desk_url, page, shot, sign_in_available

__all__ = ["desk_url", "page"]  # the fixtures of the desk's browser tests

pytestmark = pytest.mark.browser
CALLER = "+48600123456"
NOTE = "Pani Kowalska, ul. Lubicz 12, oddzwonić po 15"
STORAGE = """() => [localStorage, sessionStorage].map(s =>
    Object.keys(s).map(k => k + '=' + s.getItem(k)).join('\\n'))"""


async def take_call_to_wrap_up(
    world: DeskWorld, page: Page, url: str, *, english: bool = False
) -> str:
    """Sign in, go available, take a call with a 5-minute wrap-up, type a note, hang up."""
    await sign_in_available(world, page, url)
    if english:
        await page.click("#lang-switch")
        await expect(page.locator("#conn")).to_have_attribute("data-up", "1")
    badge = page.locator("#state-badge")
    call_id = await world.store_call(CALLER)
    offer = await world.offer("anowak", call_id, routing_request(call_id, CALLER), "long_wrap_up")
    await expect(page.locator("#pop")).to_have_attribute("data-shown", offer.offer_id)
    await world.answer(offer)
    await expect(badge).to_have_attribute("data-state", "on_call")
    await page.fill("#notes", NOTE)
    await page.fill("#kb-search", "odpady")
    await expect(page.locator("#kb-hits li").first).to_be_visible()
    await page.fill("#f-location_text", "ul. Lubicz 12")
    await world.hang_up(call_id)
    await expect(badge).to_have_attribute("data-state", "wrap_up")
    return call_id


async def test_after_the_call_and_after_sign_out_nothing_of_the_caller_stays(
    world: DeskWorld, desk_url: str, page: Page
) -> None:
    await page.goto(f"{desk_url}/login")  # what an earlier desk left in localStorage
    await page.evaluate("() => localStorage.setItem('kck-notes-old', 'Jan Nowak, PESEL 1234')")
    await take_call_to_wrap_up(world, page, desk_url)
    # during the call the note is kept for a reload in this tab only, never in localStorage
    local, session = await page.evaluate(STORAGE)
    assert local == "" and NOTE in session

    await page.check("#o-callback_needed")
    await page.click("#wrapup-save")
    await expect(page.locator("#wrapup-message")).to_have_text("Zapisano wynik rozmowy.")
    await page.click("#btn-available")
    await expect(page.locator("#state-badge")).to_have_attribute("data-state", "available")
    await expect(page.locator("#idle")).to_be_visible()
    await expect(page.locator("#notes")).to_have_value("")
    await expect(page.locator("#kb-search")).to_have_value("")
    await expect(page.locator("#kb-hits li")).to_have_count(0)
    await expect(page.locator("#suggestions li[data-slug]")).to_have_count(0)
    await expect(page.locator("#f-location_text")).to_have_value("")
    await expect(page.locator("#f-caller_number")).to_have_value("")
    await expect(page.locator("#wrapup-form")).to_be_hidden()
    text = await page.evaluate("() => document.body.innerText + document.body.textContent")
    assert "Kowalska" not in text and "600 123 456" not in text and "Lubicz" not in text
    assert await page.evaluate(STORAGE) == ["", ""]

    await page.click("#btn-logout")
    await expect(page).to_have_url(f"{desk_url}/login")
    assert await page.evaluate(STORAGE) == ["", ""]


async def test_the_sign_in_page_removes_what_a_desk_left_in_the_browser(
    desk_url: str, page: Page
) -> None:
    # a desk left without signing out (session expired, tab reused): the next sign-in page cleans
    await page.goto(f"{desk_url}/login")
    await page.evaluate(
        """() => { sessionStorage.setItem('kck-notes-1', 'Jan Nowak');
                   localStorage.setItem('kck-notes-2', 'PESEL 1234');
                   localStorage.setItem('other-app', 'kept'); }"""
    )
    await page.goto(f"{desk_url}/login")
    assert await page.evaluate(STORAGE) == ["other-app=kept", ""]


async def test_finishing_without_an_outcome_asks_first(
    world: DeskWorld, desk_url: str, page: Page
) -> None:
    await take_call_to_wrap_up(world, page, desk_url)
    await page.click("#btn-available")
    prompt = page.locator("#outcome-prompt")
    await expect(prompt).to_be_visible()
    await expect(prompt).to_have_attribute("role", "alert")
    await expect(prompt).to_contain_text("Nie zapisano wyniku rozmowy.")
    await expect(page.locator("#o-resolved_first_line")).to_be_focused()
    assert (await world.backend.status("anowak")).state.value == "wrap_up"  # nothing was sent
    await shot(page, "desk-outcome-prompt.png")
    await page.click("#btn-pause")  # a pause asks the same
    await expect(prompt).to_be_visible()
    assert (await world.backend.status("anowak")).state.value == "wrap_up"

    await page.click("#outcome-skip")  # the agent says so: the pause they asked for last
    await expect(page.locator("#state-badge")).to_have_attribute("data-state", "paused")
    await expect(prompt).to_be_hidden()
    await expect(page.locator("#notes")).to_have_value("")


async def test_after_a_reload_in_wrap_up_the_call_and_its_notes_are_back_for_the_outcome(
    world: DeskWorld, desk_url: str, page: Page
) -> None:
    call_id = await take_call_to_wrap_up(world, page, desk_url)
    await page.reload()  # the router has forgotten the ended call; the desk rebuilds the pop
    await expect(page.locator("#pop")).to_have_attribute("data-call-id", call_id)
    await expect(page.locator("#caller-number")).to_have_text("+48 600 123 456")
    await expect(page.locator("#wrapup-form")).to_be_visible()
    await expect(page.locator("#notes")).to_have_value(NOTE)  # this tab's, kept for the call
    await page.check("#o-callback_needed")
    await page.click("#wrapup-save")
    await expect(page.locator("#wrapup-message")).to_have_text("Zapisano wynik rozmowy.")
    async with world.services.sessions() as db:
        call = await db.get(Call, call_id)
    assert call is not None and call.wrapup_outcome == "callback_needed"


async def test_the_outcome_prompt_in_english(world: DeskWorld, desk_url: str, page: Page) -> None:
    await take_call_to_wrap_up(world, page, desk_url, english=True)
    await page.click("#btn-available")
    await expect(page.locator("#outcome-prompt")).to_contain_text(
        "The call's outcome is not saved."
    )
    await expect(page.locator("#outcome-skip")).to_have_text("Finish without an outcome")
    await page.check("#o-resolved_first_line")  # the agent chooses one after all
    await page.click("#wrapup-save")
    await expect(page.locator("#wrapup-message")).to_have_text("Outcome saved.")
    await page.click("#btn-available")  # saved: no question any more
    await expect(page.locator("#state-badge")).to_have_attribute("data-state", "available")


async def test_ticket_validation_error_is_shown_as_an_error(
    world: DeskWorld, desk_url: str, page: Page
) -> None:
    await sign_in_available(world, page, desk_url)
    await world.offer("anowak", await world.store_call())
    await expect(page.locator("#pop")).to_be_visible()
    await page.click("#ticket-save")
    message = page.locator("#ticket-message")
    await expect(message).to_have_attribute("role", "alert")
    await expect(message).to_have_class("message error")
    await expect(message).to_have_css("color", "rgb(176, 0, 32)")  # red, not green


async def test_signing_out_during_a_call_gives_a_page_that_leads_back_to_the_desk(
    world: DeskWorld, desk_url: str, page: Page
) -> None:
    await sign_in_available(world, page, desk_url)
    offer = await world.offer("anowak", await world.store_call())
    await world.answer(offer)
    await expect(page.locator("#state-badge")).to_have_attribute("data-state", "on_call")
    await page.click("#btn-logout")
    await expect(page.locator("h1")).to_have_text("Nie można się teraz wylogować")
    notice = page.locator("[role=alert]")
    await expect(notice).to_have_text(
        "Nie można się wylogować: najpierw zakończ rozmowę (teraz: w rozmowie)."
    )
    await expect(notice).to_have_css("color", "rgb(176, 0, 32)")
    await page.click("#notice-back")
    await expect(page).to_have_url(f"{desk_url}/desk")
    await expect(page.locator("#state-badge")).to_have_attribute("data-state", "on_call")


async def test_kb_card_opens_whole_beside_the_call_and_follows_the_callers_language(
    world: DeskWorld, desk_url: str, page: Page
) -> None:
    await sign_in_available(world, page, desk_url)
    call_id = await world.store_call(CALLER)
    await world.offer("anowak", call_id, routing_request(call_id, CALLER))
    await page.click("#suggestions [data-open-card=zielen-powalone-drzewo]")
    card = page.locator("#kb-card")
    await expect(card).to_be_visible()
    await expect(page.locator("#kb-card-title")).to_have_text(
        "Powalone, złamane lub niebezpieczne drzewo"
    )
    facts = page.locator("#kb-card-facts")
    await expect(facts.locator("[data-field=unit_name]")).to_contain_text("Zarząd Zieleni")
    await expect(facts.locator("[data-field=fees]")).to_have_text("Bezpłatnie.")
    await expect(facts.locator("[data-field=documents] li")).to_have_count(1)
    await expect(facts.locator("[data-field=online]")).to_contain_text("Zgłoś problem")
    body = page.locator("#kb-card-body")
    await expect(body).to_contain_text("Pilne!\n\n• Drzewo na linii energetycznej")
    await expect(body).not_to_contain_text("**")
    await expect(page.locator("#pop")).to_be_visible()  # beside the call, not instead of it
    await shot(page, "desk-kb-card.png")
    await page.click("#kb-card-close")
    await expect(card).to_be_hidden()


async def test_kb_search_and_cards_follow_the_callers_language(
    world: DeskWorld, desk_url: str, page: Page
) -> None:
    await sign_in_available(world, page, desk_url)
    english = await world.store_call("+447700900123")
    request = {**routing_request(english, "+447700900123"), "language": "en"}
    await world.offer("anowak", english, request)
    await expect(page.locator("#caller-language")).to_have_text("angielski")
    await page.fill("#kb-search", "dowód")  # the Polish word, in an English card's title
    await expect(page.locator("#kb-hits li").first).to_contain_text("Applying for a Polish ID card")
    await page.click("#kb-hits [data-open-card]")
    card = page.locator("#kb-card")
    await expect(card).to_have_attribute("lang", "en")
    await expect(page.locator("#kb-card-title")).to_contain_text("Applying for a Polish ID card")
