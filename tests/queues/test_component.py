"""The router as a runtime component: starts, serves timers and records, stops cleanly."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from asterisk.ami import Originate
from kck.config_files import SHIPPED_CONFIG
from kck.db.models import AgentStateLog
from kck.services import Services
from queues.component import create_router_component
from queues.config import QueueConfigError, load_routing_config
from queues.model import RoutingRequest
from tests.exposition import sample


def test_shipped_configuration_is_valid_and_has_a_city_hall_team() -> None:
    config = load_routing_config(SHIPPED_CONFIG)
    assert len(config.agents) >= 12
    assert "general" in config.skills and "citizens_affairs" in config.queues
    assert all(1 <= lvl <= 5 for a in config.agents.values() for lvl in a.skills.values())


async def test_component_records_agent_transitions_in_sql_and_reports_health(
    configured_services: Services,
) -> None:
    services = configured_services
    component = await create_router_component(services)
    await component.start()
    try:
        assert component.health()["up"] is True
        await component.router.agent_login("anowak")
        for _ in range(200):
            async with services.sessions() as session:
                rows = (await session.scalars(select(AgentStateLog.state))).all()
            if rows:
                break
            await asyncio.sleep(0.05)
        assert rows == ["available"]
        for _ in range(200):  # the batch is acknowledged just after its commit
            metrics = await component.metrics_text()
            if sample(metrics, "kck_call_history_pending_events") == 0:
                break
            await asyncio.sleep(0.05)
        assert sample(metrics, "kck_call_history_behind_seconds") == 0
        assert sample(metrics, "kck_call_history_pending_events") == 0
    finally:
        await component.stop()
    assert component.health()["up"] is False


async def test_router_reads_only_the_configured_folder_and_names_the_missing_file(
    services: Services,
) -> None:
    configured = services.settings.config_dir
    configured.mkdir(parents=True)
    for name in ("skills.yaml", "agents.yaml"):
        (configured / name).write_bytes((SHIPPED_CONFIG / name).read_bytes())
    with pytest.raises(QueueConfigError, match="file not found") as raised:
        await create_router_component(services)
    assert str(raised.value).startswith(f"{configured / 'queues.yaml'}:")


class _RecordingAMI:
    """The AMI component's client as far as the router uses it (`RouterAMI`): records
    Originates."""

    def __init__(self) -> None:
        self.originated: list[Originate] = []

    def add_event_handler(self, handler: object, *names: str) -> None:
        pass

    def add_reconciler(self, reconciler: object) -> None:
        pass

    async def originate(self, originate: Originate) -> object:
        self.originated.append(originate)
        return SimpleNamespace(success=True)

    async def stop_playback(self, channel: str) -> None:
        pass


async def test_callback_dials_the_citizen_through_the_configured_trunk(
    configured_services: Services,
) -> None:
    settings = configured_services.settings
    trunk = settings.trunk.model_copy(update={"name": "orange", "number_format": "national"})
    services = replace(configured_services, settings=settings.model_copy(update={"trunk": trunk}))
    ami = _RecordingAMI()
    component = await create_router_component(services, ami)
    await component.start()
    try:
        request = RoutingRequest(
            call_id="cb1",
            uniqueid="1764000000.1",
            channel="PJSIP/orange-00000001",
            caller="+48600100200",
            language="pl",
            queue="citizens_affairs",
            skills={"id_cards": 1},
            priority=0,
            arrived_at=services.clock.now().isoformat(),
        )
        await component.router.enqueue(request, callback_number="+48600100200")
        [offer] = await component.router.agent_login("anowak")
        assert component.callbacks is not None and await component.callbacks.dial(offer)
    finally:
        await component.stop()
    [action] = ami.originated
    assert action.data == "PJSIP/600100200@orange,60"
    assert action.caller_id == settings.centre.hotline  # trunk.caller_id not set
