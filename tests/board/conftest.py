"""Board fixtures: the web application with the board and reports mounted, signed-in clients."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from agentdesk.app import create_app
from agentdesk.board import register_board_routes
from agentdesk.reports import Principal, principal_resolver_key, register_report_routes
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
    app = create_app(services, lambda: {"mode": "test", "parts": {}})
    app[test_sessions_key] = {}
    app[principal_resolver_key] = cookie_principal
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


@pytest.fixture
def sign_in() -> SignIn:
    async def sign(client: TestClient, username: str, role: str) -> str:
        """Sign `username` in with `role` on this client; returns their CSRF token."""
        token, csrf = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        client.app[test_sessions_key][token] = Principal(username, role, csrf)
        client.session.cookie_jar.update_cookies({TEST_COOKIE: token})
        return csrf

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
