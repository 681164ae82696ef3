"""Transfers in the router (real Redis): to an agent, a queue, a skill, a second-line number;
refusals; how the statistics count a transferred call."""

from __future__ import annotations

import json

import pytest
import redis.asyncio as aioredis

from kck.clock import ManualClock
from queues.config import QueueConfig, SecondLineNumber
from queues.model import AgentState, EndCause, TransferKind, TransferTarget
from queues.router import Router, TransferRefused
from queues.stats import QueueStatistics
from tests.queues.conftest import make_config, request
from tests.redis_replies import stream_events, text


def _config_with_two_queues() -> object:
    config = make_config()
    desk = QueueConfig(id="desk", name_pl="Biuro", name_en="Office", wrap_up_s=10)
    number = SecondLineNumber(number="+48126161234", name_pl="Druga linia", name_en="Second line")
    return type(config)(
        skills=config.skills,
        queues={**config.queues, "desk": desk},
        agents=config.agents,
        short_abandon_s=config.short_abandon_s,
        second_line={number.number: number},
    )


@pytest.fixture
async def router(redis: aioredis.Redis, clock: ManualClock) -> Router:
    return Router(redis, _config_with_two_queues(), prefix="t", clock=clock)  # type: ignore[arg-type]


async def _on_call_with(
    router: Router, clock: ManualClock, agent: str, skills: dict[str, int]
) -> str:
    await router.agent_login(agent)
    offer = await router.enqueue(request(clock, skills, priority=3))
    assert offer is not None and offer.agent == agent
    clock.advance(4)
    assert await router.offer_answered(offer.offer_id)
    clock.advance(60)
    return offer.call_id


async def _counters(redis: aioredis.Redis, queue: str) -> dict[str, int]:
    keys = [text(k) for k in await redis.keys(f"t:q:st:d:*:q:{queue}")]
    assert len(keys) == 1, keys
    return {text(k): int(v) for k, v in (await redis.hgetall(keys[0])).items()}


async def _stream(redis: aioredis.Redis) -> list[tuple[str, dict[str, object]]]:
    return [(e.type, e.data) for e in await stream_events(redis, "t:stream:queues")]


