"""A callback that does not reach the citizen is tried again by the queue's policy, and one that
never does is a failed callback (recorded with why) — not a callback done."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from asterisk.ami import AMIConnectionLost, Originate
from kck.clock import ManualClock
from kck.db import session_factory
from kck.db.models import Call
from queues.callbacks import CallbackDialer
from queues.model import AgentState, EndCause, Offer, OfferKind
from queues.recorder import QueueRecorder
from queues.router import Router
from tests.queues.conftest import request
from tests.queues.test_recorder import replay
from tests.queues.test_router_redis import stream

NUMBER = "+48600100200"


async def _callback_offered(router: Router, clock: ManualClock) -> Offer:
    req = request(clock, {"taxes": 1})
    assert await router.enqueue(req, callback_number=NUMBER) is None
    [offer] = await router.agent_login("ala")
    assert offer.kind is OfferKind.CALLBACK
    return offer


async def _agent_answers_and_the_citizen_does_not(router: Router, offer: Offer, why: str) -> str:
    await router.offer_answered(offer.offer_id)  # OriginateResponse Success: the agent answered
    return await router.callback_attempt(offer.call_id, "failed", why)  # DialEnd to the trunk


async def test_unanswered_callback_is_tried_again_after_the_queues_retry_time(
    router: Router, clock: ManualClock
) -> None:
    offer = await _callback_offered(router, clock)
    assert await _agent_answers_and_the_citizen_does_not(router, offer, "BUSY") == "ok"
    call = await router.call_state(offer.call_id)
    assert call is not None and (call["state"], call["cbtries"], call["cbwhy"]) == (
        "scheduled",
        "1",
        "BUSY",
    )
    status = await router.agent_status("ala")  # may note the attempt in wrap-up
    assert status is not None and status.state is AgentState.WRAP_UP
    clock.advance(299)
    assert [o.call_id for o in await router.tick()] == []  # wrap-up over; not due yet
    clock.advance(2)
    [again] = await router.tick()
    assert (again.call_id, again.agent, again.kind) == (offer.call_id, "ala", OfferKind.CALLBACK)
    assert again.offer_id != offer.offer_id  # a new attempt is a new offer (a new Originate)


async def test_callback_that_never_reaches_the_citizen_fails_with_why_and_is_counted(
    router: Router, clock: ManualClock, redis: aioredis.Redis, engine: AsyncEngine
) -> None:
    offer = await _callback_offered(router, clock)
    for attempt, why in enumerate(("BUSY", "NOANSWER", "CHANUNAVAIL"), start=1):
        assert await _agent_answers_and_the_citizen_does_not(router, offer, why) == "ok"
        if attempt < 3:
            clock.advance(301)
            await router.tick()
            current = await router.current_offer("ala")
            assert current is not None
            offer = current
    assert await router.call_state(offer.call_id) is None
    day = clock.now().isoformat()[:10]
    stats = await router.store.hash("st", "d", day, "q", "city")
    assert stats["callbacks_failed"] == "1" and stats.get("callbacks_answered") == "3"
    events = [(t, d) for t, d in await stream(redis, "queues")]
    failed = [d for t, d in events if t == "callback_failed"]
    assert [(d["attempt"], d["why"], d["number"]) for d in failed] == [(3, "CHANUNAVAIL", NUMBER)]
    assert [d["attempt"] for t, d in events if t == "callback_retry"] == [1, 2]
    sessions = session_factory(engine)
    await replay(redis, QueueRecorder(sessions, router.config))
    async with sessions() as db:
        row = await db.scalar(select(Call).where(Call.id == offer.call_id))
    assert row is not None and (row.outcome, row.hangup_cause) == ("callback_failed", "CHANUNAVAIL")


async def test_callback_that_reached_the_citizen_is_done_when_the_agent_hangs_up(
    router: Router, clock: ManualClock
) -> None:
    offer = await _callback_offered(router, clock)
    await router.offer_answered(offer.offer_id)
    assert await router.callback_attempt(offer.call_id, "reached") == "ok"
    await router.call_ended(offer.call_id, EndCause.CALLBACK_DONE)
    day = clock.now().isoformat()[:10]
    stats = await router.store.hash("st", "d", day, "q", "city")
    assert stats.get("callbacks_failed", "0") == "0"


class _FailingAMI:
    def __init__(self) -> None:
        self.sent: list[Originate] = []

    async def originate(self, action: Originate) -> Any:
        self.sent.append(action)
        raise AMIConnectionLost("AMI went away", sent=False)


async def test_an_originate_that_fails_uses_an_attempt_instead_of_ending_the_callback(
    router: Router, clock: ManualClock
) -> None:
    offer = await _callback_offered(router, clock)
    ami = _FailingAMI()
    dialer = CallbackDialer(router, ami.originate, dial=lambda n: f"PJSIP/{n[1:]}@kck-trunk")
    assert not await dialer.dial(offer)
    assert not await dialer.dial(offer)  # the same offer is never dialled twice
    assert len(ami.sent) == 1 and ami.sent[0].data == "PJSIP/48600100200@kck-trunk,60"
    call = await router.call_state(offer.call_id)
    assert call is not None and (call["state"], call["cbwhy"]) == ("scheduled", "originate_failed")
    status = await router.agent_status("ala")
    assert status is not None and status.state is AgentState.AVAILABLE  # never rang: free again
    clock.advance(timedelta(seconds=301).total_seconds())
    [again] = await router.tick()
    assert again.call_id == offer.call_id
