"""An editor changes a service card in real Chromium and an agent's next pop shows the new text:
one server, real Redis and SQLite, the router offering the call as it does for the PBX."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from kck.db.models import Role
from tests.agentdesk.browser import DESK_VIEWPORT, chromium, serve, watch_for_broken_scripts
from tests.agentdesk.conftest import DeskWorld, routing_request
from tests.agentdesk.test_desk_in_browser import shot, sign_in

pytestmark = pytest.mark.browser
SLUG = "zielen-powalone-drzewo"  # the first suggestion for a call about a fallen tree
NEW_SUMMARY = "Drzewo na chodniku: dzwoniący podaje adres, ZZM przyjeżdża w 2 godziny."


@pytest.fixture
async def site(world: DeskWorld) -> AsyncIterator[tuple[str, Browser]]:
    runner, port = await serve(world.app)
    try:
        async with chromium() as browser:
            yield f"http://127.0.0.1:{port}", browser
    finally:
        await runner.cleanup()


async def new_page(browser: Browser) -> tuple[Page, list[str]]:
    context = await browser.new_context(viewport=DESK_VIEWPORT, locale="pl-PL")
    page = await context.new_page()
    return page, watch_for_broken_scripts(page)


async def test_editor_publishes_a_card_and_the_agent_s_next_pop_shows_the_new_text(
    world: DeskWorld, site: tuple[str, Browser]
) -> None:
    url, browser = site
    await world.add_user("redaktor", Role.EDITOR, extension=None)
    await world.add_user("anowak")

    editor, editor_errors = await new_page(browser)
    await sign_in(editor, url, "redaktor", extension="")
    await expect(editor).to_have_url(f"{url}/editor")
    await editor.click("#to-cards")
    await editor.fill("#q", "powalone drzewo")
    await editor.press("#q", "Enter")
    await editor.click(f'#hits li[data-slug="{SLUG}"] a')
    await expect(editor).to_have_url(f"{url}/editor/cards/{SLUG}")

    # a mistake is shown at its field and nothing is published
    await editor.fill("#f-summary", NEW_SUMMARY)
    await editor.fill("#f-review_due", "")
    await editor.click("#do-publish")
    await expect(editor.locator("#problems")).to_be_visible()
    await expect(editor.locator("#p-review_due")).to_have_text("To pole jest wymagane.")
    await expect(editor.locator("#f-review_due")).to_have_attribute("aria-invalid", "true")
    await expect(editor.locator("#f-summary")).to_have_value(NEW_SUMMARY)  # nothing typed is lost

    await editor.fill("#f-review_due", "2027-06-30")
    await editor.fill("#f-fees", "Zgłoszenie jest bezpłatne.")
    await editor.click("#do-preview")
    await expect(editor.locator("#previewing")).to_be_visible()
    await expect(editor.locator("#preview-summary")).to_have_text(NEW_SUMMARY)
    await shot(editor, "editor-card.png")
    await editor.fill("#f-note", "nowy termin przyjazdu ZZM")
    await editor.click("#do-publish")
    await expect(editor.locator("#published")).to_have_text(
        "Opublikowano rewizję 2: konsultanci widzą ją od teraz."
    )

    agent, agent_errors = await new_page(browser)
    await sign_in(agent, url, "anowak")
    await expect(agent.locator("#conn")).to_have_attribute("data-up", "1")
    await agent.click("#btn-available")
    await expect(agent.locator("#state-badge")).to_have_attribute("data-state", "available")
    call_id = await world.store_call("+48600123456")
    offer = await world.offer("anowak", call_id, routing_request(call_id))
    await expect(agent.locator("#pop")).to_have_attribute("data-shown", offer.offer_id)
    first = agent.locator("#suggestions li").first
    await expect(first).to_have_attribute("data-slug", SLUG)
    await expect(first.locator(".summary")).to_have_text(NEW_SUMMARY)
    await first.locator("[data-open-card]").click()
    await expect(agent.locator("#kb-card-summary")).to_have_text(NEW_SUMMARY)
    await expect(agent.locator("#kb-card-facts")).to_contain_text("Zgłoszenie jest bezpłatne.")

    # the history says who changed what; the old text is one click away
    await editor.click("#to-history")
    await expect(editor.locator('#history tr[data-revision="2"]')).to_contain_text("redaktor")
    await editor.click('#history tr[data-revision="2"] a')
    await expect(editor.locator('#diff .change[data-field="summary"] .ins')).to_have_text(
        f"+ {NEW_SUMMARY}"
    )
    assert editor_errors == [] and agent_errors == []
