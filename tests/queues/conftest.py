"""Fixtures for the router tests: a small routing configuration, a manual clock, routers on Redis."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from kck.clock import ManualClock
from queues.config import AgentConfig, EscalationStep, QueueConfig, RoutingConfig, Skill
from queues.model import AgentState, RoutingRequest
from queues.router import Router

SKILLS = ("taxes", "roads", "english", "general", "waste")
_ids = itertools.count(1)


async def state_of(router: Router, username: str) -> AgentState | None:
    """The agent's state in the router; None when the router holds no record of them."""
    status = await router.agent_status(username)
    return None if status is None else status.state


def make_config(
    agents: dict[str, dict[str, int]] | None = None, wrap_up_s: int = 30, **queue: Any
) -> RoutingConfig:
    city = QueueConfig(
        id="city",
        name_pl="Miasto",
        name_en="City",
        escalation=(
            EscalationStep(after_s=0, min_level=3),
            EscalationStep(after_s=30, min_level=1),
            EscalationStep(after_s=90, add_skills={"general": 1}),
        ),
        wrap_up_s=wrap_up_s,
        ring_timeout_s=queue.pop("ring_timeout_s", 15),
        **queue,
    )
    agents = agents or {
        "ala": {"taxes": 5, "english": 3},
        "bob": {"taxes": 2, "roads": 4},
        "cyd": {"general": 4},
        "dan": {"roads": 5, "waste": 3},
    }
    return RoutingConfig(
        skills={s: Skill(id=s, name_pl=s, name_en=s) for s in SKILLS},
        queues={"city": city},
        agents={
            name: AgentConfig(username=name, name=name.title(), extension=str(100 + n), skills=sk)
            for n, (name, sk) in enumerate(agents.items(), start=1)
        },
        short_abandon_s=5,
    )


def request(
    clock: ManualClock, skills: dict[str, int], priority: int = 0, call_id: str | None = None
) -> RoutingRequest:
    n = next(_ids)
    return RoutingRequest(
        call_id=call_id or f"call{n}",
        uniqueid=f"1700000000.{n}",
        channel=f"PJSIP/trunk-{n:08x}",
        caller="+48126165555",
        language="pl",
        queue="city",
        skills=skills,
        priority=priority,
        arrived_at=clock.now().isoformat(),
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def router(redis: aioredis.Redis, clock: ManualClock) -> AsyncIterator[Router]:
    yield Router(redis, make_config(), prefix="t", clock=clock)
