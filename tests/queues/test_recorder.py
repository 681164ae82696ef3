"""The router's events end up in SQL: agent state log and the calls table (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from kck.bus import BusEvent, EventBus
from kck.call_events import CALL_ARRIVED, CALL_PROGRESS, CALLS_STREAM, CallArrived, CallProgress
from kck.clock import ManualClock
from kck.db import session_factory
from kck.db.models import AgentStateLog, Call, User
from queues.model import EndCause, RoutingRequest, TransferKind, TransferTarget
from queues.recorder import QueueRecorder
from queues.router import Router
from tests.call_history import record_call_history
from tests.queues.conftest import request
from tests.redis_replies import stream_events


async def replay(redis: aioredis.Redis, recorder: QueueRecorder) -> None:
    for event in await stream_events(redis, "t:stream:queues"):
        await recorder.handle(event)


async def test_answered_call_and_agent_transitions_are_recorded(
    router: Router, clock: ManualClock, redis: aioredis.Redis, engine: AsyncEngine
) -> None:
    await router.agent_login("ala")
    req = request(clock, {"taxes": 1})
    queued_at = clock.now()
    offer = await router.enqueue(req)
    assert offer is not None
    clock.advance(5)
    await router.offer_answered(offer.offer_id)
    clock.advance(100)
    await router.call_ended(req.call_id, EndCause.COMPLETED)
    sessions = session_factory(engine)
    await replay(redis, QueueRecorder(sessions, router.config))
    async with sessions() as session:
        call = await session.get(Call, req.call_id)
        assert call is not None
        assert call.outcome == "answered"
        assert call.queued_at == queued_at
        assert (
            call.answered_at is not None
            and (call.answered_at - call.queued_at).total_seconds() == 5
        )
        assert (
            call.ended_at is not None and (call.ended_at - call.answered_at).total_seconds() == 100
        )
        user = await session.scalar(select(User).where(User.username == "ala"))
        assert user is not None and call.agent_id == user.id
        states = (
            await session.scalars(select(AgentStateLog.state).order_by(AgentStateLog.id))
        ).all()
        assert states == ["available", "offered", "on_call", "wrap_up"]


async def test_abandoned_call_is_recorded_with_its_cause(
    router: Router, clock: ManualClock, redis: aioredis.Redis, sqlite_url: str
) -> None:
    from kck.db import create_engine

    engine = create_engine(sqlite_url)
    try:
        req = request(clock, {"taxes": 1})
        await router.enqueue(req)
        clock.advance(12)
        await router.call_ended(req.call_id, EndCause.CALLER_HANGUP)
        sessions = session_factory(engine)
        await replay(redis, QueueRecorder(sessions, router.config))
        async with sessions() as session:
            call = await session.get(Call, req.call_id)
            assert call is not None and call.outcome == "abandoned"
            assert call.hangup_cause == "caller_hangup" and call.agent_id is None
    finally:
        await engine.dispose()


def arrival(req: RoutingRequest, clock: ManualClock) -> CallArrived:
    return CallArrived(
        call_id=req.call_id,
        uniqueid=req.uniqueid,
        channel=req.channel,
        caller_number=req.caller,
        caller_name=None,
        dialled_number="+48126165555",
        language="pl",
        arrived_at=clock.now(),
        menu_version="v3@test",
    )


def handover(req: RoutingRequest) -> CallProgress:
    return CallProgress(
        req.call_id,
        req.uniqueid,
        {"ivr_path": [{"step_id": "problem_roads"}], "queue": "city", "skills": dict(req.skills)},
    )


async def row_after_writing(
    bus: EventBus, engine: AsyncEngine, router: Router, call_id: str
) -> Call:
    """The call's row once the writer has applied everything on the stream."""
    sessions = session_factory(engine)
    await record_call_history(bus, sessions, router.config)
    async with sessions() as session:
        call = await session.get(Call, call_id)
    assert call is not None
    return call


async def test_ivr_and_router_events_on_one_stream_make_one_complete_row_in_one_batch(
    router: Router, clock: ManualClock, redis: aioredis.Redis, engine: AsyncEngine
) -> None:
    bus = EventBus(redis, "t")
    await router.agent_login("ala")
    req = request(clock, {"taxes": 1})
    await bus.publish(CALLS_STREAM, CALL_ARRIVED, arrival(req, clock).as_data())
    clock.advance(20)
    await bus.publish(CALLS_STREAM, CALL_PROGRESS, handover(req).as_data())
    offer = await router.enqueue(req)
    assert offer is not None
    clock.advance(4)
    await router.offer_answered(offer.offer_id)
    clock.advance(60)
    await router.call_ended(req.call_id, EndCause.COMPLETED)
    sessions = session_factory(engine)
    written = await record_call_history(bus, sessions, router.config)
    assert written >= 8  # arrival, hand-over, queued, answered, ended, 4 agent states
    async with sessions() as session:
        call = await session.get(Call, req.call_id)
        assert call is not None and call.outcome == "answered"
        assert call.menu_version == "v3@test" and call.ivr_path == [{"step_id": "problem_roads"}]
        assert call.dialled_number == "+48126165555" and call.queue == "city"
        assert call.answered_at is not None and call.ended_at is not None