async def test_blind_transfer_to_an_available_agent_offers_them_the_call_with_the_handover(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> None:
    call_id = await _on_call_with(router, clock, "ala", {"taxes": 1})
    await router.agent_login("bob")
    await router.transfer(
        call_id,
        "ala",
        TransferTarget(TransferKind.AGENT, "bob"),
        {"notes": "Pani pyta o zaległy podatek", "draft": {"category": "other"}},
    )
    ala = await router.agent_status("ala")
    assert ala is not None and ala.state is AgentState.WRAP_UP
    offer = await router.current_offer("bob")
    assert offer is not None and offer.call_id == call_id
    assert offer.request["handover"]["from"] == "ala"
    assert offer.request["handover"]["notes"] == "Pani pyta o zaległy podatek"
    assert offer.request["handover"]["draft"] == {"category": "other"}
    assert offer.request["priority"] == 3
    transferred = [d for t, d in await _stream(redis) if t == "call_transferred"]
    assert transferred == [
        {
            "call_id": call_id,
            "agent": "ala",
            "kind": "agent",
            "to": "bob",
            "at": "2026-11-24T09:01:04.000Z",
            "queue": "city",
            "transfers": [
                {"from": "ala", "kind": "agent", "to": "bob", "at": "2026-11-24T09:01:04.000Z"}
            ],
        }
    ]


async def test_transfer_to_an_agent_who_is_not_available_is_refused_and_nothing_changes(
    router: Router, clock: ManualClock
) -> None:
    call_id = await _on_call_with(router, clock, "ala", {"taxes": 1})
    await router.agent_login("bob", paused=True)
    with pytest.raises(TransferRefused) as refused:
        await router.transfer(call_id, "ala", TransferTarget(TransferKind.AGENT, "bob"))
    assert refused.value.reason == "agent_unavailable" and refused.value.state == "paused"
    with pytest.raises(TransferRefused) as never_logged_in:
        await router.transfer(call_id, "ala", TransferTarget(TransferKind.AGENT, "cyd"))
    assert never_logged_in.value.state == "logged_out"
    ala = await router.agent_status("ala")
    assert ala is not None and ala.state is AgentState.ON_CALL
    call = await router.call_state(call_id)
    assert call is not None and call["state"] == "on_call" and call["agent"] == "ala"


async def test_only_the_agent_on_the_call_can_transfer_it(
    router: Router, clock: ManualClock
) -> None:
    call_id = await _on_call_with(router, clock, "ala", {"taxes": 1})
    await router.agent_login("bob")
    with pytest.raises(TransferRefused) as refused:
        await router.transfer(call_id, "bob", TransferTarget(TransferKind.QUEUE, "desk"))
    assert refused.value.reason == "not_on_call"


async def test_transfer_to_a_queue_requeues_at_the_head_keeping_priority_and_counts_once(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> None:
    call_id = await _on_call_with(router, clock, "ala", {"taxes": 1})
    waiting = await router.enqueue(request(clock, {"taxes": 1}, priority=3))
    assert waiting is None  # ala is busy: this one waits in city
    await router.transfer(call_id, "ala", TransferTarget(TransferKind.QUEUE, "desk"))
    call = await router.call_state(call_id)
    assert call is not None and call["state"] == "waiting" and call["queue"] == "desk"
    assert call["prio"] == "3"
    assert json.loads(call["request"])["queue"] == "desk"
    # any agent may take it in the queue it was sent to (its skills were the first queue's)
    assert json.loads(call["request"])["skills"] == {}
    offers = await router.agent_login("cyd")
    assert [o.call_id for o in offers] == [call_id]
    clock.advance(2)
    assert await router.offer_answered(offers[0].offer_id)
    clock.advance(30)
    await router.call_ended(call_id, EndCause.COMPLETED)
    city, desk = await _counters(redis, "city"), await _counters(redis, "desk")
    assert city["entered"] == 2 and city["answered"] == 1 and city["transfers_out"] == 1
    assert city["handled"] == 1 and "abandoned" not in city
    assert desk["transfers_in"] == 1 and desk["transfers_answered"] == 1 and desk["handled"] == 1
    assert "answered" not in desk and "entered" not in desk
    types = [t for t, _ in await _stream(redis)]
    assert types.count("call_answered") == 1 and types.count("transfer_answered") == 1
    snapshot = await QueueStatistics(router.store, router.config).snapshot()
    assert snapshot["queues"]["city"]["transfers_out"] == 1
    assert snapshot["queues"]["desk"]["transfers_answered"] == 1


async def test_caller_who_hangs_up_after_a_transfer_is_not_an_abandon(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> None:
    call_id = await _on_call_with(router, clock, "ala", {"taxes": 1})
    await router.transfer(call_id, "ala", TransferTarget(TransferKind.SKILL, "roads"))
    call = await router.call_state(call_id)
    assert call is not None and call["queue"] == "city" and call["primary"] == "roads"
    await router.call_ended(call_id, EndCause.CALLER_HANGUP)
    city = await _counters(redis, "city")
    assert city["transfers_lost"] == 1 and "abandoned" not in city
    ended = [d for t, d in await _stream(redis) if t == "call_ended"]
    assert ended[-1]["outcome"] == "answered" and ended[-1]["cause"] == "caller_hangup"


async def test_transfer_to_a_second_line_number_leaves_the_call_external(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> None:
    call_id = await _on_call_with(router, clock, "ala", {"taxes": 1})
    with pytest.raises(TransferRefused):
        await router.transfer(call_id, "ala", TransferTarget(TransferKind.NUMBER, "+48999"))
    await router.transfer(call_id, "ala", TransferTarget(TransferKind.NUMBER, "+48126161234"))
    call = await router.call_state(call_id)
    assert call is not None and call["state"] == "external" and call["xto"] == "+48126161234"
    await router.call_ended(call_id, EndCause.TRANSFERRED_OUT)
    city = await _counters(redis, "city")
    assert city["transfers_out"] == 1 and "transfers_lost" not in city
    assert await router.call_state(call_id) is None


async def test_consult_reserves_the_agent_and_complete_hands_the_call_over(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> None:
    call_id = await _on_call_with(router, clock, "ala", {"taxes": 1})
    await router.agent_login("bob")
    await router.consult(call_id, "ala", "bob", "PJSIP/101-00000001", {"notes": "n"})
    bob = await router.agent_status("bob")
    assert bob is not None and bob.state is AgentState.OFFERED and bob.reason == "consult"
    with pytest.raises(TransferRefused) as twice:
        await router.consult(call_id, "ala", "bob", "PJSIP/101-00000001")
    assert twice.value.reason == "consulting"
    assert await router.consult_end(call_id, "ala", complete=True) == "PJSIP/101-00000001"
    bob = await router.agent_status("bob")
    ala = await router.agent_status("ala")
    assert bob is not None and bob.state is AgentState.ON_CALL and bob.call_id == call_id
    assert ala is not None and ala.state is AgentState.WRAP_UP
    city = await _counters(redis, "city")
    assert city["transfers_out"] == 1 and city["transfers_answered"] == 1 and city["answered"] == 1


async def test_caller_who_hangs_up_during_a_consult_frees_the_consulted_agent(
    router: Router, clock: ManualClock
) -> None:
    call_id = await _on_call_with(router, clock, "ala", {"taxes": 1})
    await router.agent_login("bob")
    await router.consult(call_id, "ala", "bob", "PJSIP/101-00000001")
    await router.call_ended(call_id, EndCause.COMPLETED)
    bob = await router.agent_status("bob")
    assert bob is not None and bob.state is AgentState.AVAILABLE
    with pytest.raises(TransferRefused) as over:
        await router.consult_end(call_id, "ala", complete=False)
    assert over.value.reason == "not_consulting"
