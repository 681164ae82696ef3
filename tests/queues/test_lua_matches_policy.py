"""The Lua script on Redis picks exactly what the pure policy picks, for random teams and queues."""

from __future__ import annotations

import itertools

import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kck.clock import ManualClock
from queues.policy import IdleAgent, WaitingCall, match_all
from queues.router import Router
from tests.queues.conftest import make_config, request

SKILL = st.sampled_from(["taxes", "roads", "english", "general"])
LEVEL = st.integers(1, 5)
AGENT_SKILLS = st.dictionaries(SKILL, LEVEL, min_size=1, max_size=3)
CALL = st.tuples(st.dictionaries(SKILL, st.integers(1, 3), max_size=2), st.integers(0, 2))
_prefix = itertools.count()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    agents=st.lists(AGENT_SKILLS, min_size=1, max_size=6),
    calls=st.lists(CALL, min_size=1, max_size=10),
    later_s=st.integers(0, 150),
)
async def test_agents_logging_in_take_the_calls_the_policy_gives_them(
    redis: aioredis.Redis,
    agents: list[dict[str, int]],
    calls: list[tuple[dict[str, int], int]],
    later_s: int,
) -> None:
    clock = ManualClock()
    team = {f"ag{i}": skills for i, skills in enumerate(agents)}
    config = make_config(team)
    router = Router(redis, config, prefix=f"x{next(_prefix)}", clock=clock)
    t0 = clock.monotonic()
    waiting: list[WaitingCall] = []
    for n, (skills, priority) in enumerate(calls):
        req = request(clock, skills, priority, call_id=f"c{n:02d}")
        await router.enqueue(req)
        steps = config.queues["city"].escalation
        waiting.append(WaitingCall(req.call_id, priority, clock.monotonic() - t0, skills, steps))
        clock.advance(1)
    clock.advance(later_s)
    assert await router.tick() == []  # no agent is logged in yet
    now = clock.monotonic() - t0

    got: list[tuple[str, str]] = []
    expected: list[tuple[str, str]] = []
    idle: list[IdleAgent] = []
    for name in team:
        got += [(o.call_id, o.agent) for o in await router.agent_login(name)]
        idle.append(IdleAgent(name, team[name], now))
        for call_id, agent in match_all(waiting, idle, now):
            expected.append((call_id, agent))
            waiting = [c for c in waiting if c.call_id != call_id]
            idle = [a for a in idle if a.username != agent]
    assert got == expected


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    agents=st.lists(AGENT_SKILLS, min_size=1, max_size=6),
    calls=st.lists(CALL, min_size=1, max_size=10),
)
async def test_arriving_callers_get_the_agent_the_policy_picks(
    redis: aioredis.Redis, agents: list[dict[str, int]], calls: list[tuple[dict[str, int], int]]
) -> None:
    clock = ManualClock()
    team = {f"ag{i}": skills for i, skills in enumerate(agents)}
    config = make_config(team)
    router = Router(redis, config, prefix=f"y{next(_prefix)}", clock=clock)
    t0 = clock.monotonic()
    idle: list[IdleAgent] = []
    for name in team:
        await router.agent_login(name)
        idle.append(IdleAgent(name, team[name], clock.monotonic() - t0))
        clock.advance(2)
    steps = config.queues["city"].escalation
    for n, (skills, priority) in enumerate(calls):
        req = request(clock, skills, priority, call_id=f"c{n:02d}")
        offer = await router.enqueue(req)
        now = clock.monotonic() - t0
        found = match_all([WaitingCall(req.call_id, priority, now, skills, steps)], idle, now)
        assert (None if offer is None else offer.agent) == (found[0][1] if found else None)
        idle = [a for a in idle if not found or a.username != found[0][1]]
        clock.advance(1)
