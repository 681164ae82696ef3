"""A unit officer in headless Chromium: opens the link from the unit's e-mail, marks the matter
received, writes the answer and sends it; the resident's combined answer is in the outbox."""

from __future__ import annotations

from playwright.async_api import expect

from agentdesk.tickets.form import parse_ticket_form
from agentdesk.tickets.store import TicketStore
from kck.clock import SystemClock
from tests.agentdesk.browser import DESK_VIEWPORT, chromium, serve, watch_for_broken_scripts
from tests.agentdesk.conftest import DeskWorld
from tests.agentdesk.matters_app import link_path, matter_service, matters_app, outbox
from tests.agentdesk.test_desk_in_browser import shot
from tests.matters.world import UNITS, WARSAW, ticket_form


async def test_a_unit_officer_answers_on_the_unit_page_and_the_resident_is_told(
    world: DeskWorld,
) -> None:
    clock = SystemClock()
    service = matter_service(world, clock)
    form = parse_ticket_form(ticket_form(units=["ZZM", "SM"]), UNITS)
    ticket = await TicketStore(world.services.sessions, WARSAW).create(
        form, created_by=None, now=clock.now()
    )
    await service.forward(ticket.number, "agent:anowak")
    notices = {m.recipient: m for m in await outbox(world)}
    zzm = link_path(notices["kck-zzm@krakow.example"].body)
    sm = link_path(notices["kck-sm@krakow.example"].body)

    runner, port = await serve(matters_app(world, service, clock))
    try:
        async with chromium() as browser:
            page = await browser.new_page(viewport=DESK_VIEWPORT)
            problems = watch_for_broken_scripts(page)
            base = f"http://127.0.0.1:{port}"

            await page.goto(base + sm)  # SM gives it to the roads authority
            await page.select_option("#unit-target", "ZDMK")
            await page.click("#unit-pass-on")
            await expect(page.locator("#unit-done")).to_have_text(
                "Zapisano: przekazana innej jednostce."
            )
            await expect(page.locator("#unit-finished")).to_be_visible()

            await page.goto(base + zzm)
            await expect(page.locator("h1")).to_have_text(f"Sprawa {ticket.number}")
            await expect(page.locator("#unit-description")).to_have_text(
                "Złamana gałąź nad chodnikiem"
            )
            await page.click("#unit-received")
            await expect(page.locator("#unit-state")).to_have_text("przyjęta przez jednostkę")
            await expect(page.locator("#unit-received")).to_have_count(0)
            await page.fill("#unit-text", "Gałąź usuniemy do piątku.")
            await shot(page, "unit-page.png")
            await page.click("#unit-send-answer")
            await expect(page.locator("#unit-answer")).to_have_text("Gałąź usuniemy do piątku.")
            # the roads authority has not answered yet: no e-mail to the resident so far
            await expect(page.locator("#matter-state")).to_have_text("przekazana do jednostek")

            roads = next(m for m in await outbox(world) if m.recipient == "kck-zdmk@krakow.example")
            await page.goto(base + link_path(roads.body))
            await page.fill("#unit-text", "Chodnik naprawimy w przyszłym tygodniu.")
            await page.click("#unit-send-answer")
            await expect(page.locator("#matter-state")).to_have_text(
                "mieszkaniec otrzymał odpowiedź"
            )
            assert problems == []
    finally:
        await runner.cleanup()

    [resident] = [m for m in await outbox(world) if m.recipient == "anna@example.org"]
    assert "Gałąź usuniemy do piątku." in resident.body
    assert "Chodnik naprawimy w przyszłym tygodniu." in resident.body
