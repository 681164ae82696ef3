"""PostgreSQL shut down while calls flow: calls are still answered, the events wait in the stream
(counted on /metrics, the writer's state in /health), and once the database is back every event
is written exactly once and the backlog is 0 again (issue 18, point 10). The same for a hung
PostgreSQL (SIGSTOP: connections accepted, never answered): the writer gives a write up after
`database.write_timeout_s` and reports the outage as such."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from asterisk.agi import FastAGIServer
from ivr.agi_route import CALL_ID_VARIABLE
from kck.bus import EventBus
from kck.call_events import CALLS_STREAM
from kck.config_files import SHIPPED_CONFIG
from kck.db import AgentStateLog, Call, create_engine, session_factory
from kck.db.migrate import upgrade
from kck.services import Services
from kck.settings import Settings
from kck.writer_state import WAITING, WRITING
from queues.component import RouterComponent, create_router_component
from tests.asterisk.agi_caller import AsteriskSideCall
from tests.exposition import sample
from tests.ivr.support import shipped_ivr_fastagi
from tests.polling import until_true
from tests.services import PostgresProcess, start_postgres

CALLS_DURING = 4
STATES_DURING = 30
WRITE_TIMEOUT_S = 1.0


@pytest.fixture
def own_postgres() -> Iterator[PostgresProcess]:
    """A cluster of this test's own: shutting it down touches no other test's database."""
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def outage_services(
    own_postgres: PostgresProcess, redis: aioredis.Redis, settings: Settings
) -> AsyncIterator[Services]:
    engine = create_engine(own_postgres.url())
    await upgrade(engine)
    paths = settings.paths.model_copy(
        update={"config": SHIPPED_CONFIG, "menus": SHIPPED_CONFIG / "menus"}
    )
    database = settings.database.model_copy(update={"write_timeout_s": WRITE_TIMEOUT_S})
    try:
        yield Services(
            settings=settings.model_copy(update={"paths": paths, "database": database}),
            engine=engine,
            sessions=session_factory(engine),
            redis=redis,
            bus=EventBus(redis, prefix="pg-outage"),
        )
    finally:
        await engine.dispose()


async def _call(server: FastAGIServer, n: int) -> str:
    """One caller through the IVR to a queue; the call id the IVR gave the dialplan."""
    call = AsteriskSideCall(server.port, uniqueid=f"1795527000.{n}", keys=["1", "5", "2"])
    async with asyncio.timeout(15):  # the call path never waits for the database
        await call.run()
    assert not call.dialplan_falls_back, call.variables
    return call.variables[CALL_ID_VARIABLE].strip('"')


async def _agent_state(services: Services, n: int) -> None:
    """An agent's state change as the router's Lua publishes it (one state-log row each)."""
    since = f"2026-11-24T10:{n // 60:02d}:{n % 60:02d}+01:00"
    state = "available" if n % 2 else "paused"
    data = {"agent": "anowak", "state": state, "reason": None if n % 2 else "break"}
    await services.bus.publish(CALLS_STREAM, "agent_state", {**data, "since": since})


async def _metric(component: RouterComponent, name: str) -> float:
    value = sample(await component.metrics_text(), name)
    assert value is not None, name
    return value


async def _rows(services: Services) -> tuple[int, int]:
    async with services.sessions() as session:
        calls = await session.scalar(
            select(func.count()).select_from(Call).where(Call.arrived_at.is_not(None))
        )
        states = await session.scalar(select(func.count()).select_from(AgentStateLog))
    return int(calls or 0), int(states or 0)


async def test_postgres_down_while_calls_flow_loses_nothing_and_the_writer_catches_up(
    own_postgres: PostgresProcess,
    outage_services: Services,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    services = outage_services
    server = await shipped_ivr_fastagi(services.sessions, services.bus, tmp_path)
    component = await create_router_component(services)
    await component.start()
    try:
        call_ids = {await _call(server, 0)}
        await _agent_state(services, 0)
        await until_true(lambda: _written(services, (1, 1)), seconds=20)

        await asyncio.to_thread(own_postgres.shut_down)
        caplog.clear()
        caplog.set_level(logging.DEBUG)
        before: Any = await services.redis.xlen(services.bus.key(CALLS_STREAM))
        for n in range(1, CALLS_DURING + 1):
            call_ids.add(await _call(server, n))  # answered and queued, database down
        for n in range(1, STATES_DURING + 1):
            await _agent_state(services, n)
        produced = int(await services.redis.xlen(services.bus.key(CALLS_STREAM))) - int(before)

        async def all_waiting() -> bool:
            pending = await _metric(component, "kck_call_history_pending_events")
            unread = await _metric(component, "kck_call_history_unread_events")
            return pending + unread == produced

        await until_true(all_waiting, seconds=20)  # nothing was written, nothing was dropped
        assert await _metric(component, "kck_call_history_unread_events") > 0
        assert await _metric(component, "kck_call_history_oldest_age_seconds") > 0
        writer = component.health()["call_history_writer"]
        assert writer["state"] == WAITING and writer["attempts"] >= 1, writer
        assert await _metric(component, "kck_call_history_writer_waiting") == 1
        outage_log = list(caplog.records)

        await asyncio.to_thread(own_postgres.start_again)
        expected = (1 + CALLS_DURING, 1 + STATES_DURING)
        await until_true(lambda: _written(services, expected), seconds=60)

        await until_true(lambda: _caught_up(services), seconds=20)
    finally:
        await component.stop()
        await server.stop()
    # every event exactly once: one row per call, one state-log row per state change
    assert await _rows(services) == expected
    async with services.sessions() as session:
        written_ids = set((await session.scalars(select(Call.id))).all())
    assert written_ids == call_ids
    assert await _metric(component, "kck_call_history_unread_events") == 0
    assert await _metric(component, "kck_call_history_pending_events") == 0
    assert await _metric(component, "kck_call_history_oldest_age_seconds") == 0
    assert component.health()["call_history_writer"]["state"] == WRITING
    # one warning for the outage, not a traceback per event or per attempt
    tracebacks = [r for r in outage_log if r.exc_info]
    assert tracebacks == []
    warned = [r for r in outage_log if "database is unavailable" in r.getMessage()]
    assert len(warned) == 1


async def _caught_up(services: Services) -> bool:
    backlog = await services.bus.backlog(CALLS_STREAM, "queues-recorder")
    return backlog is not None and backlog.pending == 0 and not backlog.unread


async def _written(services: Services, expected: tuple[int, int]) -> bool:
    try:
        return await _rows(services) == expected
    except (OSError, DBAPIError):  # a pooled connection from before the outage
        return False


async def _writer_waiting(component: RouterComponent) -> bool:
    return (
        component.health()["call_history_writer"]["state"] == WAITING
        and await _metric(component, "kck_call_history_writer_waiting") == 1
    )


async def test_hung_postgres_is_an_outage_on_health_and_metrics_and_the_writer_catches_up(
    own_postgres: PostgresProcess, outage_services: Services, tmp_path: Path
) -> None:
    services = outage_services
    server = await shipped_ivr_fastagi(services.sessions, services.bus, tmp_path)
    component = await create_router_component(services)
    await component.start()
    try:
        call_ids = {await _call(server, 0)}
        await _agent_state(services, 0)
        await until_true(lambda: _written(services, (1, 1)), seconds=20)
        assert await _metric(component, "kck_call_history_writer_waiting") == 0

        await asyncio.to_thread(own_postgres.pause)
        for n in range(1, 4):
            call_ids.add(await _call(server, n))  # the call path never waits for the database
            await _agent_state(services, n)
        # before the timeout the writer waited for the hung server forever, "writing"
        await until_true(lambda: _writer_waiting(component), seconds=30)
        writer = component.health()["call_history_writer"]
        assert "did not answer within 1 s" in writer["error"], writer
        assert await _metric(component, "kck_call_history_oldest_age_seconds") > 0

        await asyncio.to_thread(own_postgres.resume)
        await until_true(lambda: _written(services, (4, 4)), seconds=60)

        await until_true(lambda: _caught_up(services), seconds=30)
    finally:
        own_postgres.resume()  # a failed assertion must not leave it stopped
        await component.stop()
        await server.stop()
    assert component.health()["call_history_writer"]["state"] == WRITING
    assert await _metric(component, "kck_call_history_writer_waiting") == 0
    assert await _metric(component, "kck_call_history_unread_events") == 0
