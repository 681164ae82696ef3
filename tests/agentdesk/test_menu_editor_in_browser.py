"""The menu editor in headless Chromium against the real IVR: an editor publishes a change of the
main menu; a new call over FastAGI takes it while a call in progress keeps its version; the
editor rolls back in one click and the next call has the old menu again; both changes audited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

from kck.db.models import Role
from kck.services import Services
from tests.agentdesk.agi_caller import HeldCaller
from tests.agentdesk.browser import DESK_VIEWPORT, chromium, serve, watch_for_broken_scripts
from tests.agentdesk.conftest import PASSWORD
from tests.agentdesk.menu_editor_world import MenuEditorWorld, main_menu_timeout, menu_editor_world
from tests.board.test_board_browser import docs_screenshot

CALL_S = 30  # a bound on one call's run, not a timing assert


@pytest.fixture
async def world(services: Services) -> AsyncIterator[MenuEditorWorld]:
    async for made in menu_editor_world(services, serve_agi=True):
        yield made


def main_menu_wait_ms(call: HeldCaller) -> str:
    """The main menu's wait for a key as kck sent it: `GET DATA <…/main_menu> <ms> <digits>`."""
    [asked] = [c for c in call.get_data() if c.split()[2].endswith("/main_menu")]
    return asked.split()[3]


async def finished_call(port: int, uniqueid: str) -> HeldCaller:
    call = HeldCaller(port, keys=["1", "0"], uniqueid=uniqueid)  # Polish, then 0: a person
    await asyncio.wait_for(call.run(), CALL_S)
    return call


async def sign_in(page: Page, base: str) -> None:
    await page.goto(f"{base}/login")
    await page.fill("#username", "redaktor")
    await page.fill("#password", PASSWORD)
    await page.click("#login-submit")
    await page.wait_for_url(f"{base}/editor")


async def test_published_menu_reaches_new_calls_only_and_rolls_back_in_one_click(
    world: MenuEditorWorld,
) -> None:
    await world.add_user("redaktor", Role.EDITOR)
    port = world.ivr.agi_port
    assert port is not None
    runner, http_port = await serve(world.app)
    base = f"http://127.0.0.1:{http_port}"
    held = HeldCaller(port, keys=["1", "0"], hold_at=0, uniqueid="1764000000.1")
    in_progress = asyncio.create_task(held.run())
    try:
        async with chromium() as browser:
            page = await browser.new_page(viewport=DESK_VIEWPORT)
            broken = watch_for_broken_scripts(page)
            await sign_in(page, base)
            await asyncio.wait_for(held.holding.wait(), CALL_S)  # in the menu (v1) now

            await page.goto(f"{base}/editor/menus/edit")
            main = page.locator('textarea[data-file="main.yaml"]')
            changed = main_menu_timeout(await main.input_value(), 8)
            typo = changed.replace("fallback: queue_general", "fallback: queue_genral")
            line = (
                typo.splitlines().index(
                    "    fallback: queue_genral   # no key or only wrong keys: a person helps"
                )
                + 1
            )
            await main.fill(typo)
            await page.click("#check-button")
            problem = page.locator(f'#menu-problems li[data-line="{line}"]')
            await expect(problem).to_contain_text(f"main.yaml:{line}:")
            await expect(problem.locator(".here")).to_contain_text("queue_genral")
            await docs_screenshot(page, "menus-check.png")
            await problem.locator(".where").click()  # selects that line in its text area
            selected = await main.evaluate(
                "area => area.value.slice(area.selectionStart, area.selectionEnd)"
            )
            assert selected.strip().startswith("fallback: queue_genral")
            await main.fill(changed)
            await page.fill("#publish-reason", "dłużej na wybór w menu głównym")
            await page.click("#publish-button")
            await page.wait_for_url("**/editor/menus?done=published*")
            assert "v2@" in await page.locator("#menus-done").inner_text()
            assert await page.locator("tr.live").get_attribute("data-version") == "2"

            new_call = await finished_call(port, "1764000000.2")
            assert main_menu_wait_ms(new_call) == "8000"  # the new version
            held.release.set()
            await asyncio.wait_for(in_progress, CALL_S)
            assert main_menu_wait_ms(held) == "6000"  # the version it started with

            row = page.locator('tr[data-version="1"]')
            await row.locator('input[name="reason"]').fill("wracamy do 6 s")
            await row.locator("button").click()
            await page.wait_for_url("**/editor/menus?done=rolled_back*")
            assert await page.locator("tr.live").get_attribute("data-version") == "1"
            after = await finished_call(port, "1764000000.3")
            assert main_menu_wait_ms(after) == "6000"

            audit = await page.locator("#menu-audit").inner_text()
            assert "web:redaktor" in audit
            assert "dłużej na wybór w menu głównym" in audit and "wracamy do 6 s" in audit

            await page.goto(f"{base}/editor/menus/versions/2")
            assert "timeout: 6.0 → 8.0" in await page.locator("#menu-changes").inner_text()
            graph = page.locator("#menu-graph")
            assert await graph.evaluate("img => img.complete && img.naturalWidth > 0")
            await docs_screenshot(page, "menus-version.png")
            assert broken == []
    finally:
        held.release.set()
        if not in_progress.done():
            in_progress.cancel()
        await runner.cleanup()
