"""`kck demo` as a newcomer meets it: sign in as a spare agent, go available, a simulated caller pops."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.agentdesk.browser import chromium

pytestmark = pytest.mark.browser
REPO = Path(__file__).parents[2]


async def test_a_simulated_caller_pops_on_the_desk_of_a_person_signed_in_to_the_demo(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KCK_")}
    env["PYTHONPATH"] = str(REPO)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kck.cli",
        "demo",
        "--http-port",
        "0",
        "--calls-per-hour",
        "1500",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        url, password, supervisor, second = None, None, None, None
        while password is None or supervisor is None or second is None:
            line = (await asyncio.wait_for(proc.stdout.readline(), 120)).decode()
            assert line, "the demo stopped before printing its accounts"
            if match := re.search(r"open (http://\S+)/", line):
                url = match.group(1)
            if match := re.match(r"\s+anowak\s+(\S+)\s+agent ext 101\s+← for you", line):
                password = match.group(1)
            if match := re.match(r"\s+pkowalski\s+(\S+)\s+agent ext 102\s+← for you", line):
                second = match.group(1)
            if match := re.match(r"\s+supervisor\s+(\S+)\s+supervisor", line):
                supervisor = match.group(1)
        assert url is not None
        async with chromium() as browser:
            # the agents left for people are nobody's until a person signs in: no robot takes
            # their calls (it did, and the person's sign-in was refused "while on_call")
            other = await browser.new_page(viewport={"width": 1366, "height": 768})
            await other.goto(f"{url}/login")
            await other.fill("#username", "pkowalski")
            await other.fill("#password", second)
            await other.fill("#extension", "102")
            await other.press("#extension", "Enter")
            await expect(other).to_have_url(f"{url}/desk")
            await expect(other.locator("#state-badge")).to_have_attribute("data-state", "paused")
            page = await browser.new_page(viewport={"width": 1366, "height": 768})
            await page.goto(f"{url}/login")
            await page.fill("#username", "anowak")
            await page.fill("#password", password)
            await page.fill("#extension", "101")
            await page.press("#extension", "Enter")
            await expect(page).to_have_url(f"{url}/desk")
            await expect(page.locator("#conn")).to_have_attribute("data-up", "1")
            await page.click("#btn-available")
            badge = page.locator("#state-badge")
            await expect(badge).to_have_attribute("data-state", "available")
            # anowak is the ID-card expert: the next ID-card caller is offered to her
            pop = page.locator("#pop")
            await expect(pop).to_be_visible(timeout=120_000)
            await expect(page.locator("#ivr-path")).not_to_be_empty()
            await expect(page.locator("#suggestions li").first).to_be_visible(timeout=30_000)
            # the simulated phone answers: the call is on
            await expect(badge).to_have_attribute("data-state", "on_call", timeout=30_000)
            if shots := os.environ.get("KCK_SCREENSHOTS"):
                await page.screenshot(path=str(Path(shots) / "demo-pop.png"))
            # the supervisor's wall board sees the same centre, live
            board = await browser.new_page(viewport={"width": 1366, "height": 768})
            await board.goto(f"{url}/login")
            await board.fill("#username", "supervisor")
            await board.fill("#password", supervisor)
            await board.press("#password", "Enter")
            await expect(board).to_have_url(f"{url}/supervisor")  # the supervisor's home
            await board.click("#home-cards a[data-card='/board']")
            await expect(board.locator("#link")).to_have_class("link up")
            await expect(board.locator('#agents tbody tr[data-agent="anowak"]')).to_have_count(1)
            await expect(board.locator('#totals [data-k="offered"]')).not_to_have_text("0")
    finally:
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 60) == 0
