"""The duplicate hint in headless Chromium: an agent typing a report at the address of an open
matter (written another way) sees the matter and attaches the caller to it; the database then
has the caller as the matter's second resident and no new matter. Each kind its own fields:
an idea shows the ideas on its topic, a matter outside the city's competence asks where to go."""

from __future__ import annotations

import pytest
from playwright.async_api import expect
from sqlalchemy import func, select

from agentdesk.tickets.form import parse_ticket_form
from agentdesk.tickets.models import Ticket, TicketUnit
from agentdesk.tickets.store import TicketStore
from kck.clock import SystemClock
from matters.models import MatterEvent, MatterResident, OutboxMessage
from tests.agentdesk.browser import DESK_VIEWPORT, chromium, serve, watch_for_broken_scripts
from tests.agentdesk.conftest import DeskWorld, routing_request
from tests.agentdesk.matters_app import matter_service, matters_app
from tests.agentdesk.test_desk_in_browser import shot, sign_in
from tests.matters.world import UNITS, WARSAW, ticket_form

pytestmark = pytest.mark.browser
CALLER = "+48601234567"
VOIVODESHIP = "Małopolski Urząd Wojewódzki, ul. Basztowa 22, Kraków"


async def test_an_agent_sees_the_open_matter_at_the_same_address_and_attaches_the_caller(
    world: DeskWorld,
) -> None:
    clock = SystemClock()
    service = matter_service(world, clock)
    form = parse_ticket_form(ticket_form(location_text="ul. Floriańska 3", units=["ZZM"]), UNITS)
    first = await TicketStore(world.services.sessions, WARSAW).create(
        form, created_by=None, now=clock.now()
    )
    await service.forward(first.number, "agent:pkowal")

    runner, port = await serve(matters_app(world, service, clock))
    try:
        async with chromium() as browser:
            context = await browser.new_context(viewport=DESK_VIEWPORT, locale="pl-PL")
            page = await context.new_page()
            problems = watch_for_broken_scripts(page)
            base = f"http://127.0.0.1:{port}"
            await world.add_user("anowak")
            await sign_in(page, base, "anowak")
            await expect(page.locator("#conn")).to_have_attribute("data-up", "1")
            await page.click("#btn-available")
            await expect(page.locator("#state-badge")).to_have_attribute("data-state", "available")

            call_id = await world.store_call(CALLER)
            offer = await world.offer("anowak", call_id, routing_request(call_id, CALLER))
            await world.answer(offer)
            await expect(page.locator("#f-category")).to_have_value("greenery")
            await expect(page.locator("#duplicate-hint")).to_be_hidden()

            await page.fill("#f-location_text", "Florianska 3")  # as the caller says it
            hint = page.locator("#duplicate-hint")
            await expect(hint).to_be_visible()
            await expect(page.locator("#duplicate-text")).to_contain_text(
                "Otwarte sprawy tej samej kategorii w tym miejscu: 1."
            )
            item = page.locator(f"#duplicate-list li[data-number='{first.number}']")
            await expect(item).to_contain_text("ul. Floriańska 3 · ten sam adres")
            await expect(item).to_contain_text("mieszkańców w sprawie: 1")
            await page.fill("#f-caller_name", "Jan Nowak")
            await page.fill("#f-caller_email", "jan@example.org")
            await page.check("#f-contact_consent")
            await shot(page, "desk-duplicate-hint.png")
            await item.locator("button.attach").click()
            message = page.locator("#duplicate-message")
            await expect(message).to_have_text(
                f"Dzwoniący dołączony do sprawy {first.number} (mieszkańców w sprawie: 2). "
                "Dostanie odpowiedź razem z innymi."
            )
            await expect(message).to_have_attribute("data-number", first.number)
            await context.close()
            assert problems == []
    finally:
        await runner.cleanup()

    async with world.services.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Ticket)) == 1  # no new matter
        [resident] = list(await db.scalars(select(MatterResident)))
        [event] = list(
            await db.scalars(select(MatterEvent).where(MatterEvent.action == "resident_attached"))
        )
    ticket_id = resident.ticket_id
    assert (resident.caller_number, resident.name, resident.email) == (
        CALLER,
        "Jan Nowak",
        "jan@example.org",
    )
    assert resident.contact_consent and resident.call_id == call_id
    assert (event.ticket_id, event.actor) == (ticket_id, "agent:anowak")


