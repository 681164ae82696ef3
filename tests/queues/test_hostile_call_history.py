"""Hostile values from Asterisk never cost a call its history, on SQLite and on PostgreSQL, and
one event the writer can never write is set aside (counted on /metrics) while the rest go on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from ivr.agi_route import CALL_ID_VARIABLE
from kck.bus import EventBus
from kck.call_events import CALL_ARRIVED, CALL_PROGRESS, CALLS_STREAM
from kck.config_files import SHIPPED_CONFIG
from kck.db import Call, session_factory
from kck.edge_values import TRUNCATED
from kck.services import Services
from kck.settings import Settings
from queues.component import RouterComponent, create_router_component
from queues.recorder import QueueRecorder, is_poison
from tests.asterisk.agi_caller import AsteriskSideCall
from tests.call_history import record_call_history
from tests.exposition import sample
from tests.ivr.support import shipped_ivr_fastagi
from tests.polling import until, until_true

LONG_NAME = "Żółć " * 60  # 300 characters of a SIP display name (UTF-8: 540 bytes)


def hostile_environment(uniqueid: str) -> str:
    return (
        "agi_network: yes\nagi_network_script: ivr\nagi_request: agi://127.0.0.1/ivr\n"
        f"agi_channel: PJSIP/{'trunk-' * 40}00000031\nagi_language: plplplplplplpl\n"
        f"agi_uniqueid: {uniqueid}\nagi_callerid: +48600\x00123456\n"
        f"agi_calleridname: Jan\x00 {LONG_NAME}\nagi_dnid: {'1' * 60}\n"
        "agi_rdnis: unknown\nagi_context: kck-inbound\nagi_extension: 126165555\n"
        "agi_priority: 4\nagi_accountcode: \nagi_threadid: 1403\n\n"
    )


async def test_a_call_with_overlong_and_nul_values_from_asterisk_keeps_its_arrival_row(
    engine: AsyncEngine, redis: aioredis.Redis, tmp_path: Path
) -> None:
    sessions = session_factory(engine)
    bus = EventBus(redis, "t")
    server = await shipped_ivr_fastagi(sessions, bus, tmp_path)
    too_long_uniqueid = "1795527000." + "7" * 100
    call = AsteriskSideCall(server.port, keys=["1", "5", "2"])
    call.environment = hostile_environment(too_long_uniqueid)
    try:
        await call.run()
        await until(lambda: server.active_sessions == 0)
    finally:
        await server.stop()
    call_id = call.variables[CALL_ID_VARIABLE].strip('"')
    await record_call_history(bus, sessions)
    async with sessions() as session:
        row = await session.get(Call, call_id)
    assert row is not None and row.arrived_at is not None and row.queue is not None
    # free text: control characters gone, cut to the column with a marker
    assert row.caller_name is not None and "\x00" not in row.caller_name
    assert len(row.caller_name) == 200 and row.caller_name.endswith(TRUNCATED)
    assert row.caller_name.startswith("Jan Żółć")
    assert row.channel is not None and len(row.channel) == 128
    assert row.channel.endswith(TRUNCATED)
    # identifiers that cannot be right are refused, not cut
    assert row.dialled_number is None
    assert row.uniqueid == call_id  # not Asterisk's impossible one
    assert row.language == "pl"
    assert row.caller_number == "+48600123456"


@pytest.fixture
async def writer_services(
    engine: AsyncEngine, redis: aioredis.Redis, settings: Settings
) -> AsyncIterator[Services]:
    """Services on the parametrised database (SQLite and PostgreSQL), shipped configuration."""
    paths = settings.paths.model_copy(
        update={"config": SHIPPED_CONFIG, "menus": SHIPPED_CONFIG / "menus"}
    )
    yield Services(
        settings=settings.model_copy(update={"paths": paths}),
        engine=engine,
        sessions=session_factory(engine),
        redis=redis,
        bus=EventBus(redis, prefix="poison"),
    )


def arrival(call_id: str, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "call_id": call_id,
        "uniqueid": f"1795527000.{call_id}",
        "channel": "PJSIP/trunk-00000001",
        "caller_number": "+48600123456",
        "caller_name": "Jan Kowalski",
        "dialled_number": "126165555",
        "language": "pl",
        "arrived_at": "2026-11-24T10:00:00+01:00",
        "menu_version": "v1",
    }
    data.update(changes)
    return data


async def _set_aside_metric(component: RouterComponent) -> float | None:
    return sample(await component.metrics_text(), "kck_call_history_set_aside_events")


async def test_the_writer_sets_a_poison_event_aside_and_writes_the_others(
    writer_services: Services,
) -> None:
    services = writer_services
    bus = services.bus
    poison: list[tuple[str, dict[str, Any]]] = [
        # a missing field (fails on any database)
        (CALL_ARRIVED, {k: v for k, v in arrival("p1").items() if k != "arrived_at"}),
        # a value PostgreSQL refuses and SQLite takes: an integer over 32 bits
        (CALL_PROGRESS, {"call_id": "a1", "uniqueid": "", "values": {"priority": 2**40}}),
    ]
    await bus.publish(CALLS_STREAM, CALL_ARRIVED, arrival("a1"))
    for event_type, data in poison:
        await bus.publish(CALLS_STREAM, event_type, data)
    # written before the guard came in: values longer than their columns, a NUL
    await bus.publish(
        CALLS_STREAM,
        CALL_ARRIVED,
        arrival("a2", caller_name="x\x00" + "y" * 400, channel="c" * 300, uniqueid="u" * 80),
    )
    component = await create_router_component(services)
    await component.start()
    try:

        async def written() -> bool:
            async with services.sessions() as session:
                ids = set((await session.scalars(select(Call.id))).all())
            backlog = await bus.backlog(CALLS_STREAM, QueueRecorder.GROUP)
            return {"a1", "a2"} <= ids and backlog is not None and backlog.pending == 0

        await until_true(written, seconds=20)
        set_aside = await bus.set_aside_count(CALLS_STREAM)
        on_postgres = services.engine.dialect.name == "postgresql"
        assert set_aside == (2 if on_postgres else 1)
        assert await _set_aside_metric(component) == set_aside
        kept: Any = await services.redis.xrange(bus.set_aside_key(CALLS_STREAM))
        assert b"KeyError" in kept[0][1][b"error"] and b"arrived_at" in kept[0][1][b"error"]
    finally:
        await component.stop()
    async with services.sessions() as session:
        a2 = await session.get(Call, "a2")
    assert a2 is not None and a2.caller_name == "x" + "y" * 198 + TRUNCATED
    assert a2.channel is not None and len(a2.channel) == 128
    assert a2.uniqueid is not None and len(a2.uniqueid) == 64


def test_a_database_away_is_not_poison_but_bad_data_is() -> None:
    away = OperationalError("INSERT", {}, ConnectionRefusedError("connection refused"))
    assert not is_poison(away)
    assert not is_poison(ConnectionResetError())
    assert not is_poison(TimeoutError())
    assert not is_poison(asyncio.IncompleteReadError(b"", 10))
    assert is_poison(DataError("INSERT", {}, ValueError("value too long")))
    assert is_poison(KeyError("arrived_at"))
    assert is_poison(ValueError("router event 'call_queued': bad or missing field"))
