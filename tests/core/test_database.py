"""The core tables behave the same on SQLite and PostgreSQL, and migrations are enforced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from kck.db import (
    AgentStateLog,
    AuditEntry,
    Call,
    CallOutcome,
    DatabaseUnavailable,
    SchemaNotMigrated,
    User,
    create_engine,
    require_current_schema,
    session_factory,
    status,
    upgrade,
)


async def test_call_round_trips_with_aware_times_and_json_path(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    arrived = datetime(2026, 3, 29, 1, 59, 30, tzinfo=ZoneInfo("Europe/Warsaw"))  # just before DST
    async with sessions.begin() as db:
        agent = User(
            username="anna",
            display_name="Anna Kowalska",
            password_hash="x",
            role="agent",
            extension="101",
        )
        db.add(agent)
        await db.flush()
        db.add(
            Call(
                uniqueid="1732451234.17",
                caller_number="+48601234567",
                caller_name="Łukasz Żółć",
                arrived_at=arrived,
                answered_at=arrived + timedelta(seconds=12),
                ivr_path=[{"step": "lang", "digits": "1"}, {"step": "main", "digits": "5"}],
                skills={"greenery": 2},
                agent_id=agent.id,
                outcome=CallOutcome.ANSWERED.value,
            )
        )
    async with sessions() as db:
        call = (await db.execute(select(Call))).scalar_one()
        assert call.arrived_at == arrived
        assert call.arrived_at.tzinfo is not None
        assert call.caller_name == "Łukasz Żółć"
        assert call.ivr_path[1] == {"step": "main", "digits": "5"}
        assert call.skills == {"greenery": 2}


async def test_naive_datetime_is_refused(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    with pytest.raises(Exception, match="naive datetime"):
        async with sessions.begin() as db:
            db.add(Call(uniqueid="1", arrived_at=datetime(2026, 1, 1, 12, 0)))


async def test_state_log_and_audit_are_kept_in_order(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    t0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    async with sessions.begin() as db:
        user = User(username="jan", display_name="Jan", password_hash="x")
        db.add(user)
        await db.flush()
        for i, state in enumerate(["available", "offered", "on_call", "wrap_up", "available"]):
            db.add(AgentStateLog(agent_id=user.id, state=state, at=t0 + timedelta(seconds=10 * i)))
        db.add(
            AuditEntry(
                actor="supervisor1",
                action="force_state",
                target="jan",
                details={"to": "logged_out"},
            )
        )
    async with sessions() as db:
        states = (
            (await db.execute(select(AgentStateLog.state).order_by(AgentStateLog.at)))
            .scalars()
            .all()
        )
        assert states == ["available", "offered", "on_call", "wrap_up", "available"]
        entry = (await db.execute(select(AuditEntry))).scalar_one()
        assert entry.details == {"to": "logged_out"}


async def test_migrated_database_passes_the_start_up_check(engine: AsyncEngine) -> None:
    await require_current_schema(engine)
    assert (await status(engine)).up_to_date


async def test_start_up_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/empty.db")
    try:
        with pytest.raises(SchemaNotMigrated, match="run `kck db upgrade`"):
            await require_current_schema(engine)
        await upgrade(engine)
        await upgrade(engine)  # idempotent
        await require_current_schema(engine)
    finally:
        await engine.dispose()


async def test_unreachable_postgres_is_one_clear_error() -> None:
    engine = create_engine("postgresql+asyncpg://kck:secret@127.0.0.1:1/kck")
    try:
        with pytest.raises(DatabaseUnavailable) as err:
            await status(engine)
    finally:
        await engine.dispose()
    assert "127.0.0.1:1" in str(err.value)
    assert "secret" not in str(err.value)