async def test_an_agent_sees_an_ideas_topic_then_saves_a_matter_outside_the_citys_competence(
    world: DeskWorld,
) -> None:
    """The idea hint counts both sides; an OUTSIDE matter's form asks where to go instead,
    shows no units, and the saved matter is answered at once by e-mail (no unit hears of it)."""
    clock = SystemClock()
    service = matter_service(world, clock)
    store = TicketStore(world.services.sessions, WARSAW)
    earlier = (
        "Proszę wydłużyć linię 52 do Bronowic Małych",
        "Skrócenie linii nr 52, bo za Bronowicami jeździ pusta",
    )
    for text in earlier:
        fields = ticket_form(kind="idea", category="transport", description=text, units=["ZTP"])
        await store.create(parse_ticket_form(fields, UNITS), created_by=None, now=clock.now())

    runner, port = await serve(matters_app(world, service, clock))
    try:
        async with chromium() as browser:
            context = await browser.new_context(viewport=DESK_VIEWPORT, locale="pl-PL")
            page = await context.new_page()
            problems = watch_for_broken_scripts(page)
            base = f"http://127.0.0.1:{port}"
            await world.add_user("anowak")
            await sign_in(page, base, "anowak")
            await expect(page.locator("#conn")).to_have_attribute("data-up", "1")
            await page.select_option("#f-kind", "idea")
            await page.select_option("#f-category", "transport")
            await page.fill("#f-description", "Przedłużenie autobusu 52 aż do pętli w Bronowicach")
            await expect(page.locator("#idea-hint")).to_be_visible()
            await expect(page.locator("#idea-text")).to_have_text(
                "Podobne pomysły: 2 (wspólne słowa: 52, Bronowicach)."
            )
            await expect(page.locator("#idea-counts")).to_have_text("Za: 2 · przeciw: 1 · inne: 0")
            await expect(page.locator("#idea-list li.side-against")).to_contain_text(earlier[1])
            await expect(page.locator("#idea-list li.side-for")).to_contain_text(earlier[0])
            await expect(page.locator("#duplicate-hint")).to_be_hidden()  # an idea is no report

            # the same caller's next matter is not the city's: where to go instead, no units
            await expect(page.locator("#f-refer_to")).to_be_hidden()
            await expect(page.locator("#f-complaint_about")).to_be_hidden()
            await page.select_option("#f-kind", "complaint")
            await expect(page.locator("#f-complaint_about")).to_be_visible()
            await expect(page.locator("#f-units-box")).to_be_visible()
            await page.select_option("#f-kind", "outside")
            await expect(page.locator("#f-complaint_about")).to_be_hidden()
            await expect(page.locator("#f-refer_to")).to_be_visible()
            await expect(page.locator("#idea-hint")).to_be_hidden()
            await expect(page.locator("#f-units-box")).to_be_hidden()
            await page.select_option("#f-category", "out_of_competence")
            await page.fill("#f-description", "Gdzie wyrobić paszport dla dziecka?")
            await page.fill("#f-caller_email", "jan@example.org")
            await page.check("#f-contact_consent")
            await page.click("#ticket-save")
            await expect(page.locator("#err-refer_to")).to_have_text(
                "Podaj, gdzie mieszkaniec ma się zwrócić, np. Urząd Wojewódzki, ul. Basztowa 22."
            )
            await page.fill("#f-refer_to", VOIVODESHIP)
            await page.click("#ticket-save")
            await expect(page.locator("#ticket-message")).to_contain_text("Zapisano zgłoszenie")
            await expect(page.locator("#err-refer_to")).to_have_text("")
            number = await page.locator("#ticket-message").get_attribute("data-number")
            await page.goto(f"{base}/matters/{number}")  # the matter's page: kind, where to go
            await expect(page.locator("#matter-kind")).to_have_text(
                "sprawa poza kompetencją miasta"
            )
            await expect(page.locator("#matter-refer-to")).to_have_text(VOIVODESHIP)
            await expect(page.locator("#matter-state")).to_have_text(
                "mieszkaniec otrzymał odpowiedź"
            )
            await context.close()
            assert problems == []
    finally:
        await runner.cleanup()

    async with world.services.sessions() as db:
        outside = await db.scalar(select(Ticket).where(Ticket.number == number))
        assert outside is not None
        units = select(func.count()).where(TicketUnit.ticket_id == outside.id)
        assert await db.scalar(units) == 0
        assert (outside.kind, outside.refer_to, outside.status) == (
            "outside",
            VOIVODESHIP,
            "resident_informed",
        )
        [mail] = list(await db.scalars(select(OutboxMessage)))
    assert mail.recipient == "jan@example.org" and VOIVODESHIP in mail.body
