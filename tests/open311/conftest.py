"""An Open311 world: the web application with matters wired, on SQLite and on PostgreSQL (the
`engine` fixture), the test Redis, a clock of the test's own, and an API client with its key."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from agentdesk.app import DeskParts, create_app
from agentdesk.kb_adapter import KbKnowledge
from agentdesk.open311.clients import ApiClients
from agentdesk.router_backend import RouterDeskBackend
from agentdesk.tasks.desk import desk_tasks
from agentdesk.tasks.routes import register_task_routes
from agentdesk.tickets.matters import MatterService
from kb import KnowledgeBase
from kck.bus import EventBus
from kck.clock import ManualClock
from kck.db import session_factory
from kck.health import fixed_health
from kck.services import Services
from kck.settings import Settings
from matters.models import OutboxMessage
from queues.router import Router
from tests.agentdesk.conftest import routing_config
from tests.matters.world import MAIL, SIGNER, UNITS

Client = TestClient[web.Request, web.Application]
START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # 10:00 in Warsaw


@dataclass
class Open311World:
    services: Services
    clock: ManualClock
    client: Client
    key: str  # the portal's API key

    async def outbox(self) -> list[OutboxMessage]:
        async with self.services.sessions() as db:
            return list(await db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))

    async def post(self, fmt: str = "json", **fields: Any) -> Any:
        form = {"api_key": self.key, **fields}
        return await self.client.post(f"/open311/v2/requests.{fmt}", data=form)

    async def get(self, path: str, **query: str) -> Any:
        return await self.client.get(f"/open311/v2/{path}", params=query)


def report(**changes: str) -> dict[str, str]:
    """A resident's report from the portal, as its form sends it."""
    fields = {
        "service_code": "greenery",
        "lat": "50.0614",
        "long": "19.9366",
        "address_string": "ul. Floriańska 1",
        "description": "Złamana gałąź wisi nad chodnikiem",
        "email": "anna@example.org",
        "first_name": "Anna",
        "last_name": "Kowalska",
        "phone": "600 123 456",
    }
    fields.update(changes)
    return fields


def link_path(body: str) -> str:
    found = re.search(r"http://kck\.test(/unit/matter/\S+)", body)
    assert found, body
    return found.group(1)


def form_token_of(html: str) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', html)
    assert found, "no form token in the unit page"
    return found.group(1)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def open311(
    settings: Settings,
    engine: AsyncEngine,
    redis: aioredis.Redis,
    clock: ManualClock,
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
    tmp_path: Path,
) -> AsyncIterator[Open311World]:
    services = Services(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        redis=redis,
        bus=EventBus(redis, prefix=f"o311{tmp_path.name[-6:]}"),
        clock=clock,
    )
    router = Router(redis, routing_config(), prefix=services.bus.prefix, clock=clock)
    matters = MatterService(services.sessions, UNITS, SIGNER, MAIL, clock)
    parts = DeskParts(
        RouterDeskBackend(router, clock), KbKnowledge(KnowledgeBase(engine)), UNITS, matters
    )
    app = create_app(services, fixed_health({"mode": "test", "parts": {}}), parts)
    register_task_routes(app, desk_tasks(services, router))  # as `kck serve` does
    _, key = await ApiClients(services.sessions).add("portal", clock.now())
    yield Open311World(services, clock, await aiohttp_client(app), key)
