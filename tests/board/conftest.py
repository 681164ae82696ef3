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
from agentdesk.app import DeskParts, create_app
from agentdesk.board import register_board_routes
from agentdesk.board.force import AgentStateWriter
from agentdesk.kb_adapter import KbKnowledge
from agentdesk.reports import register_report_routes
from agentdesk.router_backend import RouterDeskBackend
from ivr import parse_menu_files, read_menu_files
from ivr.step_labels import MenuStepLabels
from kb import KnowledgeBase
from kck.clock import ManualClock
from kck.config_files import SHIPPED_CONFIG
from kck.db.models import Role, User
from kck.health import fixed_health
from kck.services import Services
from queues.router import Router
from tests.queues.conftest import make_config

# A Tuesday morning in Kraków (CET).
MORNING = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

SignIn = Callable[[TestClient, str, str], Awaitable[str]]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MORNING)


@pytest.fixture
def board_services(configured_services: Services, clock: ManualClock) -> Services:
    """Reading the shipped queues.yaml (queue names, service-level targets) on a manual clock."""
    return replace(configured_services, clock=clock)


def make_router(services: Services) -> Router:
    """The real router on the test Redis, on the same live channels as the services' bus."""
    return Router(services.redis, make_config(), prefix=services.bus.prefix, clock=services.clock)


def build_board_app(
    services: Services, router: Router | None = None, state_writer: AgentStateWriter | None = None
) -> web.Application:
    """The desk's application (sign-in, roles, CSRF) with the board and reports mounted."""
    parts = DeskParts(
        backend=RouterDeskBackend(router or make_router(services), services.clock),
        knowledge=KbKnowledge(KnowledgeBase(services.engine)),
    )
    app = create_app(services, fixed_health({"mode": "test", "parts": {}}), parts)
    register_board_routes(app, state_writer, min_interval_s=0.0)
    register_report_routes(app, step_labels=shipped_step_labels())
    return app


def shipped_step_labels() -> MenuStepLabels:
    """The step names of the menu kck ships (config/menus), as the live IVR would give them."""
    menu, problems = parse_menu_files(read_menu_files(SHIPPED_CONFIG / "menus"))
    assert menu is not None, problems
    return MenuStepLabels(menu)


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
        router_agent = make_config().agents.get(username)
        extension = router_agent.extension if router_agent else "150"
        if username not in made:
            await accounts.add(
                username, PASSWORD, Role(role), extension=extension, display_name=username.title()
            )
            made.add(username)
        login = await client.get("/login")
        response = await client.post(
            "/login",
            data={
                "username": username,
                "password": PASSWORD,
                "extension": extension if role == "agent" else "",
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
