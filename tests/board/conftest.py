"""Board fixtures: the web application with the board and reports mounted, signed-in clients."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from agentdesk.accounts import Accounts
from agentdesk.app import create_app
from agentdesk.board import register_board_routes
from agentdesk.reports import Principal, register_report_routes
from kck.clock import ManualClock
from kck.db.models import Role, User
from kck.services import Services

# A Tuesday morning in Kraków (CET).
MORNING = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
TEST_COOKIE = "kck_test_principal"

SignIn = Callable[[TestClient, str, str], Awaitable[str]]


async def cookie_principal(request: web.Request) -> Principal | None:
    """Test-only sign-in until the desk's sessions are mounted: the cookie names a known session."""
    token = request.cookies.get(TEST_COOKIE)
    sessions: dict[str, Principal] = request.app[test_sessions_key]
    return sessions.get(token or "")


test_sessions_key: web.AppKey[dict[str, Principal]] = web.AppKey("test_sessions")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MORNING)


@pytest.fixture
def board_services(services: Services, clock: ManualClock) -> Services:
    return replace(services, clock=clock)


def build_board_app(services: Services) -> web.Application:
    """The desk's application (sign-in, roles, CSRF) with the board and reports mounted."""
    app = create_app(services, lambda: {"mode": "test", "parts": {}})
    register_board_routes(app, min_interval_s=0.0)
    register_report_routes(app)
    return app


@pytest.fixture
async def board_client(
    aiohttp_client: Callable[[web.Application], Awaitable[TestClient]],
    board_services: Services,
) -> AsyncIterator[TestClient]:
    client = await aiohttp_client(build_board_app(board_services))
    yield client
    await client.close()  # before the Redis fixture empties and closes its client


PASSWORD = "hasło-do-tablicy-2026"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no csrf_token field in the page"
    return found.group(1)


@pytest.fixture
def sign_in(board_services: Services) -> SignIn:
    accounts = Accounts(board_services.sessions)
    made: set[str] = set()

    async def sign(client: TestClient, username: str, role: str) -> str:
        """Make the account (once) and sign in through the login form, as a person would;
        returns the session's CSRF token."""
        if username not in made:
            await accounts.add(
                username, PASSWORD, Role(role), extension="150", display_name=username.title()
            )
            made.add(username)
        login = await client.get("/login")
        response = await client.post(
            "/login",
            data={
                "username": username,
                "password": PASSWORD,
                "extension": "150" if role == "agent" else "",
                "csrf_token": csrf_of(await login.text()),
            },
        )
        assert response.status == 200, await response.text()
        return csrf_of(await response.text())

    return sign


async def add_users(services: Services, *names: str, role: Role = Role.AGENT) -> dict[str, int]:
    async with services.sessions.begin() as session:
        users = [
            User(username=n, display_name=n.title(), password_hash="x", role=role.value)
            for n in names
        ]
        session.add_all(users)
        await session.flush()
        return {u.username: u.id for u in users}
