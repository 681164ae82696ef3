"""Router operations made at once share round trips (issue 20, point 4) and answer as one by one."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from kck.clock import ManualClock
from queues.model import EndCause, RoutingRequest
from queues.router import Router
from queues.script_batches import ScriptBatches
from queues.store import RouterStoreError
from tests.queues.conftest import make_config, request
from tests.redis_replies import stream_events

AGENTS = {f"a{n}": {"taxes": 3} for n in range(12)}


async def burst(router: Router, calls: list[RoutingRequest]) -> list[object]:
    """12 agents, then the calls offered at once and ended at once: every answer, in order."""
    for name in AGENTS:
        await router.agent_login(name)
    offers = await asyncio.gather(*(router.enqueue(c) for c in calls))
    ended = await asyncio.gather(
        *(router.call_ended(c.call_id, EndCause.CALLER_HANGUP) for c in calls)
    )
    return [*offers, *ended]


async def test_calls_made_at_once_are_answered_as_made_one_by_one_in_fewer_round_trips(
    redis: aioredis.Redis,
) -> None:
    clock = ManualClock()
    together = Router(redis, make_config(AGENTS), prefix="together", clock=clock)
    alone = Router(redis, make_config(AGENTS), prefix="alone", clock=clock)
    calls = [request(clock, {"taxes": 1}, call_id=f"c{n}") for n in range(20)]
    got = await burst(together, calls)

    for name in AGENTS:
        await alone.agent_login(name)
    expected: list[object] = [await alone.enqueue(c) for c in calls]
    for c in calls:
        expected.append(await alone.call_ended(c.call_id, EndCause.CALLER_HANGUP))

    assert got == expected
    assert sum(o is not None for o in got[:20]) == 12  # one offer per agent, the rest wait
    for stream in ("queues", "offers"):
        events = [(e.type, e.data) for e in await stream_events(redis, f"together:stream:{stream}")]
        assert events == [
            (e.type, e.data) for e in await stream_events(redis, f"alone:stream:{stream}")
        ]
    # 12 logins one by one, then the first enqueue and the first end alone, each burst's
    # other 19 calls together
    assert together.store.scripts.round_trips <= 12 + 2 * 2
    assert alone.store.scripts.round_trips == 12 + 40


async def test_a_batch_after_redis_lost_the_script_loads_it_and_runs_every_call(
    redis: aioredis.Redis,
) -> None:
    clock = ManualClock()
    router = Router(redis, make_config(AGENTS), prefix="t", clock=clock)
    await router.agent_login("a0")
    await redis.script_flush()
    offers = await asyncio.gather(
        *(router.enqueue(request(clock, {"taxes": 1}, call_id=f"x{n}")) for n in range(5))
    )
    assert [o is not None for o in offers] == [True, False, False, False, False]
    assert len(await redis.smembers("t:q:calls")) == 5


async def test_a_refused_call_fails_alone_and_a_cancelled_one_is_not_sent(
    redis: aioredis.Redis,
) -> None:
    scripts = ScriptBatches(
        redis,
        "if ARGV[1] == 'bad' then return redis.error_reply('bad') end "
        "redis.call('RPUSH', 'seen', ARGV[1]) return ARGV[1]",
    )
    first = asyncio.create_task(scripts.run(["first"]))
    await asyncio.sleep(0)  # the first call is out: the next ones wait for the next batch
    good = asyncio.create_task(scripts.run(["good"]))
    bad = asyncio.create_task(scripts.run(["bad"]))
    gone = asyncio.create_task(scripts.run(["gone"]))
    last = asyncio.create_task(scripts.run(["last"]))
    await asyncio.sleep(0)
    gone.cancel()
    assert await first == b"first"
    assert await good == b"good"
    with pytest.raises(aioredis.ResponseError, match="bad"):
        await bad
    assert await last == b"last"
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert await redis.lrange("seen", 0, -1) == [b"first", b"good", b"last"]
    assert scripts.round_trips == 2


async def test_the_router_names_the_operation_that_failed_in_a_batch(
    redis: aioredis.Redis,
) -> None:
    router = Router(redis, make_config(AGENTS), prefix="t", clock=ManualClock())
    results = await asyncio.gather(
        router.store.run("noop"), router.store.run("no_such_op"), return_exceptions=True
    )
    assert isinstance(results[1], RouterStoreError) and "no_such_op" in str(results[1])
