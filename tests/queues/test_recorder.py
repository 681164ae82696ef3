"""The router's events end up in SQL: agent state log and the calls table (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from kck.bus import BusEvent
from kck.clock import ManualClock
from kck.db import session_factory
from kck.db.models import AgentStateLog, Call, User
from queues.model import EndCause
from queues.recorder import QueueRecorder
from queues.router import Router
from tests.queues.conftest import request


async def replay(redis: aioredis.Redis, recorder: QueueRecorder) -> None:
    for raw_id, fields in await redis.xrange("t:stream:queues"):
        await recorder.handle(
            BusEvent(
                "t:stream:queues",
                raw_id.decode(),
                fields[b"type"].decode(),
                json.loads(fields[b"data"]),
            )
        )


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
