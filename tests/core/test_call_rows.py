"""Call rows written from events in batches: each call's order kept, few round trips (both DBs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from kck.call_events import CallArrived, CallProgress
from kck.call_rows import call_arrived_writes, call_progress_writes, execute_in_call_order
from kck.db import Call, session_factory

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def arrived(call_id: str) -> CallArrived:
    return CallArrived(
        call_id=call_id,
        uniqueid=f"1700000000.{call_id}",
        channel="PJSIP/trunk-1",
        caller_number="+48600100200",
        caller_name=None,
        dialled_number="+48126165555",
        language="pl",
        arrived_at=T0,
        menu_version="v1@abc",
    )


async def test_a_batch_of_three_calls_keeps_each_calls_order_in_four_round_trips(
    engine: AsyncEngine,
) -> None:
    dialect = engine.dialect.name
    ids = ("a", "b", "c")
    writes = []
    for call_id in ids:  # arrivals first, as the stream has them
        writes += call_arrived_writes(dialect, arrived(call_id).as_data())
    for call_id in ids:  # then the hand-over to a queue
        handover = CallProgress(call_id, call_id, {"queue": "city_issues", "ivr_path": [1]})
        writes += call_progress_writes(dialect, handover.as_data())
    for call_id in ids:  # then each caller gives up waiting: the path grew, an abandon
        gave_up = CallProgress(
            call_id,
            call_id,
            {"ivr_path": [1, 2]},
            {"outcome": "abandoned", "ended_at": T0 + timedelta(minutes=2)},
        )
        writes += call_progress_writes(dialect, gave_up.as_data())
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        trips = await execute_in_call_order(session, writes)
    assert len(writes) == 12 and trips == 4  # 3 inserts, 3 updates, 3 + 3 at the end
    async with sessions() as session:
        for call_id in ids:
            row = await session.get(Call, call_id)
            assert row is not None and row.queue == "city_issues" and row.ivr_path == [1, 2]
            assert row.outcome == "abandoned" and row.ended_at == T0 + timedelta(minutes=2)
            assert row.menu_version == "v1@abc" and row.arrived_at == T0


async def test_an_arrival_written_after_a_stub_fills_only_what_the_stub_lacks(
    engine: AsyncEngine,
) -> None:
    dialect = engine.dialect.name
    stub = CallProgress("d", "", {"queue": "documents"})  # the arrival event was lost first
    writes = call_progress_writes(dialect, stub.as_data())
    writes += call_arrived_writes(dialect, arrived("d").as_data())
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await execute_in_call_order(session, writes)
    async with sessions() as session:
        row = await session.get(Call, "d")
        assert row is not None and row.queue == "documents"
        assert row.uniqueid == "1700000000.d" and row.caller_number == "+48600100200"
        assert row.outcome == "in_progress"
