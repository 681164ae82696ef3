"""The Dial application on a simulated call: ring an agent phone, bridge, report like app_dial."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

from .call import DialAttempt, SimulatedCall
from .channel import ChannelState, SimChannel
from .consult import handed_over
from .events import CALL, bridge_headers
from .phones import DeviceState, SimulatedPhone
from .scripts import PhoneMode

if TYPE_CHECKING:
    from .pbx import PBXSimulator

DIAL_VARIABLES = (
    "DIALSTATUS",
    "DIALEDPEERNUMBER",
    "DIALEDPEERNAME",
    "ANSWEREDTIME",
    "ANSWEREDTIME_MS",
    "DIALEDTIME",
    "DIALEDTIME_MS",
    "RINGTIME",
    "RINGTIME_MS",
    "PROGRESSTIME",
    "PROGRESSTIME_MS",
)


def parse_dial_args(args: str) -> tuple[list[str], float | None, str]:
    """`PJSIP/101&PJSIP/102,20,tg` -> (["PJSIP/101", "PJSIP/102"], 20.0, "tg")."""
    parts = args.split(",")
    targets = [t.strip() for t in parts[0].split("&") if t.strip()]
    timeout = None
    if len(parts) > 1 and parts[1].strip():
        try:
            timeout = float(parts[1])
        except ValueError:
            timeout = None
    options = parts[2] if len(parts) > 2 else ""
    return targets, timeout, options


async def run_dial(pbx: PBXSimulator, call: SimulatedCall, args: str) -> int:
    """Run `Dial(args)` for the call; returns what the AGI `EXEC` reports as `result=`.

    Only the first destination of `a&b` is rung (documented difference).
    """
    ev = pbx.events
    caller = call.channel
    for name in DIAL_VARIABLES:
        ev.varset(caller, name, "")
    targets, timeout, options = parse_dial_args(args)
    if call.caller_gone or call.agi_dead:
        # a dead (or redirected) channel: Dial returns at once without dialling
        ev.varset(caller, "DIALSTATUS", "CANCEL")
        return -1
    phone = pbx.phone_for_dial_target(targets[0]) if targets else None
    if phone is None or not phone.registered:
        ev.varset(caller, "DIALSTATUS", "CHANUNAVAIL")
        call.dial_attempts.append(DialAttempt(targets[0] if targets else "", "CHANUNAVAIL", 0, 0))
        return 0
    return await _dial_phone(pbx, call, phone, timeout, options)


def new_agent_leg(pbx: PBXSimulator, caller: SimChannel, phone: SimulatedPhone) -> SimChannel:
    """The outgoing PJSIP channel to an agent phone, up to (not including) DialBegin."""
    ev = pbx.events
    phone.calls_offered += 1
    agent = pbx.new_channel(
        f"PJSIP/{phone.endpoint}", context=pbx.agent_context, exten="s", linkedid=caller.linkedid
    )
    if phone.name:  # the endpoint's own caller ID (pjsip.conf callerid=)
        agent.callerid_num, agent.callerid_name = phone.endpoint, phone.name
    ev.newchannel(agent)
    ev.varset(agent, "DIALEDPEERNUMBER", phone.endpoint)
    agent.connected_num, agent.connected_name = caller.callerid_num, caller.callerid_name
    agent.exten = pbx.hotline
    if not phone.name:
        # app_dial.c: a channel without a caller ID number gets the dialled extension
        agent.callerid_num, agent.callerid_name = pbx.hotline, ""
        ev.newcallerid(agent)
    ev.newconnectedline(agent)
    return agent


async def _dial_phone(
    pbx: PBXSimulator,
    call: SimulatedCall,
    phone: SimulatedPhone,
    ring_timeout: float | None,
    options: str,
) -> int:
    ev = pbx.events
    caller = call.channel
    clock = pbx.clock
    agent = new_agent_leg(pbx, caller, phone)
    ev.dial("DialBegin", caller, agent, [("DialString", phone.endpoint)])
    call.music_off()  # app_dial stops the AGI's music unless option m/r
    dial_started = clock.now()

    def end_agent(cause: int) -> None:
        ev.hangup(agent, cause)
        pbx.forget_channel(agent)

    if phone.behaviour.mode is PhoneMode.BUSY or phone.state is not DeviceState.NOT_INUSE:
        ev.dial("DialEnd", caller, agent, [("DialStatus", "BUSY")])
        end_agent(17)
        ev.varset(caller, "DIALSTATUS", "BUSY")
        call.dial_attempts.append(DialAttempt(phone.endpoint, "BUSY", 0, 0))
        return 0

    caller.connected_num, caller.connected_name = pbx.hotline, ""
    ev.newconnectedline(caller)
    agent.state = ChannelState.RINGING
    ev.newstate(agent)
    ev.varset(caller, "RINGTIME", "0")
    ev.varset(caller, "RINGTIME_MS", "1")
    phone.set_state(DeviceState.RINGING)
    ev.dial("DialState", caller, agent, [("DialStatus", "RINGING")])

    answer_after = (
        phone.behaviour.answer_after if phone.behaviour.mode is PhoneMode.ANSWER else None
    )
    ring_for = (
        ring_timeout
        if answer_after is None
        else (answer_after if ring_timeout is None else min(answer_after, ring_timeout))
    )
    ring_end = await _wait_first(pbx, call, agent, ring_for)
    ring_seconds = clock.now() - dial_started
    if ring_end == "caller":
        ev.dial("DialEnd", caller, agent, [("DialStatus", "CANCEL")])
        end_agent(16)
        ev.varset(caller, "DIALSTATUS", "CANCEL")
        phone.set_state(DeviceState.NOT_INUSE)
        call.dial_attempts.append(DialAttempt(phone.endpoint, "CANCEL", ring_seconds, 0))
        return -1
    answered = (
        ring_end == "timeout"
        and answer_after is not None
        and (ring_timeout is None or answer_after <= ring_timeout)
    )
    if not answered:
        ev.dial("DialEnd", caller, agent, [("DialStatus", "NOANSWER")])
        end_agent(0)
        ev.varset(caller, "DIALSTATUS", "NOANSWER")
        phone.set_state(DeviceState.NOT_INUSE)
        call.dial_attempts.append(DialAttempt(phone.endpoint, "NOANSWER", ring_seconds, 0))
        return 0

    # the agent answers
    agent.state = ChannelState.UP
    agent.answered_at = clock.now()
    ev.newstate(agent)
    ev.varset(caller, "DIALSTATUS", "ANSWER")
    ev.varset(caller, "DIALEDPEERNAME", agent.name)
    ev.varset(caller, "DIALEDPEERNUMBER", phone.endpoint)
    phone.set_state(DeviceState.INUSE)
    phone.calls_answered += 1
    agent.exten = ""
    ev.dial("DialEnd", caller, agent, [("DialStatus", "ANSWER")])
    call.agent = phone.endpoint
    if call.agent_answered_at is None:
        call.agent_answered_at = clock.now()
    bridge_id = str(uuid.uuid4())
    agent.bridge_id = caller.bridge_id = bridge_id
    ev.raw("BridgeCreate", CALL, bridge_headers(bridge_id, "simple_bridge", 0))
    ev.raw("BridgeEnter", CALL, [*bridge_headers(bridge_id, "simple_bridge", 1), *agent.headers()])
    ev.raw("BridgeEnter", CALL, [*bridge_headers(bridge_id, "simple_bridge", 2), *caller.headers()])
    pbx.bridges[bridge_id] = (caller, agent)
    talk_end = await _wait_first(pbx, call, agent, phone.behaviour.talk_for)
    while talk_end == "agent" and (consult := handed_over(pbx, agent)) is not None:
        # the agent hung up during an answered consult (AMI Atxfer): the attended transfer
        # completes, the consulted agent takes their place in the caller's bridge
        ev.raw(
            "BridgeLeave", CALL, [*bridge_headers(bridge_id, "simple_bridge", 1), *agent.headers()]
        )
        end_agent(16)
        phone.set_state(DeviceState.NOT_INUSE)
        agent, phone = consult.leg, consult.phone
        agent.bridge_id = caller.bridge_id = bridge_id
        pbx.bridges[bridge_id] = (caller, agent)
        ev.raw(
            "BridgeEnter", CALL, [*bridge_headers(bridge_id, "simple_bridge", 2), *agent.headers()]
        )
        call.agent = phone.endpoint
        talk_end = await _wait_first(pbx, call, agent, phone.behaviour.talk_for)
    talk_seconds = clock.now() - (agent.answered_at or clock.now())
    technology = "native_rtp"

    def dial_times() -> None:
        now = clock.now()
        answered = caller.answered_at or caller.created_at
        ev.varset(caller, "ANSWEREDTIME", str(int(now - answered)))
        ev.varset(caller, "ANSWEREDTIME_MS", str(int((now - answered) * 1000)))
        ev.varset(caller, "DIALEDTIME", str(int(now - caller.created_at)))
        ev.varset(caller, "DIALEDTIME_MS", str(int((now - caller.created_at) * 1000)))
        ev.varset(caller, "DIALSTATUS", "ANSWER")

    agent.bridge_id = caller.bridge_id = ""
    pbx.bridges.pop(bridge_id, None)
    call.dial_attempts.append(DialAttempt(phone.endpoint, "ANSWER", ring_seconds, talk_seconds))
    if talk_end == "caller":
        ev.raw("BridgeLeave", CALL, [*bridge_headers(bridge_id, technology, 1), *caller.headers()])
        ev.raw("BridgeLeave", CALL, [*bridge_headers(bridge_id, technology, 0), *agent.headers()])
        dial_times()
        ev.hangup_request(agent, 16)
        end_agent(16)
        phone.set_state(DeviceState.NOT_INUSE)
        ev.raw("BridgeDestroy", CALL, bridge_headers(bridge_id, technology, 0))
        return -1
    call.hung_up_by = "agent"
    ev.hangup_request(agent, 16)
    ev.raw("BridgeLeave", CALL, [*bridge_headers(bridge_id, technology, 1), *agent.headers()])
    ev.raw("BridgeLeave", CALL, [*bridge_headers(bridge_id, technology, 0), *caller.headers()])
    end_agent(16)
    ev.raw("BridgeDestroy", CALL, bridge_headers(bridge_id, technology, 0))
    dial_times()
    phone.set_state(DeviceState.NOT_INUSE)
    return 0 if "g" in options else -1


async def _wait_first(
    pbx: PBXSimulator, call: SimulatedCall, agent: SimChannel, seconds: float | None
) -> str:
    """Wait until the caller hangs up ("caller"), the agent leg is hung up ("agent") or
    `seconds` pass ("timeout")."""
    waiters = {
        asyncio.ensure_future(call.gone.wait()): "caller",
        asyncio.ensure_future(pbx.hangup_event(agent).wait()): "agent",
    }
    try:
        done, _ = await asyncio.wait(
            waiters,
            timeout=None if seconds is None else pbx.clock.real_seconds(seconds),
            return_when=asyncio.FIRST_COMPLETED,
        )
    finally:
        for w in waiters:
            w.cancel()
    if call.gone.is_set():
        return "caller"
    if done:
        return "agent"
    return "timeout"