async def test_the_ivrs_late_view_of_an_abandon_never_overrides_the_routers_answered(
    router: Router, clock: ManualClock, redis: aioredis.Redis, engine: AsyncEngine
) -> None:
    bus = EventBus(redis, "t")
    await router.agent_login("ala")
    req = request(clock, {"taxes": 1})
    await bus.publish(CALLS_STREAM, CALL_ARRIVED, arrival(req, clock).as_data())
    offer = await router.enqueue(req)
    assert offer is not None
    await router.offer_answered(offer.offer_id)
    clock.advance(30)
    await router.call_ended(req.call_id, EndCause.COMPLETED)
    late = CallProgress(
        req.call_id, req.uniqueid, {}, {"outcome": "abandoned", "ended_at": clock.now()}
    )
    await bus.publish(CALLS_STREAM, CALL_PROGRESS, late.as_data())
    call = await row_after_writing(bus, engine, router, req.call_id)
    assert call.outcome == "answered"


async def test_a_call_that_left_the_queue_and_ended_in_voicemail_keeps_the_ivrs_outcome(
    router: Router, clock: ManualClock, redis: aioredis.Redis, engine: AsyncEngine
) -> None:
    bus = EventBus(redis, "t")
    req = request(clock, {"roads": 1})
    await bus.publish(CALLS_STREAM, CALL_ARRIVED, arrival(req, clock).as_data())
    await router.enqueue(req)
    clock.advance(10)
    await router.call_ended(req.call_id, EndCause.CALLER_HANGUP)  # left the wait
    final = CallProgress(
        req.call_id, req.uniqueid, {"outcome": "voicemail", "ended_at": clock.now()}
    )
    await bus.publish(CALLS_STREAM, CALL_PROGRESS, final.as_data())
    call = await row_after_writing(bus, engine, router, req.call_id)
    assert call.outcome == "voicemail" and call.ended_at == clock.now()


async def test_a_rolled_back_batch_does_not_leave_a_users_id_behind(
    router: Router, clock: ManualClock, redis: aioredis.Redis, engine: AsyncEngine
) -> None:
    sessions = session_factory(engine)
    recorder = QueueRecorder(sessions, router.config)
    state = {"agent": "ala", "state": "available", "since": clock.now().isoformat()}
    broken = BusEvent("t:stream:queues", "2-0", "call_ended", {"call_id": "x"})  # no outcome
    with pytest.raises(ValueError, match="call_ended"):
        await recorder.handle_batch(
            [BusEvent("t:stream:queues", "1-0", "agent_state", state), broken]
        )
    await recorder.handle(BusEvent("t:stream:queues", "3-0", "agent_state", state))
    async with sessions() as session:
        [row] = (await session.scalars(select(AgentStateLog))).all()
        user = await session.get(User, row.agent_id)
        assert user is not None and user.username == "ala"


async def test_transferred_call_row_keeps_its_first_answer_and_lists_the_transfer(
    router: Router, clock: ManualClock, redis: aioredis.Redis, engine: AsyncEngine
) -> None:
    await router.agent_login("ala")
    req = request(clock, {"taxes": 1})
    offer = await router.enqueue(req)
    assert offer is not None
    clock.advance(5)
    await router.offer_answered(offer.offer_id)
    first_answer = clock.now()
    clock.advance(60)
    await router.agent_login("bob")
    await router.transfer(req.call_id, "ala", TransferTarget(TransferKind.AGENT, "bob"))
    second = await router.current_offer("bob")
    assert second is not None
    clock.advance(3)
    await router.offer_answered(second.offer_id)
    clock.advance(30)
    await router.call_ended(req.call_id, EndCause.COMPLETED)
    sessions = session_factory(engine)
    await replay(redis, QueueRecorder(sessions, router.config))
    async with sessions() as session:
        call = await session.get(Call, req.call_id)
        bob = await session.scalar(select(User).where(User.username == "bob"))
    assert call is not None and bob is not None
    assert call.outcome == "answered" and call.answered_at == first_answer
    assert call.agent_id == bob.id  # the agent who had the call last
    assert [(t["from"], t["kind"], t["to"]) for t in call.transfers] == [("ala", "agent", "bob")]
