"""A unit officer in headless Chromium: signs in, finds only their unit's matter in the inbox,
asks the resident for more information; the resident answers on the reply page of their e-mail;
the officer reads the answer on the matter and answers it — the resident's answer is in the
outbox."""

from __future__ import annotations

from playwright.async_api import expect

from agentdesk.tickets.form import parse_ticket_form
from agentdesk.tickets.store import TicketStore
from kck.clock import SystemClock
from kck.db.models import Role
from tests.agentdesk.browser import DESK_VIEWPORT, chromium, serve, watch_for_broken_scripts
from tests.agentdesk.conftest import PASSWORD, DeskWorld
from tests.agentdesk.matters_app import by_account, link_path, matter_service, matters_app, outbox
from tests.agentdesk.test_desk_in_browser import shot, sign_in
from tests.matters.world import WARSAW, ticket_form


async def test_a_unit_officer_asks_the_resident_and_answers_after_their_reply(
    world: DeskWorld,
) -> None:
    clock = SystemClock()
    service = matter_service(world, clock, by_account("ZZM"))
    store = TicketStore(world.services.sessions, WARSAW)
    numbers = []
    for units, description in (
        (["ZZM"], "Złamana gałąź nad chodnikiem"),
        (["SM"], "Porzucony wrak auta na parkingu"),
    ):
        form = parse_ticket_form(ticket_form(units=units, description=description), service.units)
        ticket = await store.create(form, created_by=None, now=clock.now())
        await service.forward(ticket.number, "agent:anowak")
        numbers.append(ticket.number)
    mine, other = numbers
    await world.accounts.add("zzm.officer", PASSWORD, Role.UNIT, units=["ZZM"])

    runner, port = await serve(matters_app(world, service, clock))
    try:
        async with chromium() as browser:
            officer = await browser.new_page(viewport=DESK_VIEWPORT)
            problems = watch_for_broken_scripts(officer)
            base = f"http://127.0.0.1:{port}"
            await sign_in(officer, base, "zzm.officer", extension="")
            await expect(officer).to_have_url(f"{base}/unit/inbox")
            rows = officer.locator("#unit-inbox .inbox-row")
            await expect(rows).to_have_count(1)
            await expect(rows.first).to_have_attribute("data-number", mine)
            await expect(officer.locator("#unit-inbox")).not_to_contain_text(other)
            await shot(officer, "unit-inbox.png")

            await officer.click(f"text={mine}")
            await expect(officer.locator("h1")).to_have_text(f"Sprawa {mine}")
            await officer.click("#unit-received")
            await expect(officer.locator("#unit-state")).to_have_text("przyjęta przez jednostkę")
            await officer.fill("#unit-text", "Przy której bramie leży gałąź?")
            await officer.click("#unit-more-info")
            await expect(officer.locator("#unit-state")).to_have_text(
                "jednostka prosi o więcej informacji"
            )

            [question] = [m for m in await outbox(world) if m.recipient == "anna@example.org"]
            resident = await browser.new_page(viewport=DESK_VIEWPORT)
            await resident.goto(base + link_path(question.body, "/reply/"))
            await expect(resident.locator("#reply-question")).to_have_text(
                "Przy której bramie leży gałąź?"
            )
            await resident.fill("#reply-text", "Przy bramie nr 3, od strony parku.")
            await shot(resident, "resident-reply.png")
            await resident.click("#reply-send")
            await expect(resident.locator("#reply-thanks")).to_be_visible()

            await officer.click("#unit-back")
            await expect(rows.first.locator(".inbox-state")).to_have_text(
                "przyjęta przez jednostkę"
            )
            await officer.click(f"text={mine}")
            await expect(officer.locator("#unit-exchanges li.answered .text")).to_have_text(
                "Przy bramie nr 3, od strony parku."
            )
            await officer.fill("#unit-text", "Gałąź usuniemy do piątku.")
            await officer.click("#unit-send-answer")
            await expect(officer.locator("#unit-answer")).to_have_text("Gałąź usuniemy do piątku.")
            await expect(officer.locator("#matter-state")).to_have_text(
                "mieszkaniec otrzymał odpowiedź"
            )
            assert problems == []
    finally:
        await runner.cleanup()

    answers = [
        m for m in await outbox(world) if m.key.startswith("resident:") and "question" not in m.key
    ]
    assert len(answers) == 1 and "Gałąź usuniemy do piątku." in answers[0].body
