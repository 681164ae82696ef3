"""`database.write_history: false`: a node that serves calls but never writes the call history.

Two nodes on one Redis and one database, as in docs/deployment.md: the FastAGI node (setting
false) starts first and takes calls; the writing node starts after. The calls' rows are written
by the writing node alone: the FastAGI node never held the `queues-recorder` lease nor read the
stream in its group (had it competed, it would have taken the lease at its start, being first).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from asterisk.agi import FastAGIServer
from ivr.agi_route import CALL_ID_VARIABLE
from kck.call_events import CALLS_STREAM
from kck.db import Call
from kck.db.migrate import upgrade
from kck.services import Services
from kck.settings import Settings, load_settings
from queues.component import OTHER_NODE, RouterComponent, create_router_component
from queues.recorder import QueueRecorder
from tests.asterisk.agi_caller import AsteriskSideCall
from tests.ivr.support import shipped_ivr_fastagi
from tests.polling import until_true

DATA = Path(__file__).resolve().parents[1] / "data"


def test_write_history_is_on_by_default_and_read_from_the_environment() -> None:
    defaults = load_settings(DATA / "settings-empty.yaml", environ={})
    assert defaults.database.write_history is True
    agi_node = load_settings(
        DATA / "settings-empty.yaml", environ={"KCK_DATABASE_WRITE_HISTORY": "false"}
    )
    assert agi_node.database.write_history is False


@pytest.fixture
def node_names(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Each component made from here on is another node: `agi-node`, then `writer-node`."""
    names = ["agi-node", "writer-node"]
    given = iter(names)
    monkeypatch.setattr("queues.component.holder_name", lambda: next(given))
    yield names


def _node(services: Services, *, write_history: bool) -> Services:
    settings: Settings = services.settings
    database = settings.database.model_copy(update={"write_history": write_history})
    return replace(services, settings=settings.model_copy(update={"database": database}))


async def _call(server: FastAGIServer, n: int) -> str:
    call = AsteriskSideCall(server.port, uniqueid=f"1795528000.{n}", keys=["1", "5", "2"])
    await call.run()
    assert not call.dialplan_falls_back, call.variables
    return call.variables[CALL_ID_VARIABLE].strip('"')


async def test_a_node_with_write_history_false_never_takes_the_lease_and_another_writes(
    configured_services: Services, tmp_path: Path, node_names: list[str]
) -> None:
    services = configured_services
    await upgrade(services.engine)
    bus, redis = services.bus, services.redis
    lease_key = f"{bus.prefix}:lease:{QueueRecorder.LEASE}"
    agi_node = await create_router_component(_node(services, write_history=False))
    server = await shipped_ivr_fastagi(services.sessions, bus, tmp_path)
    writer_node: RouterComponent | None = None
    await agi_node.start()
    try:
        assert agi_node.health()["call_history_writer"] == {"state": OTHER_NODE}
        calls = {await _call(server, n) for n in range(3)}
        assert await redis.get(lease_key) is None

        writer_node = await create_router_component(_node(services, write_history=True))
        await writer_node.start()

        async def all_written() -> bool:
            async with services.sessions() as session:
                rows = (await session.scalars(select(Call).where(Call.id.in_(calls)))).all()
            return len(rows) == len(calls) and all(r.queue == "city_issues" for r in rows)

        await until_true(all_written, seconds=20)
        calls.add(await _call(server, 3))  # and while both nodes run
        await until_true(all_written, seconds=20)
        assert await redis.get(lease_key) == b"writer-node"
        consumers: Any = await redis.xinfo_consumers(bus.key(CALLS_STREAM), QueueRecorder.GROUP)
        assert {c["name"] for c in consumers} in ({b"writer-node"}, {"writer-node"})
        assert agi_node.health()["call_history_writer"] == {"state": OTHER_NODE}
        assert writer_node.health()["call_history_writer"]["state"] == "writing"
    finally:
        await server.stop()
        await agi_node.stop()
        if writer_node is not None:
            await writer_node.stop()
