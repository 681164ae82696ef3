"""The router as a runtime component: starts, serves timers and records, stops cleanly."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from kck.db.models import AgentStateLog
from kck.services import Services
from queues.component import SHIPPED_CONFIG, create_router_component
from queues.config import load_routing_config


def test_shipped_configuration_is_valid_and_has_a_city_hall_team() -> None:
    config = load_routing_config(SHIPPED_CONFIG)
    assert len(config.agents) >= 12
    assert "general" in config.skills and "citizens_affairs" in config.queues
    assert all(1 <= lvl <= 5 for a in config.agents.values() for lvl in a.skills.values())


async def test_component_records_agent_transitions_in_sql_and_reports_health(
    services: Services,
) -> None:
    component = await create_router_component(services)
    await component.start()
    try:
        assert component.health()["up"] is True
        await component.router.agent_login("anowak")
        for _ in range(200):
            async with services.sessions() as session:
                rows = (await session.scalars(select(AgentStateLog.state))).all()
            if rows:
                break
            await asyncio.sleep(0.05)
        assert rows == ["available"]
    finally:
        await component.stop()
    assert component.health()["up"] is False
