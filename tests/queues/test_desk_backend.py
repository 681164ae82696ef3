"""The desk's port on the real router: login paused, available, offers, refusals, wrap-up end."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agentdesk.ports import AgentState, StateRefused
from kck.clock import ManualClock
from queues.desk_backend import RouterDeskBackend
from queues.model import EndCause
from queues.router import Router
from tests.queues.conftest import request


async def test_agent_logs_in_paused_then_becomes_available_and_sees_the_offer(
    router: Router, clock: ManualClock
) -> None:
    desk = RouterDeskBackend(router)
    status = await desk.login("ala", "101")
    assert status.state is AgentState.PAUSED and status.reason == "login"
    await desk.set_state("ala", AgentState.AVAILABLE)
    req = request(clock, {"taxes": 1})
    await router.enqueue(req)
    offer = await desk.current_offer("ala")
    assert offer is not None and offer.call_id == req.call_id and offer.dial == "PJSIP/101"
    with pytest.raises(StateRefused):
        await desk.set_state("ala", AgentState.PAUSED, "break")


async def test_wrap_up_status_says_until_when(router: Router, clock: ManualClock) -> None:
    desk = RouterDeskBackend(router)
    await desk.login("ala", "101")
    await desk.set_state("ala", AgentState.AVAILABLE)
    req = request(clock, {"taxes": 1})
    offer = await router.enqueue(req)
    assert offer is not None
    await router.offer_answered(offer.offer_id)
    await router.call_ended(req.call_id, EndCause.COMPLETED)
    status = await desk.status("ala")
    assert status.state is AgentState.WRAP_UP
    assert status.until == clock.now() + timedelta(seconds=30)


async def test_hot_desk_login_dials_the_phone_the_agent_sits_at(
    router: Router, clock: ManualClock
) -> None:
    desk = RouterDeskBackend(router)
    await desk.login("ala", "120")
    await desk.set_state("ala", AgentState.AVAILABLE)
    await router.device_state("PJSIP/120", "INUSE")
    assert await router.enqueue(request(clock, {"taxes": 1})) is None
    offers = await router.device_state("PJSIP/120", "NOT_INUSE")
    assert [(o.dial, o.extension) for o in offers] == [("PJSIP/120", "120")]


async def test_unknown_agent_is_refused(router: Router) -> None:
    with pytest.raises(StateRefused):
        await RouterDeskBackend(router).login("nobody", "199")
