"""The desk application with its matters wired (forwarding, the unit page, /matters), on the
desk world's services and a clock of the test's own."""

from __future__ import annotations

import re
from dataclasses import replace

from aiohttp import web
from sqlalchemy import select

from agentdesk.app import DeskParts, create_app
from agentdesk.keys import knowledge_key
from agentdesk.tickets.matters import MatterService
from agentdesk.tickets.units import CityUnits
from kck.clock import Clock
from kck.health import fixed_health
from matters.models import OutboxMessage
from tests.agentdesk.conftest import DeskWorld
from tests.matters.world import MAIL, SIGNER, UNITS, by_account


def matters_app(world: DeskWorld, matters: MatterService, clock: Clock) -> web.Application:
    parts = DeskParts(world.backend, world.app[knowledge_key], matters.units, matters)
    health = fixed_health({"mode": "test", "parts": {}})
    return create_app(replace(world.services, clock=clock), health, parts)


def matter_service(world: DeskWorld, clock: Clock, units: CityUnits = UNITS) -> MatterService:
    return MatterService(world.services.sessions, units, SIGNER, MAIL, clock)


async def outbox(world: DeskWorld) -> list[OutboxMessage]:
    async with world.services.sessions() as db:
        return list(await db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def link_path(body: str, page: str = "/unit/matter/") -> str:
    """The unit page's path in a unit's e-mail (MAIL's public address is http://kck.test); the
    resident's reply page with `page="/reply/"`."""
    found = re.search(rf"http://kck\.test({page}\S+)", body)
    assert found, body
    return found.group(1)


__all__ = [
    "by_account",
    "link_path",
    "matter_service",
    "matters_app",
    "outbox",
]
