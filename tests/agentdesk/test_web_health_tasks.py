"""The web component's health names the desk's task parts it runs: the callback scheduler and
the non-voice dispatcher, each up while the application runs (a real component on a real port)."""

from __future__ import annotations

from dataclasses import replace

from agentdesk.component import WebComponent
from kck.health import fixed_health
from kck.services import Services
from tests.board.conftest import make_router


async def test_the_web_health_lists_the_callback_scheduler_and_the_nonvoice_dispatcher(
    configured_services: Services,
) -> None:
    http = configured_services.settings.http.model_copy(update={"port": 0})
    services = replace(
        configured_services, settings=configured_services.settings.model_copy(update={"http": http})
    )
    component = WebComponent(services, make_router(services), fixed_health({"parts": {}}))
    await component.start()
    try:
        running = component.health()
    finally:
        await component.stop()
    assert running["callback_scheduler"]["up"] is True and "queued" in running["callback_scheduler"]
    assert running["nonvoice_dispatcher"] == {"up": True, "offered": 0}
