"""Statistics: the definitions (pure), snapshots from a real Redis, Prometheus text, live broadcast."""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestClient

from kck.bus import EventBus
from kck.clock import ManualClock
from queues.model import AgentState, EndCause
from queues.router import Router
from queues.stats import (
    QueueStatistics,
    StatsBroadcaster,
    derive,
    metrics_handler,
    occupancy,
    prometheus_text,
)
from queues.store import STATS_TTL_S
from tests.exposition import sample
from tests.queues.conftest import request


def test_service_level_is_answered_within_target_over_answered() -> None:
    d = derive({"answered": 10, "answered_in_sl": 8, "entered": 14, "abandoned": 4})
    assert d["service_level"] == 0.8


def test_service_level_with_abandons_counts_abandons_except_short_ones() -> None:
    d = derive({"answered": 10, "answered_in_sl": 8, "abandoned": 4, "abandoned_short": 2})
    assert d["service_level_with_abandons"] == 8 / 12


def test_abandon_rate_leaves_short_abandons_out_of_both_sides() -> None:
    d = derive({"entered": 22, "abandoned": 4, "abandoned_short": 2})
    assert d["abandon_rate"] == 2 / 20


def test_asa_and_aht_are_means_in_seconds() -> None:
    d = derive(
        {
            "answered": 4,
            "wait_answered_ms": 40_000,
            "handled": 2,
            "talk_ms": 200_000,
            "wrap_ms": 40_000,
        }
    )
    assert d["asa_s"] == 10.0 and d["aht_s"] == 120.0


def test_ratios_without_calls_are_unknown_not_zero() -> None:
    assert set(derive({}).values()) == {None}


def test_occupancy_is_handling_time_over_staffed_time_without_pauses() -> None:
    assert (
        occupancy(
            {"available": 300, "on_call": 500, "wrap_up": 100, "offered": 100, "paused": 9999}
        )
        == 0.7
    )


async def scenario(router: Router, clock: ManualClock) -> None:
    await router.agent_login("ala")
    answered = request(clock, {"taxes": 1})
    offer = await router.enqueue(answered)
    assert offer is not None
    clock.advance(30)  # answered after 30 s: outside the 20 s target
    await router.offer_answered(offer.offer_id)
    waiting = request(clock, {"taxes": 1})
    await router.enqueue(waiting)
    clock.advance(60)
    await router.call_ended(answered.call_id, EndCause.COMPLETED)


async def test_snapshot_shows_waiting_longest_wait_and_todays_counters(
    router: Router, clock: ManualClock
) -> None:
    await scenario(router, clock)
    snap = await QueueStatistics(router.store, router.config).snapshot()
    city = snap["queues"]["city"]
    assert city["waiting"] == 1 and city["longest_wait_s"] == 60.0
    assert city["entered"] == 2 and city["answered"] == 1 and city["answered_in_sl"] == 0
    assert city["service_level"] == 0.0 and city["asa_s"] == 30.0
    assert city["talk_ms"] == 60_000 and city["handled"] == 1
    assert list(city["hours"]) == ["10"]  # 09:00 UTC is 10:00 in Warsaw
    assert snap["skills"]["taxes"]["waiting"] == 1
    assert snap["agents"]["by_state"]["wrap_up"] == 1
    assert snap["agents"]["state_ms"]["on_call"] == 60_000


async def test_prometheus_text_has_gauges_per_queue_and_agent_state(
    router: Router, clock: ManualClock
) -> None:
    await scenario(router, clock)
    text = prometheus_text(await QueueStatistics(router.store, router.config).snapshot())
    assert sample(text, "kck_queue_waiting_calls", queue="city") == 1
    assert sample(text, "kck_queue_calls_today", queue="city", kind="answered") == 1
    assert sample(text, "kck_agents", state="wrap_up") == 1
    assert "# TYPE kck_queue_asa_seconds gauge" in text


async def test_metrics_handler_serves_prometheus_text(
    router: Router, clock: ManualClock, aiohttp_client: Any
) -> None:
    await scenario(router, clock)
    app = web.Application()
    app.router.add_get("/metrics", metrics_handler(QueueStatistics(router.store, router.config)))
    client: TestClient[Any, Any] = await aiohttp_client(app)
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    assert sample(await response.text(), "kck_queue_waiting_calls", queue="city") == 1


async def test_statistics_are_broadcast_after_a_change(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> None:
    bus = EventBus(redis, prefix="t")
    broadcaster = StatsBroadcaster(
        QueueStatistics(router.store, router.config), bus, min_interval_s=0.05
    )
    received: list[tuple[str, dict[str, Any]]] = []

    async with bus.subscription("stats") as stats:
        await broadcaster.start()  # returns once subscribed to the changes
        try:
            await router.agent_login("ala")
            received.append(await asyncio.wait_for(anext(stats), 5))
        finally:
            await broadcaster.stop()
    kind, snap = received[0]
    assert kind == "snapshot" and snap["agents"]["by_state"][AgentState.AVAILABLE] == 1


async def test_period_counters_expire_so_redis_does_not_keep_every_hour_forever(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> None:
    """A counter key per queue, skill and agent state for every hour and day: without a TTL
    they add up to ~40 keys an hour, forever (found by bench/soak.py). Statistics read today
    only; the history is in SQL."""
    await scenario(router, clock)
    for _ in range(2):  # two more hours of callers who hang up while waiting
        clock.advance(3600)
        caller = request(clock, {"taxes": 1})
        await router.enqueue(caller)
        await router.call_ended(caller.call_id, EndCause.CALLER_HANGUP)
    keys = [key async for key in redis.scan_iter(match="t:q:st:*")]
    assert len(keys) >= 3 + 2 * 3  # the day's and each hour's, by queue and by skill
    lifetimes = [await redis.ttl(key) for key in keys]
    assert all(STATS_TTL_S - 60 < ttl <= STATS_TTL_S for ttl in lifetimes), dict(
        zip(keys, lifetimes, strict=True)
    )
