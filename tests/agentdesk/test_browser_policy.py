"""Every response carries the security headers (CSP self only, no framing, nosniff, referrer
policy); kck's cookies are Secure when `http.secure_cookies` says TLS is in front; and under that
policy every screen still works in a real Chromium (no inline script or style is refused)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from playwright.async_api import expect

from agentdesk.accounts import Accounts
from agentdesk.keys import services_key
from agentdesk.recording_routes import register_recording_routes
from kck.db.models import Role
from kck.services import Services
from tests.agentdesk.browser import DESK_VIEWPORT, chromium, serve, watch_for_broken_scripts
from tests.agentdesk.conftest import PASSWORD, Client, DeskWorld, csrf_of, sign_in
from tests.agentdesk.test_recording_access import access_of, store_recording
from tests.board.conftest import build_board_app


def _assert_guarded(response: ClientResponse, what: str) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp, f"{what}: CSP {csp!r}"
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp, f"{what}: CSP {csp!r}"
    assert "frame-ancestors 'none'" in csp, f"{what}: CSP {csp!r}"
    assert headers.get("X-Frame-Options") == "DENY", what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") == "same-origin", what


async def test_every_kind_of_response_carries_the_security_headers(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    anonymous = {
        "login page": ("GET", "/login", 200),
        "health JSON": ("GET", "/health", 200),
        "static script": ("GET", "/static/desk.js", 200),
        "unknown page": ("GET", "/no-such-page", 404),
        "page to sign in for": ("GET", "/desk", 302),
        "API without a session": ("GET", "/api/desk/state", 401),
        "sign-in without its token": ("POST", "/login", 403),
    }
    for what, (method, path, status) in anonymous.items():
        response = await client.request(method, path, allow_redirects=False)
        assert response.status == status, f"{what}: {response.status}"
        _assert_guarded(response, what)
    token = await sign_in(client, "anowak")
    signed_in = {
        "desk page": await client.get("/desk"),
        "state JSON": await client.get("/api/desk/state"),
        "refused JSON": await client.post(
            "/api/desk/state", json={"state": "nonsense"}, headers={"X-CSRF-Token": token}
        ),
    }
    for what, response in signed_in.items():
        _assert_guarded(response, what)


async def _login_cookies(client: TestClient) -> dict[str, str]:
    """Set-Cookie headers of the login page and of signing in, by cookie name."""
    page = await client.get("/login")
    token = csrf_of(await page.text())
    response = await client.post(
        "/login",
        data={"username": "sylwia", "password": PASSWORD, "csrf_token": token},
        # by hand: the test client keeps a Secure cookie off plain HTTP, as a browser would
        headers={"Cookie": f"kck_login_csrf={token}"},
        allow_redirects=False,
    )
    assert response.status == 302
    headers = page.headers.getall("Set-Cookie") + response.headers.getall("Set-Cookie")
    return {h.split("=", 1)[0]: h for h in headers if "Max-Age=0" not in h}


@pytest.mark.parametrize("secure", [False, True], ids=["plain HTTP", "behind TLS"])
async def test_cookies_are_secure_when_the_setting_says_tls_is_in_front(
    world: DeskWorld,
    aiohttp_client: Callable[[web.Application], Awaitable[TestClient]],
    secure: bool,
) -> None:
    await world.add_user("sylwia", Role.SUPERVISOR, extension=None)
    http = world.services.settings.http.model_copy(update={"secure_cookies": secure})
    settings = world.services.settings.model_copy(update={"http": http})
    world.app[services_key] = replace(world.services, settings=settings)
    client = await aiohttp_client(world.app)
    cookies = await _login_cookies(client)
    assert set(cookies) == {"kck_login_csrf", "kck_session"}
    for header in cookies.values():
        assert ("; Secure" in header) == secure, header
        assert "HttpOnly" in header, header


@pytest.fixture
async def whole_app_url(configured_services: Services) -> AsyncIterator[str]:
    await Accounts(configured_services.sessions).add("sylwia", PASSWORD, Role.SUPERVISOR)
    runner, port = await serve(build_board_app(configured_services))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_every_screen_runs_under_the_policy_in_a_real_browser(whole_app_url: str) -> None:
    async with chromium() as browser:
        page = await browser.new_page(viewport=DESK_VIEWPORT)
        problems = watch_for_broken_scripts(page)
        await page.goto(f"{whole_app_url}/login")
        await page.click("#lang-switch")  # the sign-in page's script
        await page.wait_for_selector("html[lang=en]")
        await page.fill("#username", "sylwia")
        await page.fill("#password", PASSWORD)
        await page.click("#login-submit")
        await page.wait_for_url(f"{whole_app_url}/supervisor")  # the supervisor's home
        await page.goto(f"{whole_app_url}/desk")
        await expect(page.locator("#conn")).to_have_attribute("data-up", "1")  # desk.js, socket
        await page.goto(f"{whole_app_url}/board")
        await expect(page.locator("#link")).to_have_class("link up")  # board.js, its socket
        await page.goto(f"{whole_app_url}/reports")
        await expect(page.locator("figure svg").first).to_be_visible()
        await page.goto(f"{whole_app_url}/editor/cards")  # the editor's screens, read-only
        await expect(page.locator("#card-search")).to_be_visible()
        await page.goto(f"{whole_app_url}/status")
        await page.click("#lang-switch")  # the top bar's script
        await expect(page.locator("html")).to_have_attribute("lang", "pl")
        assert problems == []


async def test_the_recordings_page_plays_under_the_policy_in_a_real_browser(
    world: DeskWorld,
) -> None:
    register_recording_routes(world.app, access_of(world), None)
    await world.add_user("boss", Role.SUPERVISOR, extension=None)
    recording = await store_recording(world)
    runner, port = await serve(world.app)
    url = f"http://127.0.0.1:{port}"
    try:
        async with chromium() as browser:
            page = await browser.new_page(viewport=DESK_VIEWPORT)
            problems = watch_for_broken_scripts(page)
            await page.goto(f"{url}/login")
            await page.fill("#username", "boss")
            await page.fill("#password", PASSWORD)
            await page.click("#login-submit")
            await page.goto(f"{url}/recordings")
            await page.fill("#reason", "skarga 17/2026")
            await page.click(f'tr[data-id="{recording}"] button.play')  # recordings.js
            src = re.compile(rf"/recordings/{recording}/audio")
            await expect(page.locator("#player")).to_have_attribute("src", src)
            csp = [p for p in problems if "Content Security Policy" in p]
            assert csp == []
    finally:
        await runner.cleanup()
