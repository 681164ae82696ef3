"""The router against a real Redis: matching, escalation, offers and their outcomes, restart."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Awaitable
from datetime import timedelta

import pytest
import redis.asyncio as aioredis

from kck.bus import EventBus, LiveSubscription
from kck.clock import ManualClock
from queues.model import AgentState, EndCause, OfferKind
from queues.router import AgentStateRefused, Router
from queues.store import RouterStoreError
from tests.queues.conftest import make_config, request, state_of
from tests.redis_replies import stream_events, text


async def stream(redis: aioredis.Redis, name: str) -> list[tuple[str, dict[str, object]]]:
    return [(e.type, e.data) for e in await stream_events(redis, f"t:stream:{name}")]


async def test_caller_is_offered_at_once_to_a_free_qualified_agent(
    router: Router, clock: ManualClock
) -> None:
    await router.agent_login("ala")
    offer = await router.enqueue(request(clock, {"taxes": 1}))
    assert offer is not None and offer.agent == "ala"
    assert offer.dial == "PJSIP/101" and offer.ring_timeout_s == 15
    assert offer.kind is OfferKind.INBOUND
    assert (await router.current_offer("ala")) == offer
    status = await router.agent_status("ala")
    assert status is not None and status.state is AgentState.OFFERED


async def test_offer_is_published_on_the_offers_stream_and_the_agents_live_channel(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> None:
    bus = EventBus(redis, prefix="t")
    await router.agent_login("ala")
    received: list[tuple[str, dict[str, object]]] = []

    async def listen(live: LiveSubscription) -> None:
        async for item in live:
            received.append(item)
            if item[0] == "offer":
                return

    async with bus.subscription("agent:ala") as live:  # subscribed before the offer is made
        offer = await router.enqueue(request(clock, {"taxes": 1}))
        await asyncio.wait_for(listen(live), 5)
    assert offer is not None
    # the agent's own state change comes first on its own channel, then the offer
    assert [kind for kind, _ in received] == ["agent_state", "offer"]
    assert received[0][1]["agent"] == "ala" and received[0][1]["state"] == "offered"
    assert received[1] == ("offer", offer.to_dict())
    assert (await stream(redis, "offers"))[0] == ("offer", offer.to_dict())


async def test_agent_state_change_goes_to_the_shared_channel_and_only_that_agents_own(
    router: Router, redis: aioredis.Redis
) -> None:
    bus = EventBus(redis, prefix="t")
    await router.agent_login("ala")
    await router.agent_login("bob")
    received: dict[str, list[tuple[str, dict[str, object]]]] = {
        "agents": [],
        "agent:ala": [],
        "agent:bob": [],
    }

    async def listen(live: LiveSubscription, channel: str, until: int | None) -> None:
        async for item in live:
            received[channel].append(item)
            if len(received[channel]) == until:
                return

    async with contextlib.AsyncExitStack() as stack:
        live = {c: await stack.enter_async_context(bus.subscription(c)) for c in received}
        # all three are subscribed before the change
        both = [asyncio.create_task(listen(live[c], c, 2)) for c in ("agents", "agent:ala")]
        bobs = asyncio.create_task(listen(live["agent:bob"], "agent:bob", None))
        await router.set_agent_state("ala", AgentState.PAUSED, "break")
        await router.set_agent_state("ala", AgentState.AVAILABLE)  # the second: all sent by then
        await asyncio.wait_for(asyncio.gather(*both), 5)
        bobs.cancel()
        await asyncio.gather(bobs, return_exceptions=True)
    assert received["agents"] == received["agent:ala"]
    assert [(k, d["agent"], d["state"]) for k, d in received["agent:ala"]] == [
        ("agent_state", "ala", "paused"),
        ("agent_state", "ala", "available"),
    ]
    assert received["agent:bob"] == []


async def test_caller_waits_when_only_a_junior_agent_is_free_until_escalation(
    router: Router, clock: ManualClock
) -> None:
    await router.agent_login("bob")  # taxes 2, first step needs 3
    req = request(clock, {"taxes": 1})
    assert await router.enqueue(req) is None
    clock.advance(29)
    assert await router.tick() == []
    clock.advance(1)
    offers = await router.tick()
    assert [(o.call_id, o.agent) for o in offers] == [(req.call_id, "bob")]


async def test_general_agent_takes_the_call_after_ninety_seconds(
    router: Router, clock: ManualClock
) -> None:
    await router.agent_login("cyd")
    req = request(clock, {"taxes": 1})
    await router.enqueue(req)
    clock.advance(60)
    assert await router.tick() == []
    clock.advance(30)
    assert [o.agent for o in await router.tick()] == ["cyd"]


async def test_next_timer_due_is_the_next_escalation_of_the_waiting_call(
    router: Router, clock: ManualClock
) -> None:
    dues: list[int | None] = []
    router.on_next_due = dues.append
    await router.enqueue(request(clock, {"taxes": 1}))
    assert dues[-1] == int((clock.now() + timedelta(seconds=30)).timestamp() * 1000)


async def test_best_level_then_longest_idle_agent_gets_the_call(
    router: Router, clock: ManualClock
) -> None:
    await router.agent_login("bob")
    clock.advance(5)
    await router.agent_login("ala")
    offer = await router.enqueue(request(clock, {"taxes": 1}))
    assert offer is not None and offer.agent == "ala"


async def test_agent_who_becomes_available_takes_the_oldest_highest_priority_call(
    router: Router, clock: ManualClock
) -> None:
    old = request(clock, {"taxes": 1})
    await router.enqueue(old)
    clock.advance(5)
    urgent = request(clock, {"taxes": 1}, priority=5)
    await router.enqueue(urgent)
    clock.advance(5)
    younger = request(clock, {"taxes": 1})
    await router.enqueue(younger)
    offers = await router.agent_login("ala")
    assert [o.call_id for o in offers] == [urgent.call_id]


async def test_ring_timeout_pauses_the_agent_and_puts_the_caller_back_at_the_head(
    router: Router, clock: ManualClock
) -> None:
    await router.agent_login("ala")
    first = request(clock, {"taxes": 1})
    offer = await router.enqueue(first)
    clock.advance(3)
    second = request(clock, {"taxes": 1})
    await router.enqueue(second)
    clock.advance(15)
    assert offer is not None
    assert await router.offer_not_answered(offer.offer_id) == []
    status = await router.agent_status("ala")
    assert status is not None and status.state is AgentState.PAUSED and status.reason == "no_answer"
    assert await router.position(first.call_id) == 1
    offers = await router.agent_login("bob")
    assert offers == []  # bob is level 2, first step needs 3 (18 s waited)
    clock.advance(12)
    offers = await router.tick()
    assert [o.call_id for o in offers] == [first.call_id]


async def test_busy_phone_is_never_offered_until_it_is_free(
    router: Router, clock: ManualClock
) -> None:
    await router.agent_login("ala")
    await router.device_state("PJSIP/101", "INUSE")
    req = request(clock, {"taxes": 1})
    assert await router.enqueue(req) is None
    offers = await router.device_state("PJSIP/101", "NOT_INUSE")
    assert [o.call_id for o in offers] == [req.call_id]


async def test_busy_dial_result_keeps_agent_available_but_unoffered(
    router: Router, clock: ManualClock
) -> None:
    await router.agent_login("ala")
    req = request(clock, {"taxes": 1})
    offer = await router.enqueue(req)
    assert offer is not None
    assert await router.offer_not_answered(offer.offer_id, "busy") == []
    status = await router.agent_status("ala")
    assert status is not None and status.state is AgentState.AVAILABLE
    assert status.device_state == "BUSY"
    assert [o.call_id for o in await router.device_state("PJSIP/101", "NOT_INUSE")] == [req.call_id]


async def test_caller_who_hangs_up_while_waiting_is_counted_abandoned_with_wait_time(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> None:
    req = request(clock, {"taxes": 1})
    await router.enqueue(req)
    clock.advance(42)
    await router.call_ended(req.call_id, EndCause.CALLER_HANGUP)
    ended = [d for t, d in await stream(redis, "queues") if t == "call_ended"]
    assert ended == [
        {
            "call_id": req.call_id,
            "outcome": "abandoned",
            "cause": "caller_hangup",
            "at": "2026-11-24T09:00:42.000Z",
            "wait_s": 42,
            "agent": None,
            "queue": "city",
            "kind": "inbound",
        }
    ]
    assert await router.call_state(req.call_id) is None


async def test_caller_who_hangs_up_while_the_agent_rings_frees_the_agent(
    router: Router, clock: ManualClock
) -> None:
    await router.agent_login("ala")
    req = request(clock, {"taxes": 1})
    await router.enqueue(req)
    await router.call_ended(req.call_id, EndCause.CALLER_HANGUP)
    status = await router.agent_status("ala")
    assert status is not None and status.state is AgentState.AVAILABLE
    assert await router.current_offer("ala") is None


async def test_agent_goes_to_wrap_up_after_the_call_and_back_to_available_after_wrap_up_time(
    router: Router, clock: ManualClock
) -> None:
    await router.agent_login("ala")
    req = request(clock, {"taxes": 1})
    offer = await router.enqueue(req)
    assert offer is not None and await router.offer_answered(offer.offer_id)
    assert (await router.current_call("ala") or {}).get("state") == "on_call"
    clock.advance(120)
    await router.call_ended(req.call_id, EndCause.COMPLETED)
    status = await router.agent_status("ala")
    assert status is not None and status.state is AgentState.WRAP_UP
    clock.advance(29)
    await router.tick()
    assert await state_of(router, "ala") is AgentState.WRAP_UP
    clock.advance(1)
    await router.tick()
    assert await state_of(router, "ala") is AgentState.AVAILABLE


async def test_agent_ending_wrap_up_by_hand_takes_the_next_waiting_call(
    router: Router, clock: ManualClock
) -> None:
    await router.agent_login("ala")
    first = request(clock, {"taxes": 1})
    offer = await router.enqueue(first)
    assert offer is not None
    await router.offer_answered(offer.offer_id)
    second = request(clock, {"taxes": 1})
    await router.enqueue(second)
    await router.call_ended(first.call_id, EndCause.COMPLETED)
    offers = await router.set_agent_state("ala", AgentState.AVAILABLE)
    assert [o.call_id for o in offers] == [second.call_id]


async def test_agent_cannot_pause_while_a_call_rings(router: Router, clock: ManualClock) -> None:
    await router.agent_login("ala")
    await router.enqueue(request(clock, {"taxes": 1}))
    try:
        await router.set_agent_state("ala", AgentState.PAUSED, "break")
    except AgentStateRefused as exc:
        assert "offered" in str(exc)
    else:
        raise AssertionError("pause accepted while offered")


async def test_every_agent_transition_is_on_the_queues_stream(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> None:
    await router.agent_login("ala")
    await router.set_agent_state("ala", AgentState.PAUSED, "lunch")
    await router.set_agent_state("ala", AgentState.LOGGED_OUT)
    states = [
        (d["state"], d["reason"]) for t, d in await stream(redis, "queues") if t == "agent_state"
    ]
    assert states == [("available", None), ("paused", "lunch"), ("logged_out", None)]


async def test_callback_request_keeps_the_callers_place_and_is_offered_as_callback(
    router: Router, clock: ManualClock
) -> None:
    first = request(clock, {"taxes": 1})
    await router.enqueue(first)
    clock.advance(1)
    second = request(clock, {"taxes": 1})
    await router.enqueue(second)
    assert await router.request_callback(first.call_id, "+48600100200")
    assert await router.position(first.call_id) == 1
    offers = await router.agent_login("ala")
    assert [(o.call_id, o.kind) for o in offers] == [(first.call_id, OfferKind.CALLBACK)]


async def test_two_routers_sharing_redis_never_give_an_agent_two_calls(
    redis_server_url: str, redis: aioredis.Redis, clock: ManualClock
) -> None:
    config = make_config({f"a{i}": {"taxes": 3} for i in range(10)})
    clients = [aioredis.from_url(redis_server_url) for _ in range(2)]
    try:
        routers = [Router(c, config, prefix="t", clock=clock) for c in clients]
        reqs = [request(clock, {"taxes": 1}) for _ in range(30)]
        jobs: list[Awaitable[object]] = [routers[i % 2].enqueue(r) for i, r in enumerate(reqs)]
        jobs += [routers[i % 2].agent_login(f"a{i}") for i in range(10)]
        await asyncio.gather(*jobs)
        offers = await stream(redis, "offers")
        agents = [d["agent"] for _, d in offers]
        calls = [d["call_id"] for _, d in offers]
        assert len(offers) == 10
        assert len(set(agents)) == 10 and len(set(calls)) == 10
    finally:
        for c in clients:
            await c.aclose()


async def test_resync_closes_calls_whose_channels_are_gone_and_keeps_agents_on_live_calls(
    router: Router, clock: ManualClock
) -> None:
    await router.agent_login("ala")
    talking = request(clock, {"taxes": 1})
    offer = await router.enqueue(talking)
    assert offer is not None
    await router.offer_answered(offer.offer_id)
    gone = request(clock, {"taxes": 1})
    await router.enqueue(gone)
    clock.advance(10)
    closed = await router.reconcile({talking.uniqueid}, {}, clock.now())
    assert closed == [gone.call_id]
    status = await router.agent_status("ala")
    assert status is not None and status.state is AgentState.ON_CALL


async def test_statistics_count_entered_answered_and_abandoned_calls(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> None:
    await router.agent_login("ala")
    answered = request(clock, {"taxes": 1})
    offer = await router.enqueue(answered)
    assert offer is not None
    clock.advance(4)
    await router.offer_answered(offer.offer_id)
    short = request(clock, {"taxes": 1})
    await router.enqueue(short)
    clock.advance(2)
    await router.call_ended(short.call_id, EndCause.CALLER_HANGUP)
    raw = await redis.hgetall("t:q:st:d:2026-11-24:q:city")
    st = {text(k): int(v) for k, v in raw.items()}
    assert st["entered"] == 2 and st["answered"] == 1 and st["answered_in_sl"] == 1
    assert st["abandoned"] == 1 and st["abandoned_short"] == 1
    assert st["wait_answered_ms"] == 4000


async def test_paused_agent_who_becomes_available_takes_the_waiting_call(
    router: Router, clock: ManualClock
) -> None:
    await router.agent_login("ala")
    await router.set_agent_state("ala", AgentState.PAUSED, "break")
    req = request(clock, {"taxes": 1})
    assert await router.enqueue(req) is None
    offers = await router.set_agent_state("ala", AgentState.AVAILABLE)
    assert [o.call_id for o in offers] == [req.call_id]


async def test_call_whose_process_is_silent_is_not_offered_until_it_beats_again(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> None:
    await router.agent_login("bob")  # level 2: cannot take it in the first step
    req = request(clock, {"taxes": 1})
    assert await router.enqueue(req, node="n1") is None  # queueing is a heartbeat of n1
    await redis.delete(router.store.key("node", "n1"))  # the process stalled past its ttl
    clock.advance(30)
    assert await router.tick() == []  # escalated, but nobody would dial: not offered
    assert await router.node_alive("n1", 5)  # back: its callers are matched at once
    offer = await router.current_offer("bob")
    assert offer is not None and offer.call_id == req.call_id


async def test_agent_freed_while_the_caller_hears_a_long_announcement_is_offered_the_call(
    router: Router, clock: ManualClock
) -> None:
    """Liveness is the process's, not what its caller hears: however long since the call was
    queued (the old per-call heartbeat lapsed after 15 s of announcement), a free agent gets it."""
    req = request(clock, {"taxes": 1})
    assert await router.enqueue(req, node="n1") is None
    clock.advance(17)
    await router.node_alive("n1", 5)  # the process's beat; the caller's loop did nothing
    offers = await router.agent_login("ala")
    assert [o.call_id for o in offers] == [req.call_id]


async def test_callback_request_is_offered_at_once_to_an_agent_already_free(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> None:
    req = request(clock, {"taxes": 1})
    assert await router.enqueue(req, node="n1") is None
    await redis.delete(router.store.key("node", "n1"))  # its process stalled: not offerable
    assert await router.agent_login("ala") == []
    assert await router.request_callback(req.call_id, "+48600100200")
    offer = await router.current_offer("ala")  # nobody is on the line now: ring the agent
    assert offer is not None and (offer.call_id, offer.kind) == (req.call_id, OfferKind.CALLBACK)


async def test_sweep_offers_a_call_that_no_event_matched_and_counts_it(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> None:
    req = request(clock, {"taxes": 1})
    assert await router.enqueue(req, node="n1") is None
    await redis.delete(router.store.key("node", "n1"))
    assert await router.agent_login("ala") == []  # not offerable while n1 is silent
    await redis.set(router.store.key("node", "n1"), "1", ex=60)  # alive, but nothing matched
    assert await router.sweep(30) == (1, 0)
    offer = await router.current_offer("ala")
    assert offer is not None and offer.call_id == req.call_id
    assert await router.sweep(30) == (0, 0)


async def test_sweep_ends_calls_of_a_process_gone_longer_than_the_limit_as_fallback(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> None:
    req = request(clock, {"taxes": 1})
    await router.enqueue(req, node="n1")
    await redis.delete(router.store.key("node", "n1"))  # killed: its caller is in the fallback
    clock.advance(10)
    assert await router.sweep(30) == (0, 0)  # gone, but not long enough to be sure
    clock.advance(25)
    assert await router.sweep(30) == (0, 1)
    assert await router.call_state(req.call_id) is None
    ended = [d for t, d in await stream(redis, "queues") if t == "call_ended"]
    assert [(e["call_id"], e["outcome"], e["cause"]) for e in ended] == [
        (req.call_id, "transferred", "fallback")
    ]


async def test_offer_nobody_acts_on_is_taken_back_after_the_ring_timeout_and_a_grace(
    router: Router, clock: ManualClock
) -> None:
    await router.agent_login("ala")
    req = request(clock, {"taxes": 1})
    offer = await router.enqueue(req)
    assert offer is not None
    clock.advance(15 + 14)
    assert await router.tick() == []
    clock.advance(2)
    again = await router.tick()  # expired: ala is free again and the caller back at the head
    assert [(o.call_id, o.agent) for o in again] == [(req.call_id, "ala")]
    assert again[0].offer_id != offer.offer_id


async def test_phone_that_answered_busy_is_tried_again_after_the_back_off(
    router: Router, clock: ManualClock
) -> None:
    """A 486 leaves Asterisk's device state NOT_INUSE (no event follows): without a back-off
    that ends, the agent would never be offered again."""
    await router.agent_login("ala")
    req = request(clock, {"taxes": 1})
    offer = await router.enqueue(req)
    assert offer is not None
    assert await router.offer_not_answered(offer.offer_id, "busy") == []
    clock.advance(19)
    assert await router.tick() == []
    clock.advance(2)
    assert [o.call_id for o in await router.tick()] == [req.call_id]


async def test_callback_request_can_join_the_queue_directly(
    router: Router, clock: ManualClock
) -> None:
    req = request(clock, {"taxes": 1})
    assert await router.enqueue(req, callback_number="+48600100200") is None
    offers = await router.agent_login("ala")
    assert [(o.call_id, o.kind) for o in offers] == [(req.call_id, OfferKind.CALLBACK)]


async def test_wrap_up_end_is_known_for_the_desk(router: Router, clock: ManualClock) -> None:
    await router.agent_login("ala")
    req = request(clock, {"taxes": 1})
    offer = await router.enqueue(req)
    assert offer is not None
    await router.offer_answered(offer.offer_id)
    await router.call_ended(req.call_id, EndCause.COMPLETED)
    assert await router.wrap_up_ends_at("ala") == clock.now() + timedelta(seconds=30)


async def test_hot_desk_login_dials_and_watches_the_phone_the_agent_sits_at(
    router: Router, clock: ManualClock
) -> None:
    await router.agent_login("ala", extension="120")
    await router.device_state("PJSIP/120", "INUSE")
    assert await router.enqueue(request(clock, {"taxes": 1})) is None
    offers = await router.device_state("PJSIP/120", "NOT_INUSE")
    assert [(o.dial, o.extension) for o in offers] == [("PJSIP/120", "120")]


async def test_a_call_held_by_a_live_process_is_offered_when_it_joins(
    router: Router, clock: ManualClock
) -> None:
    await router.agent_login("ala")
    req = request(clock, {"taxes": 1})
    offer = await router.enqueue(req, node="n1")  # queueing is a heartbeat of its process
    assert offer is not None and offer.agent == "ala"


async def test_a_misspelt_operation_is_refused_naming_it_and_changes_nothing(
    router: Router, redis: aioredis.Redis
) -> None:
    await router.agent_login("ala")
    before = sorted(await redis.keys("t:*"))
    with pytest.raises(RouterStoreError, match='unknown router operation "agent_stat"'):
        await router.store.run("agent_stat", "ala", "paused", "lunch")
    assert sorted(await redis.keys("t:*")) == before
    status = await router.agent_status("ala")
    assert status is not None and status.state is AgentState.AVAILABLE


async def test_enqueue_fields_go_by_name_and_a_misspelt_or_missing_one_is_refused(
    router: Router, clock: ManualClock
) -> None:
    call = request(clock, {"taxes": 1})
    fields: dict[str, str | int] = {
        "call_id": call.call_id,
        "request": json.dumps(call.to_dict()),
        "queue": "city",
        "priority": 0,
        "primary": "taxes",
        "others": "{}",
        "schedule": "[[0, 1, {}]]",
        "ring_timeout_s": 15,
        "wrap_up_s": 30,
        "sl_within_s": 20,
        "short_abandon_s": 5,
        "uniqueid": call.uniqueid,
        "node_ttl_s": 5,
    }
    misspelt = dict(fields)
    misspelt["sl_whithin_s"] = misspelt.pop("sl_within_s")
    with pytest.raises(RouterStoreError, match='enqueue: unknown field "sl_whithin_s"'):
        await router.store.run("enqueue", *itertools.chain(*misspelt.items()))
    missing = dict(fields)
    del missing["uniqueid"]
    with pytest.raises(RouterStoreError, match='enqueue: missing field "uniqueid"'):
        await router.store.run("enqueue", *itertools.chain(*missing.items()))
    assert await router.call_state(call.call_id) is None
    # in any order, by name
    status, _, _ = await router.store.run("enqueue", *itertools.chain(*reversed(fields.items())))
    assert status == "ok"
    state = await router.call_state(call.call_id)
    assert state is not None and state["state"] == "waiting" and state["sl_ms"] == "20000"
    assert state["uid"] == call.uniqueid and state["cbmax"] == "3" and state["node"] == ""


async def test_announcement_figures_are_the_place_and_estimate_whatever_queue_is_guessed(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> None:
    first = request(clock, {"taxes": 1})
    second = request(clock, {"taxes": 1})
    for waiting in (first, second):  # nobody is logged in: both wait
        assert await router.enqueue(waiting) is None
    await redis.lpush(router.store.key("recent", "city"), "100000:1", "60000:2")
    expected = (2, await router.estimated_wait(second.call_id))
    assert expected[1] == 2 * (100 + 30) / 2
    assert await router.position(second.call_id) == 2
    assert await router.announcement_figures(second.call_id, "city") == expected
    # a stale guess (the call has moved since its loop last looked) still gives the truth
    assert await router.announcement_figures(second.call_id, "elsewhere") == expected
    assert await router.announcement_figures("no-such-call", "city") is None
    await router.agent_login("ala")  # offered now, no longer waiting: nothing to announce
    assert await router.announcement_figures(first.call_id, "city") is None
