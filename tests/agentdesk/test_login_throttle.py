"""Sign-in throttling per account and per address, shared by every node through Redis; the
password is checked in a worker thread, never on the event loop that serves calls. Two nodes
(two applications on the same Redis and database) behind a trusted proxy that forwards the
browser's address; time moves on the application's clock."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Literal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher

from agentdesk.accounts import Accounts
from agentdesk.app import create_app
from agentdesk.keys import accounts_key
from kck.clock import ManualClock
from kck.db.models import Role
from kck.health import fixed_health
from kck.services import Services
from tests.agentdesk.conftest import PASSWORD, csrf_of

LOCKOUT_S = 600
Node = TestClient
MakeNode = Callable[[], Awaitable[Node]]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def throttled(services: Services, clock: ManualClock) -> Services:
    http = services.settings.http.model_copy(
        update={
            "login_failures_per_account": 3,
            "login_failures_per_address": 5,
            "login_lockout_s": LOCKOUT_S,
            "trusted_proxies": ("127.0.0.0/8",),  # the test's proxy forwards the address
        }
    )
    settings = services.settings.model_copy(update={"http": http})
    return replace(services, settings=settings, clock=clock)


@pytest.fixture
def make_node(
    throttled: Services, aiohttp_client: Callable[[web.Application], Awaitable[Node]]
) -> MakeNode:
    async def make() -> Node:
        return await aiohttp_client(
            create_app(throttled, fixed_health({"mode": "test", "parts": {}}))
        )

    return make


async def attempt(
    node: Node, username: str, password: str, address: str, lang: str = "pl"
) -> tuple[int, str, dict[str, str]]:
    """One sign-in from the browser at `address`: status, page text, headers."""
    node.session.cookie_jar.clear()
    node.session.cookie_jar.update_cookies({"kck_lang": lang})
    forwarded = {"X-Forwarded-For": address}
    page = await node.get("/login", headers=forwarded)
    response = await node.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(await page.text())},
        headers=forwarded,
        allow_redirects=False,
    )
    return response.status, await response.text(), dict(response.headers)


async def test_after_too_many_wrong_passwords_the_right_one_is_refused_on_every_node_until_the_time_passes(
    throttled: Services, make_node: MakeNode, clock: ManualClock
) -> None:
    await Accounts(throttled.sessions).add("sylwia", PASSWORD, Role.SUPERVISOR)
    node_a, node_b = await make_node(), await make_node()
    for n in range(3):  # from several addresses, on node A
        assert (await attempt(node_a, "sylwia", f"guess-{n}", f"198.51.100.{n}"))[0] == 401
    # the right password, on node B, from an address that never failed
    status, text, headers = await attempt(node_b, "sylwia", PASSWORD, "203.0.113.7")
    assert status == 429
    assert "Zbyt wiele nieudanych prób logowania. Spróbuj ponownie za 10 min." in text
    assert headers["Retry-After"] == str(LOCKOUT_S)
    assert "kck_session" not in headers.get("Set-Cookie", "")
    clock.advance(LOCKOUT_S - 60)
    status, text, headers = await attempt(node_a, "SYLWIA", PASSWORD, "203.0.113.7", lang="en")
    assert status == 429 and "Too many failed sign-in attempts. Try again in 1 min." in text
    assert headers["Retry-After"] == "60"
    clock.advance(61)
    assert (await attempt(node_b, "sylwia", PASSWORD, "203.0.113.7"))[0] == 302


async def test_one_address_trying_many_accounts_is_refused_there_only(
    throttled: Services, make_node: MakeNode, clock: ManualClock
) -> None:
    await Accounts(throttled.sessions).add("sylwia", PASSWORD, Role.SUPERVISOR)
    node_a, node_b = await make_node(), await make_node()
    for n in range(5):  # five accounts once each: no account reaches its limit
        assert (await attempt(node_a, f"user{n}", "guess", "198.51.100.66"))[0] == 401
    status, _, headers = await attempt(node_b, "sylwia", PASSWORD, "198.51.100.66")
    assert status == 429 and headers["Retry-After"] == str(LOCKOUT_S)
    assert (await attempt(node_b, "sylwia", PASSWORD, "198.51.100.67"))[0] == 302


async def test_an_address_written_by_the_browser_itself_is_not_believed(
    services: Services, aiohttp_client: Callable[[web.Application], Awaitable[Node]]
) -> None:
    """Without trusted proxies X-Forwarded-For is ignored: a new one per try does not help."""
    http = services.settings.http.model_copy(update={"login_failures_per_address": 2})
    settings = services.settings.model_copy(update={"http": http})
    node = await aiohttp_client(
        create_app(
            replace(services, settings=settings), fixed_health({"mode": "test", "parts": {}})
        )
    )
    for n in range(2):
        assert (await attempt(node, f"user{n}", "guess", f"198.51.100.{n}"))[0] == 401
    assert (await attempt(node, "user9", "guess", "198.51.100.99"))[0] == 429


class RecordingHasher(PasswordHasher):
    """The real argon2 hasher, noting the thread each check ran on."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[int] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.threads.append(threading.get_ident())
        return super().verify(hash, password)

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.threads.append(threading.get_ident())
        return super().hash(password, salt=salt)


async def test_passwords_are_hashed_and_checked_off_the_event_loop_thread(
    throttled: Services, aiohttp_client: Callable[[web.Application], Awaitable[Node]]
) -> None:
    hasher = RecordingHasher()
    accounts = Accounts(throttled.sessions, hasher)
    await accounts.add("sylwia", PASSWORD, Role.SUPERVISOR)
    app = create_app(throttled, fixed_health({"mode": "test", "parts": {}}))
    app[accounts_key] = accounts
    node = await aiohttp_client(app)
    assert (await attempt(node, "sylwia", "wrong password", "198.51.100.1"))[0] == 401
    assert (await attempt(node, "sylwia", PASSWORD, "198.51.100.1"))[0] == 302
    assert (await attempt(node, "nobody", PASSWORD, "198.51.100.1"))[0] == 401
    loop_thread = threading.get_ident()
    assert len(hasher.threads) == 4  # one hash, three checks
    assert loop_thread not in hasher.threads, "argon2 ran on the event loop's thread"
