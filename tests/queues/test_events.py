"""Every event the router's Lua script publishes decodes, in one place, to its typed value."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from kck.clock import ManualClock
from queues.events import (
    AgentStateChanged,
    CallAnswered,
    CallbackAttemptFailed,
    CallbackRequested,
    CallEnded,
    CallFallback,
    CallQueued,
    UnknownEvent,
    decode_event,
)
from queues.model import AgentState, EndCause, Offer, OfferKind
from queues.router import Router
from tests.queues.conftest import request
from tests.queues.test_router_redis import stream


async def test_the_router_publishes_nothing_the_decoder_does_not_know(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> None:
    await router.agent_login("ala")
    inbound = request(clock, {"taxes": 1})
    offer = await router.enqueue(inbound)
    assert offer is not None
    await router.offer_answered(offer.offer_id)
    clock.advance(60)
    await router.call_ended(inbound.call_id, EndCause.COMPLETED)
    waiting = request(clock, {"taxes": 1})
    await router.enqueue(waiting)
    await router.request_callback(waiting.call_id, "+48600100200")
    await router.set_agent_state("ala", AgentState.AVAILABLE)  # ends wrap-up: the callback
    callback = await router.current_offer("ala")
    assert callback is not None and callback.kind is OfferKind.CALLBACK
    await router.offer_answered(callback.offer_id)
    await router.callback_attempt(waiting.call_id, "failed", "BUSY")
    await router.fallback_event("1700000000.99", "joined")

    decoded = [decode_event(kind, data) for kind, data in await stream(redis, "queues")]
    decoded += [decode_event(kind, data) for kind, data in await stream(redis, "offers")]
    kinds = {type(event) for event in decoded}
    assert UnknownEvent not in kinds, [e for e in decoded if isinstance(e, UnknownEvent)]
    assert {
        AgentStateChanged,
        CallQueued,
        CallAnswered,
        CallEnded,
        CallbackRequested,
        CallbackAttemptFailed,
        CallFallback,
        Offer,
    } <= kinds
    [queued] = [e for e in decoded if isinstance(e, CallQueued) and e.call_id == inbound.call_id]
    assert queued.request == inbound  # the request round-trips whole
    [ended] = [e for e in decoded if isinstance(e, CallEnded)]
    assert (ended.outcome, ended.cause, ended.agent) == ("answered", "completed", "ala")


def test_an_event_of_a_newer_router_is_passed_by_and_a_broken_one_is_named() -> None:
    assert decode_event("agent_mood", {"x": 1}) == UnknownEvent("agent_mood", {"x": 1})
    with pytest.raises(ValueError, match="router event 'call_ended'"):
        decode_event("call_ended", {"call_id": "c1"})
