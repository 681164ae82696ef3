"""Calls the dialplan's fallback queue took are recorded as what happened there — answered or
abandoned in the fallback queue — never as kck's abandons (which raised the abandon rate after
every controller outage). Replays AMI events captured from the real Asterisk 22.10.1."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from asterisk.ami import AMISnapshot, ChannelSnapshot, parse_event
from asterisk.ami.message import AMIMessage
from kck.bus import EventBus
from kck.call_events import CALL_ARRIVED, CALLS_STREAM, CallArrived
from kck.clock import ManualClock
from kck.db import session_factory
from kck.db.models import Call
from queues.ami_events import RouterAMIAdapter
from queues.call_resync import CallRowResync
from queues.recorder import QueueRecorder
from queues.router import Router
from tests.queues.conftest import request
from tests.queues.test_recorder import replay

CAPTURE = Path(__file__).parents[1] / "data" / "real_asterisk" / "fallback-queue-events.json"


def captured() -> list[dict[str, str]]:
    """The real events: caller 1 answered by phone 101, caller 2 hangs up while waiting."""
    return list(json.loads(CAPTURE.read_text()))


def as_event(headers: dict[str, str]) -> object:
    return parse_event(AMIMessage(tuple(headers.items())))


def _uniqueids() -> tuple[str, str]:
    joins = [e["Uniqueid"] for e in captured() if e["Event"] == "QueueCallerJoin"]
    return joins[0], joins[1]


async def test_calls_the_fallback_queue_took_are_its_outcome_not_kcks_abandons(
    router: Router, clock: ManualClock, redis: aioredis.Redis, engine: AsyncEngine
) -> None:
    answered_uid, abandoned_uid = _uniqueids()
    # kck held both callers in its queue when it failed them (e.g. the process was killed)
    first = replace(request(clock, {"taxes": 1}), uniqueid=answered_uid)
    second = replace(request(clock, {"taxes": 1}), uniqueid=abandoned_uid)
    await router.enqueue(first, node="gone")
    await router.enqueue(second, node="gone")
    adapter = RouterAMIAdapter(router)
    for headers in captured():
        await adapter.on_event(as_event(headers))

    assert await router.call_state(first.call_id) is None
    assert await router.call_state(second.call_id) is None
    stats = await router.store.hash("st", "d", first.arrived_at[:10], "q", "city")
    assert stats.get("abandoned", "0") == "0"
    assert (stats["transferred"], stats["fallback_answered"], stats["fallback_abandoned"]) == (
        "2",
        "1",
        "1",
    )
    sessions = session_factory(engine)
    await replay(redis, QueueRecorder(sessions, router.config))
    async with sessions() as db:
        rows = {r.uniqueid: r for r in await db.scalars(select(Call))}
    assert rows[answered_uid].outcome == "fallback_answered"
    assert rows[abandoned_uid].outcome == "fallback_abandoned"
    assert rows[answered_uid].hangup_cause == "fallback"
    assert rows[answered_uid].ended_at is not None  # it left kck's queue: not waiting any more


async def test_a_fallback_event_seen_by_two_controllers_counts_once(
    router: Router, clock: ManualClock
) -> None:
    answered_uid, _ = _uniqueids()
    await router.enqueue(replace(request(clock, {"taxes": 1}), uniqueid=answered_uid))
    other_node = RouterAMIAdapter(router)
    for headers in captured():
        await RouterAMIAdapter(router).on_event(as_event(headers))
        await other_node.on_event(as_event(headers))
    day = clock.now().isoformat()[:10]
    stats = await router.store.hash("st", "d", day, "q", "city")
    assert (stats["transferred"], stats["fallback_answered"]) == ("1", "1")


def _channel(uniqueid: str, application: str, data: str) -> ChannelSnapshot:
    return ChannelSnapshot(
        channel=f"PJSIP/kck-trunk-{uniqueid}",
        uniqueid=uniqueid,
        linkedid=uniqueid,
        state=6,
        state_desc="Up",
        caller_id_num=None,
        caller_id_name=None,
        connected_line_num=None,
        connected_line_name=None,
        context="kck-inbound",
        exten="126165555",
        application=application,
        application_data=data,
        duration=None,
        bridge_id=None,
    )


async def test_resync_after_a_restart_tells_fallback_from_abandon_by_who_held_the_caller(
    router: Router, clock: ManualClock
) -> None:
    in_fallback = request(clock, {"taxes": 1})
    gone_held_by_dead = request(clock, {"taxes": 1})
    gone_held_by_live = request(clock, {"taxes": 1})
    await router.enqueue(in_fallback, node="dead")
    await router.enqueue(gone_held_by_dead, node="dead")
    await router.enqueue(gone_held_by_live, node="alive")
    await router.node_gone("dead")  # the controller holding them was killed
    clock.advance(2)
    snapshot = AMISnapshot(
        channels=(_channel(in_fallback.uniqueid, "Queue", "kck-fallback,t,,,600"),),
        device_states={},
        taken_at=clock.now(),
        login_number=1,
    )
    await RouterAMIAdapter(router).reconcile(snapshot)
    assert await router.store.live_call_ids() == []
    day = clock.now().isoformat()[:10]
    stats = await router.store.hash("st", "d", day, "q", "city")
    # the callers of the killed controller left kck through the dialplan: not abandons; the one
    # a live controller held hung up (its Hangup event was missed): an abandon
    assert (stats.get("transferred"), stats.get("abandoned")) == ("2", "1")


async def test_rows_left_in_progress_by_a_dead_controller_are_closed_by_the_resync(
    router: Router, clock: ManualClock, redis: aioredis.Redis, engine: AsyncEngine
) -> None:
    bus = EventBus(redis, prefix="t")
    arrived = clock.now()
    calls = {"ivr-gone": "1700000001.1", "ivr-fallback": "1700000001.2", "ivr-live": "1700000001.3"}
    for call_id, uniqueid in calls.items():
        row = CallArrived(call_id, uniqueid, None, "+48600100200", None, None, "pl", arrived, "v1")
        await bus.publish(CALLS_STREAM, CALL_ARRIVED, row.as_data())
    sessions = session_factory(engine)
    recorder = QueueRecorder(sessions, router.config)
    await replay(redis, recorder)
    await redis.delete("t:stream:queues")
    clock.advance(5)
    snapshot = AMISnapshot(
        channels=(
            _channel(calls["ivr-fallback"], "Queue", "kck-fallback,t,,,600"),
            _channel(calls["ivr-live"], "AGI", "agi://10.0.0.6:4573/ivr"),  # another node's IVR
        ),
        device_states={},
        taken_at=clock.now() + timedelta(seconds=1),
        login_number=1,
    )
    await CallRowResync(sessions, router, bus).reconcile(snapshot)
    await replay(redis, recorder)
    async with sessions() as db:
        outcomes = {r.id: r.outcome for r in await db.scalars(select(Call))}
    assert outcomes == {
        "ivr-gone": "interrupted",
        "ivr-fallback": "fallback",
        "ivr-live": "in_progress",
    }
