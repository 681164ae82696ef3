"""`kck demo` as a newcomer meets it, following the README: within the first seconds after the
demo prints its accounts, each person it leaves for people signs in, goes available and takes a
call — the pop, the call answered, the outcome saved, available again — from a fresh start, three
times over (the first minute raced once: a robot held the person's call and the sign-in was
refused "while on_call")."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.agentdesk.browser import DESK_VIEWPORT, chromium
from tests.core.demo_process import START_BOUND_S, STOP_BOUND_S, Demo, running_demo

pytestmark = [pytest.mark.browser, pytest.mark.slow]
README = Path(__file__).parents[2] / "README.md"
# A person's call: a matching caller arrives (about one caller every 2.4 s at 1,500 an hour), the
# simulated phone rings and answers, the caller talks (demo.component.HUMAN_TALK_S). Bounds
# against a hang, not performance figures: this machine may be busy.
POP_WAIT_MS = 150_000
CALL_WAIT_MS = 60_000


def readme_people() -> list[str]:
    """The agents the README tells a newcomer to sign in as."""
    text = README.read_text()
    sentence = re.search(r"Sign in as (`\w+`(?: or `\w+`)*) \(", text)
    assert sentence, "the README names no agent to sign in as"
    return re.findall(r"`(\w+)`", sentence.group(1))


async def take_a_call(browser: Browser, demo: Demo, username: str) -> None:
    account = demo.accounts[username]
    assert account.for_you and account.extension
    page = await browser.new_page(viewport=DESK_VIEWPORT)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{demo.url}/login")
    await page.fill("#username", username)
    await page.fill("#password", account.password)
    await page.fill("#extension", account.extension)
    await page.press("#extension", "Enter")
    await expect(page).to_have_url(f"{demo.url}/desk")
    await expect(page.locator("#conn")).to_have_attribute("data-up", "1")
    badge = page.locator("#state-badge")
    await expect(badge).to_have_attribute("data-state", "paused")  # nobody took the agent over
    await page.click("#btn-available")
    await expect(badge).to_have_attribute("data-state", "available")
    # the next matching caller pops before the phone rings
    await expect(page.locator("#pop")).to_be_visible(timeout=POP_WAIT_MS)
    await expect(page.locator("#ivr-path")).not_to_be_empty()
    # the simulated phone answers: the call is on; the caller hangs up: wrap-up
    await expect(badge).to_have_attribute("data-state", "on_call", timeout=CALL_WAIT_MS)
    if shots := os.environ.get("KCK_SCREENSHOTS"):
        await page.screenshot(path=str(Path(shots) / f"demo-pop-{username}.png"))
    await expect(badge).to_have_attribute("data-state", "wrap_up", timeout=CALL_WAIT_MS)
    await expect(page.locator("#wrapup-form")).to_be_visible()
    await page.check("#o-resolved_first_line")
    async with page.expect_response("**/api/desk/wrap-up") as saved:
        await page.click("#wrapup-save-available")
    response = await saved.value
    assert response.ok, await response.text()
    # available again: at 1,500 calls an hour the next caller may be offered a moment later
    saved_data = await response.json()
    assert saved_data["outcome"] == "resolved_first_line"  # written with the call's row
    # available again: the router may have offered the next caller at once (at 1,500 calls an
    # hour one is waiting), and an offer now is of a new call (the wrapped-up one has ended)
    assert saved_data["state"]["state"] in ("available", "offered"), saved_data
    await expect(badge).not_to_have_attribute("data-state", "wrap_up")
    assert errors == [], f"{username}'s desk threw: {errors}"
    await page.close()


@pytest.mark.timeout(START_BOUND_S + POP_WAIT_MS / 1000 + 2 * CALL_WAIT_MS / 1000 + STOP_BOUND_S)
@pytest.mark.parametrize("start", [1, 2, 3])
async def test_each_person_of_the_readme_takes_a_call_in_the_demo_s_first_seconds(
    tmp_path: Path, start: int
) -> None:
    people = readme_people()
    async with running_demo(tmp_path, "--calls-per-hour", "1500") as demo:
        assert sorted(people) == sorted(a.username for a in demo.people), demo.accounts
        async with chromium() as browser:
            await asyncio.gather(*(take_a_call(browser, demo, person) for person in people))
            # the supervisor's wall board sees the same centre, live
            board = await browser.new_page(viewport=DESK_VIEWPORT)
            await board.goto(f"{demo.url}/login")
            await board.fill("#username", "supervisor")
            await board.fill("#password", demo.accounts["supervisor"].password)
            await board.press("#password", "Enter")
            await expect(board).to_have_url(f"{demo.url}/supervisor")  # the supervisor's home
            await board.click("#home-cards a[data-card='/board']")
            await expect(board.locator("#link")).to_have_class("link up")
            for person in people:
                row = board.locator(f'#agents tbody tr[data-agent="{person}"]')
                await expect(row).to_have_count(1)
            await expect(board.locator('#totals [data-k="offered"]')).not_to_have_text("0")
