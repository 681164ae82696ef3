"""The IVR recorder: call-row events on stream `ivr` reach SQL, survive a crash, never go back."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.recorder import (
    ARRIVED,
    PROGRESS,
    STREAM,
    IVRRecorder,
    encode_times,
    recorder_caught_up,
    run_ivr_recorder,
)
from kck.bus import EventBus
from kck.db import Call, create_engine, session_factory
from tests.ivr.support import local

ARRIVED_AT = local("2026-11-24 10:00")
ENDED_AT = local("2026-11-24 10:02")


@pytest.fixture
async def sessions(sqlite_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(sqlite_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def running_recorder(
    bus: EventBus, sessions: async_sessionmaker[AsyncSession], consumer: str, **kw: int
) -> AsyncIterator[None]:
    task = asyncio.create_task(run_ivr_recorder(bus, sessions, consumer, block_ms=100, **kw))
    try:
        for _ in range(200):
            if await recorder_caught_up(bus):
                break
            await asyncio.sleep(0.05)
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def publish_arrival(bus: EventBus, call_id: str) -> None:
    arrival = {
        "uniqueid": "1732440000.1",
        "channel": "PJSIP/trunk-00000001",
        "caller_number": "+48600123456",
        "caller_name": None,
        "dialled_number": "126165555",
        "language": "pl",
        "arrived_at": ARRIVED_AT,
        "menu_version": "v1@test",
    }
    await bus.publish(STREAM, ARRIVED, {"call_id": call_id, **encode_times(arrival)})


async def publish_progress(
    bus: EventBus, call_id: str, path: list[str], values: dict[str, object]
) -> None:
    steps = [{"step_id": s, "digits": None} for s in path]
    event = {
        "call_id": call_id,
        "uniqueid": "1732440000.1",
        "values": encode_times({"ivr_path": steps, "language": "pl", **values}),
        "ended": {},
    }
    await bus.publish(STREAM, PROGRESS, event)


async def row(sessions: async_sessionmaker[AsyncSession], call_id: str) -> Call | None:
    async with sessions() as db:
        return await db.get(Call, call_id)


async def test_events_published_while_no_recorder_ran_are_written_when_it_starts(
    redis: aioredis.Redis, sessions: async_sessionmaker[AsyncSession]
) -> None:
    bus = EventBus(redis, "rec1")
    await publish_arrival(bus, "c1")
    await publish_progress(bus, "c1", ["welcome", "menu"], {"queue": "city_issues"})
    assert await row(sessions, "c1") is None
    async with running_recorder(bus, sessions, "after-restart"):
        call = await row(sessions, "c1")
    assert call is not None and call.caller_number == "+48600123456"
    assert call.queue == "city_issues" and call.outcome == "in_progress"
    assert call.arrived_at == ARRIVED_AT.replace(tzinfo=None) or call.arrived_at == ARRIVED_AT


async def test_events_a_crashed_consumer_left_unacknowledged_are_claimed_and_written(
    redis: aioredis.Redis, sessions: async_sessionmaker[AsyncSession]
) -> None:
    bus = EventBus(redis, "rec2")
    await bus.ensure_group(STREAM, IVRRecorder.GROUP, "0")
    await publish_arrival(bus, "c2")
    # the dead controller read the event and crashed before its transaction committed
    taken = await redis.xreadgroup(IVRRecorder.GROUP, "dead", {bus.key(STREAM): ">"}, count=10)
    assert taken and len(taken[0][1]) == 1
    async with running_recorder(bus, sessions, "survivor", claim_idle_ms=50):
        call = await row(sessions, "c2")
    assert call is not None and call.channel == "PJSIP/trunk-00000001"
    assert (await redis.xpending(bus.key(STREAM), IVRRecorder.GROUP))["pending"] == 0


async def test_a_late_hand_over_or_repeated_arrival_never_moves_the_call_back(
    redis: aioredis.Redis, sessions: async_sessionmaker[AsyncSession]
) -> None:
    bus = EventBus(redis, "rec3")
    await publish_arrival(bus, "c3")
    await publish_progress(
        bus,
        "c3",
        ["welcome", "menu", "opening_hours"],
        {"outcome": "self_service", "ended_at": ENDED_AT},
    )
    # a hand-over write retried after the end, and the arrival delivered again
    await publish_progress(bus, "c3", ["welcome"], {"queue": "city_issues"})
    await publish_arrival(bus, "c3")
    async with running_recorder(bus, sessions, "one"):
        call = await row(sessions, "c3")
    assert call is not None and call.outcome == "self_service" and call.ended_at is not None
    assert [s["step_id"] for s in call.ivr_path] == ["welcome", "menu", "opening_hours"]
    assert isinstance(call.arrived_at, datetime)
