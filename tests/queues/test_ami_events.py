"""AMI events (plain frames parsed by asterisk.ami) become router transitions."""

from __future__ import annotations

from asterisk.ami import AMISnapshot, parse_event, parse_message
from kck.clock import ManualClock
from queues.ami_events import RouterAMIAdapter
from queues.model import AgentState
from queues.router import Router
from tests.queues.conftest import request, state_of


def event(**headers: str) -> object:
    text = "\r\n".join(f"{k}: {v}" for k, v in headers.items())
    return parse_event(parse_message(text))


async def test_device_state_change_keeps_a_busy_phone_from_being_offered(
    router: Router, clock: ManualClock
) -> None:
    adapter = RouterAMIAdapter(router)
    await router.agent_login("ala")
    await adapter.on_event(event(Event="DeviceStateChange", Device="PJSIP/101", State="INUSE"))
    req = request(clock, {"taxes": 1})
    assert await router.enqueue(req) is None
    await adapter.on_event(event(Event="DeviceStateChange", Device="PJSIP/101", State="NOT_INUSE"))
    assert await state_of(router, "ala") is AgentState.OFFERED


async def test_hangup_of_a_waiting_callers_channel_is_an_abandon(
    router: Router, clock: ManualClock
) -> None:
    req = request(clock, {"taxes": 1})
    await router.enqueue(req)
    await RouterAMIAdapter(router).on_event(
        event(Event="Hangup", Channel=req.channel, Uniqueid=req.uniqueid, Cause="16")
    )
    assert await router.call_state(req.call_id) is None


async def test_dial_end_answer_puts_the_agent_on_the_call_at_once(
    router: Router, clock: ManualClock
) -> None:
    await router.agent_login("ala")
    req = request(clock, {"taxes": 1})
    await router.enqueue(req)
    await RouterAMIAdapter(router).on_event(
        event(
            Event="DialEnd",
            Channel=req.channel,
            Uniqueid=req.uniqueid,
            DestChannel="PJSIP/101-0001",
            DialStatus="ANSWER",
        )
    )
    assert await state_of(router, "ala") is AgentState.ON_CALL


async def test_hangup_of_the_original_channel_keeps_a_callback_request(
    router: Router, clock: ManualClock
) -> None:
    req = request(clock, {"taxes": 1})
    await router.enqueue(req)
    await router.request_callback(req.call_id, "+48600100200")
    await router.agent_login("ala")  # offered as a callback
    await RouterAMIAdapter(router).on_event(
        event(Event="Hangup", Uniqueid=req.uniqueid, Cause="16")
    )
    state = await router.call_state(req.call_id)
    assert state is not None and state["state"] == "offered"


async def test_resync_snapshot_closes_gone_channels(router: Router, clock: ManualClock) -> None:
    req = request(clock, {"taxes": 1})
    await router.enqueue(req)
    clock.advance(1)
    snapshot = AMISnapshot(
        channels=(),
        device_states={"PJSIP/101": "UNAVAILABLE"},
        taken_at=clock.now(),
        login_number=2,
    )
    await RouterAMIAdapter(router).reconcile(snapshot)
    assert await router.call_state(req.call_id) is None
    assert await router.phone_state("ala") == "UNAVAILABLE"


async def test_dial_end_without_answer_settles_the_offer_even_if_the_dialling_process_died(
    router: Router, clock: ManualClock
) -> None:
    await router.agent_login("ala")
    req = request(clock, {"taxes": 1})
    offer = await router.enqueue(req)
    assert offer is not None
    adapter = RouterAMIAdapter(router)
    late = event(
        Event="DialEnd", Uniqueid=req.uniqueid, DestChannel="PJSIP/102-0007", DialStatus="NOANSWER"
    )
    await adapter.on_event(late)  # not the phone of the current offer: ignored
    assert await state_of(router, "ala") is AgentState.OFFERED
    await adapter.on_event(
        event(
            Event="DialEnd",
            Uniqueid=req.uniqueid,
            DestChannel="PJSIP/101-0008",
            DialStatus="NOANSWER",
        )
    )
    status = await router.agent_status("ala")
    assert status is not None and status.state is AgentState.PAUSED and status.reason == "no_answer"
    assert await router.position(req.call_id) == 1
    # the waiting loop's own late report changes nothing
    assert await router.offer_not_answered(offer.offer_id) == []
    assert await router.position(req.call_id) == 1
