"""The router's Redis indexes stay exactly in step with the calls and agents, and the shortcut
for an agent who takes a call the moment they become free picks what the policy picks."""

from __future__ import annotations

import redis.asyncio as aioredis

from kck.clock import ManualClock
from queues.model import AgentState, EndCause
from queues.router import Router
from tests.queues.conftest import request
from tests.queues.indexes import actual_indexes, expected_indexes


async def assert_indexes_in_step(redis: aioredis.Redis, router: Router, clock: ManualClock) -> None:
    now_ms = int(clock.now().timestamp() * 1000)
    expected = await expected_indexes(redis, "t", router.config, now_ms)
    assert await actual_indexes(redis, "t") == expected


async def test_indexes_follow_login_pause_logout_offer_timeout_escalation_and_hangup(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> None:
    await router.agent_login("ala")
    await router.agent_login("bob", paused=True)
    await router.agent_login("cyd")
    await assert_indexes_in_step(redis, router, clock)
    roads = request(clock, {"roads": 1})  # only bob (roads 4) qualifies, and he is paused
    anyone = request(clock, {})
    waste = request(clock, {"waste": 2, "english": 1}, priority=1)  # nobody has both
    assert await router.enqueue(roads) is None
    first = await router.enqueue(anyone)
    assert first is not None
    assert await router.enqueue(waste) is None
    await assert_indexes_in_step(redis, router, clock)

    await router.offer_not_answered(first.offer_id)  # ring timeout: paused, caller to the head
    await assert_indexes_in_step(redis, router, clock)
    offers = await router.set_agent_state("bob", AgentState.AVAILABLE)
    assert [o.call_id for o in offers] == [roads.call_id]
    await assert_indexes_in_step(redis, router, clock)

    again = await router.current_offer("cyd")  # the caller sent back to the head went to cyd
    assert again is not None and again.call_id == anyone.call_id
    await router.offer_answered(again.offer_id)  # (an offer nobody acts on would expire)
    clock.advance(95)  # escalated twice: general ≥ 1 may take the waste call, nobody is free
    await router.tick()
    await assert_indexes_in_step(redis, router, clock)
    await router.set_agent_state(first.agent, AgentState.LOGGED_OUT)
    await router.call_ended(roads.call_id, EndCause.CALLER_HANGUP)  # bob was ringing
    await assert_indexes_in_step(redis, router, clock)
    await router.call_ended(anyone.call_id, EndCause.COMPLETED)  # cyd to wrap-up
    await assert_indexes_in_step(redis, router, clock)
    offers = await router.set_agent_state("cyd", AgentState.AVAILABLE)  # wrap-up ended by hand
    assert [o.call_id for o in offers] == [waste.call_id]
    await router.call_ended(waste.call_id, EndCause.CALLER_HANGUP)
    await assert_indexes_in_step(redis, router, clock)
    await router.device_state("PJSIP/102", "INUSE")
    await assert_indexes_in_step(redis, router, clock)
    await router.device_state("PJSIP/102", "NOT_INUSE")
    await assert_indexes_in_step(redis, router, clock)


async def _call_held_by_a_stalled_process(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> str:
    """A taxes call, escalated to level 1, that was not offered while its process was silent."""
    req = request(clock, {"taxes": 1})
    assert await router.enqueue(req, node="stalled") is None
    await redis.delete(router.store.key("node", "stalled"))  # no heartbeat since: not offerable
    clock.advance(31)
    await router.tick()
    return req.call_id


async def _process_beats_again(router: Router, redis: aioredis.Redis) -> None:
    # the key alone, without the `node` operation (which would match its calls itself)
    await redis.set(router.store.key("node", "stalled"), "1", ex=60)


async def test_free_agent_with_the_better_level_gets_the_call_another_agent_finds(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> None:
    call_id = await _call_held_by_a_stalled_process(router, clock, redis)
    assert await router.agent_login("ala") == []  # taxes 5, but nobody would dial the caller
    await _process_beats_again(router, redis)
    offers = await router.agent_login("bob")  # taxes 2 finds the call; ala is better
    assert [(o.call_id, o.agent) for o in offers] == [(call_id, "ala")]
    status = await router.agent_status("bob")
    assert status is not None and status.state is AgentState.AVAILABLE
    await assert_indexes_in_step(redis, router, clock)


async def test_agent_becoming_free_with_the_better_level_gets_the_call_before_a_free_one(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> None:
    call_id = await _call_held_by_a_stalled_process(router, clock, redis)
    assert await router.agent_login("bob") == []
    await _process_beats_again(router, redis)
    offers = await router.agent_login("ala")
    assert [(o.call_id, o.agent) for o in offers] == [(call_id, "ala")]
    await assert_indexes_in_step(redis, router, clock)


async def test_calls_indexed_by_the_previous_script_move_to_the_current_indexes(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> None:
    taxes, anyone = request(clock, {"taxes": 1}), request(clock, {})
    assert await router.enqueue(taxes) is None
    assert await router.enqueue(anyone) is None
    # what the previous script left: one set per (skill, exact level), no layout mark
    for key in await redis.keys("t:q:wait:*"):
        await redis.delete(key)
    score = float((await router.call_state(taxes.call_id) or {})["score"])
    await redis.zadd("t:q:wait:taxes:3", {taxes.call_id: score})
    score = float((await router.call_state(anyone.call_id) or {})["score"])
    await redis.zadd("t:q:wait:__any__:1", {anyone.call_id: score})
    await redis.delete("t:q:layout")

    assert await router.tick() == []
    await assert_indexes_in_step(redis, router, clock)
    offers = await router.agent_login("ala")
    assert [o.call_id for o in offers] == [taxes.call_id]
