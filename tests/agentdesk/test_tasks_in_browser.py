"""Agents' tasks in the desk as an agent uses them: real Chromium, server, Redis and SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from agentdesk.keys import matters_key, tickets_key
from agentdesk.tasks.desk import DeskTasks, voicemail_root
from agentdesk.tasks.models import AgentTask
from kck.db.models import AuditEntry, Call
from tests.agentdesk.browser import serve
from tests.agentdesk.conftest import DeskWorld
from tests.agentdesk.matters_app import matter_service
from tests.agentdesk.test_desk_in_browser import page, sign_in, sign_in_available
from tests.agentdesk.test_matter_pop import EMAIL, portal_matter
from tests.agentdesk.test_tasks import matter_from, tasks
from tests.wav_files import tone

pytestmark = pytest.mark.browser
__all__ = ["page", "tasks"]  # fixtures shared with the desk's other tests


@pytest.fixture
async def desk_url(world: DeskWorld, tasks: DeskTasks) -> AsyncIterator[str]:
    """The desk with its tasks and matters' forwarding; `page` (test_desk_in_browser's) opens
    this one."""
    world.app[matters_key] = matter_service(world, world.services.clock)
    runner, port = await serve(world.app)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_agent_marks_callback_needed_and_the_callback_appears_scheduled(
    world: DeskWorld, desk_url: str, page: Page, tasks: DeskTasks
) -> None:
    await sign_in_available(world, page, desk_url)
    call_id = await world.store_call("+48600123456", queue="long_wrap_up")
    offer = await world.offer("anowak", call_id, queue="long_wrap_up")  # wrap-up 300 s
    await expect(page.locator("#pop")).to_have_attribute("data-shown", offer.offer_id)
    await world.answer(offer)
    await world.hang_up(call_id)
    await expect(page.locator("#state-badge")).to_have_attribute("data-state", "wrap_up")
    await expect(page.locator("#callback-wish")).to_be_hidden()
    await page.check("#o-callback_needed")
    await expect(page.locator("#callback-wish")).to_be_visible()
    opens = (world.services.clock.now() + timedelta(days=1)).astimezone(tasks.tz)
    await page.fill("#cb-from", opens.strftime("%Y-%m-%dT%H:%M"))
    await page.fill("#cb-note", "prosi o telefon po południu")
    await page.click("#wrapup-save")
    await expect(page.locator("#wrapup-message")).to_have_text("Zapisano wynik rozmowy.")

    task = page.locator("#task-list li[data-kind=callback]")
    await expect(task).to_have_attribute("data-state", "scheduled")
    await expect(task.locator(".task-state")).to_have_text("zaplanowane")
    await expect(task.locator(".task-number")).to_have_text("+48 600 123 456")
    await expect(task.locator(".task-window")).to_contain_text(opens.strftime("%Y-%m-%d %H:%M"))
    await expect(task.locator(".task-note")).to_have_text("prosi o telefon po południu")
    async with world.services.sessions() as db:
        call = await db.get(Call, call_id)
        row = await db.scalar(select(AgentTask).where(AgentTask.call_id == call_id))
    assert call is not None and call.wrapup_outcome == "callback_needed"
    assert row is not None and (row.kind, row.state, row.number) == (
        "callback",
        "scheduled",
        "+48600123456",
    )
    assert row.window_from == opens.replace(second=0, microsecond=0)


async def test_agent_takes_plays_and_closes_a_voicemail(
    world: DeskWorld, desk_url: str, page: Page
) -> None:
    call_id = await world.store_call("+48600777888")
    box = voicemail_root(world.services) / "voicemail" / "greenery"
    box.mkdir(parents=True)
    (box / f"{call_id}.wav").write_bytes(tone(1.0))
    await world.add_user("anowak")
    await sign_in(page, desk_url, "anowak")

    task = page.locator("#task-list li[data-kind=voicemail]")
    await expect(task).to_have_attribute("data-state", "open")
    await expect(task.locator(".task-number")).to_have_text("+48 600 777 888")
    await task.locator(".task-claim").click()
    await expect(task).to_have_attribute("data-state", "claimed")
    await task.locator(".task-play").click()
    audio = page.locator("#task-audio")
    await expect(audio).to_be_visible()
    # the browser fetched the message through the desk's route and read it as audio
    await expect(audio).to_have_attribute("data-seconds", "1")
    await task.locator(".task-outcome").select_option("resolved")
    await task.locator(".task-close").click()
    await expect(page.locator("#task-list li")).to_have_count(0)
    await expect(page.locator("#tasks-none")).to_be_visible()
    await expect(audio).to_be_hidden()

    async with world.services.sessions() as db:
        row = await db.scalar(select(AgentTask).where(AgentTask.call_id == call_id))
        actions = (
            await db.scalars(select(AuditEntry.action).where(AuditEntry.action.like("task.%")))
        ).all()
    assert row is not None and (row.state, row.outcome, row.closed_by) == (
        "closed",
        "resolved",
        "anowak",
    )
    assert "task.played" in actions and "task.closed" in actions


async def test_a_matter_from_the_portal_reaches_the_idle_agents_desk_and_is_done(
    world: DeskWorld, desk_url: str, page: Page, tasks: DeskTasks
) -> None:
    await sign_in_available(world, page, desk_url)
    await expect(page.locator("#tasks-none")).to_be_visible()
    ticket = await matter_from(
        world,
        tasks,
        "open311",
        category="waste",
        location_text="ul. Długa 1",
        description="Przepełniony kosz na przystanku.",
        units=["MPO"],
    )
    matter = page.locator("#task-list li[data-kind=matter]")  # pushed over the desk's socket
    await expect(matter.locator(".task-kind")).to_have_text("Sprawa bez rozmowy")
    await expect(matter.locator(".task-number")).to_have_text(ticket.number)
    await expect(matter.locator(".task-note")).to_have_text("Przepełniony kosz na przystanku.")
    # the same screen as a call's: the matter itself in place of an empty form
    await expect(page.locator("#pop")).to_be_visible()
    await expect(page.locator("#matter-number")).to_have_text(ticket.number)
    await expect(page.locator("#matter-location")).to_have_text("ul. Długa 1")
    await expect(page.locator("#ticket-save")).to_be_hidden()
    await matter.locator(".task-done").click()
    await expect(page.locator("#task-message")).to_have_text("Sprawa załatwiona.")
    await expect(page.locator("#task-list li")).to_have_count(0)
    await expect(page.locator("#pop")).to_be_hidden()  # the matter's pop went with it
    assert await tasks.matters.held("anowak") is None


async def test_the_portal_matter_pops_like_a_call_and_the_agent_forwards_it_to_a_unit(
    world: DeskWorld, desk_url: str, page: Page, tasks: DeskTasks
) -> None:
    await sign_in_available(world, page, desk_url)
    matter, earlier = await portal_matter(world, tasks)  # saved without units
    await expect(page.locator("#pop")).to_be_visible()
    await expect(page.locator("#caller-number")).to_have_text("+48 600 555 111")
    history = page.locator("#history-tickets tbody tr")
    await expect(history).to_have_count(2)  # the resident's other matters, by phone and e-mail
    for number in earlier:
        await expect(page.locator("#history-tickets")).to_contain_text(number)
    card = page.locator("#suggestions li[data-slug=odpady-reklamacja-odbioru]")
    await expect(card).to_be_visible()
    await expect(page.locator("#matter-number")).to_have_text(matter.number)
    await expect(page.locator("#matter-source")).to_have_text("open311:portal")
    await expect(page.locator("#matter-category")).to_have_text("odpady")
    await expect(page.locator("#matter-description")).to_have_text(
        "Nie odebrano śmieci, pojemnik przepełniony."
    )
    await expect(page.locator("#matter-units")).to_have_text("—")
    await expect(page.locator("#matter-needs-units")).to_be_visible()
    await expect(page.locator("#f-description")).to_have_value(
        "Nie odebrano śmieci, pojemnik przepełniony."
    )
    await expect(page.locator("#f-caller_email")).to_have_value(EMAIL)
    await expect(page.locator("#ticket-save")).to_be_hidden()

    await page.check("#f-units input[value=MPO]")
    await page.click("#matter-forward")
    await expect(page.locator("#matter-message")).to_have_text(
        f"Sprawę {matter.number} przekazano jednostkom."
    )
    await expect(page.locator("#matter-units")).to_have_text("MPO (przekazana, bez potwierdzenia)")
    await expect(page.locator("#matter-needs-units")).to_be_hidden()
    ticket = await world.app[tickets_key].get(matter.number)
    assert ticket is not None and (ticket.units, ticket.status) == (("MPO",), "forwarded")

    await page.click("#matter-done")
    await expect(page.locator("#pop")).to_be_hidden()
    await expect(page.locator("#idle")).to_be_visible()
    await expect(page.locator("#matter-box")).to_be_hidden()
    await expect(page.locator("#ticket-save")).to_be_visible()
    assert await tasks.matters.held("anowak") is None
