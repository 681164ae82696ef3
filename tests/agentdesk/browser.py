"""Debian's headless Chromium through Playwright (never a downloaded browser) and a live desk server."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

from aiohttp import web
from playwright.async_api import Browser, Page, ViewportSize, async_playwright

CHROMIUM = os.environ.get("KCK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # a Polish office PC (Accept-Language): pages follow it when no language was chosen
    "--accept-lang=pl-PL,pl",
]
DESK_VIEWPORT: ViewportSize = {"width": 1366, "height": 768}


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def serve(app: web.Application, port: int = 0) -> tuple[web.AppRunner, int]:
    """Run the app on 127.0.0.1 (port 0 = any free one); returns the runner and the port."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, reuse_address=True)
    await site.start()
    sockets = getattr(site._server, "sockets", None) or []
    return runner, sockets[0].getsockname()[1]


def watch_for_broken_scripts(page: Page) -> list[str]:
    """Script errors and Content-Security-Policy refusals on `page`, as they happen."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return problems
