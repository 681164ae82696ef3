"""Asterisk's attended transfer as kck's desk drives it (AMI `Atxfer` / `CancelAtxfer` on the
agent's leg of a bridged call), as the real Asterisk 22 did it in
`tests/real_asterisk/test_transfer.py`: the caller hears music on hold, a new leg rings the
consulted phone (the `kck-consult` extension dials `KCK_CONSULT_DIAL`, an agent-context
extension dials that agent), hanging up the transferer completes it (the consulted leg takes its
place in the caller's bridge: see `dial._dial_phone`), `CancelAtxfer` ends the consulted leg."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .call import SimulatedCall
from .channel import ChannelState, SimChannel
from .events import CALL, bridge_headers
from .phones import DeviceState, SimulatedPhone
from .scripts import PhoneMode

if TYPE_CHECKING:
    from .pbx import PBXSimulator

CONSULT_CONTEXT = "kck-consult"  # asterisk/pbxconfig's consult_context


@dataclass
class Consult:
    """A consult in progress: the transferer's leg, the consulted phone and its leg."""

    call: SimulatedCall
    transferer: SimChannel
    phone: SimulatedPhone
    leg: SimChannel
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    bridge_id: str = ""


def start_consult(pbx: PBXSimulator, name: str, exten: str, context: str) -> str | None:
    """AMI `Atxfer`; an error message, or None when the consult started."""
    from .dial import new_agent_leg

    transferer = pbx.channels.get(name)
    if transferer is None:
        return "No such channel"
    caller = next(
        (pair[0] for pair in pbx.bridges.values() if pair[1] is transferer),
        None,
    )
    call = pbx.call_for_channel(caller.name) if caller is not None else None
    if call is None or name in pbx.consults:
        return "Channel is not in a bridge"  # kck sends Atxfer only for a bridged agent leg
    if context == CONSULT_CONTEXT:
        target = transferer.variables.get("__KCK_CONSULT_DIAL") or transferer.variables.get(
            "KCK_CONSULT_DIAL", ""
        )
    else:
        target = f"PJSIP/{exten}"
    phone = pbx.phone_for_dial_target(target)
    call.music_on("default")  # the transferee is held
    if phone is None or not phone.registered:
        pbx.spawn(_back_to_caller(call))
        return None  # Asterisk accepts the action; the dial fails and the transferer returns
    leg = new_agent_leg(pbx, transferer, phone)
    consult = Consult(call, transferer, phone, leg)
    pbx.consults[name] = consult
    pbx.spawn(_ring(pbx, consult))
    return None


async def _back_to_caller(call: SimulatedCall) -> None:
    call.music_off()


async def _ring(pbx: PBXSimulator, consult: Consult) -> None:
    ev, phone, leg = pbx.events, consult.phone, consult.leg
    if phone.behaviour.mode is not PhoneMode.ANSWER or phone.state is not DeviceState.NOT_INUSE:
        end_consult(pbx, consult.transferer.name)
        return
    leg.state = ChannelState.RINGING
    ev.newstate(leg)
    phone.set_state(DeviceState.RINGING)
    hung_up = pbx.hangup_event(leg)
    try:
        await asyncio.wait_for(hung_up.wait(), pbx.clock.real_seconds(phone.behaviour.answer_after))
        return  # cancelled while ringing (end_consult cleaned up)
    except TimeoutError:
        pass
    if pbx.consults.get(consult.transferer.name) is not consult:
        return
    leg.state = ChannelState.UP
    leg.answered_at = pbx.clock.now()
    ev.newstate(leg)
    phone.set_state(DeviceState.INUSE)
    phone.calls_answered += 1
    consult.bridge_id = str(uuid.uuid4())
    ev.raw("BridgeCreate", CALL, bridge_headers(consult.bridge_id, "simple_bridge", 0))
    for n, ch in enumerate((consult.transferer, leg), start=1):
        ev.raw(
            "BridgeEnter",
            CALL,
            [*bridge_headers(consult.bridge_id, "simple_bridge", n), *ch.headers()],
        )
    consult.answered.set()


def end_consult(pbx: PBXSimulator, name: str) -> bool:
    """AMI `CancelAtxfer` (or a consult that failed): the consulted leg ends, the transferer is
    back with the caller, who is taken off hold. False when no consult of `name` is going on."""
    consult = pbx.consults.pop(name, None)
    if consult is None:
        return False
    _hang_up_leg(pbx, consult)
    consult.call.music_off()
    return True


def _hang_up_leg(pbx: PBXSimulator, consult: Consult) -> None:
    ev, leg = pbx.events, consult.leg
    if consult.bridge_id:
        ev.raw(
            "BridgeLeave",
            CALL,
            [*bridge_headers(consult.bridge_id, "simple_bridge", 1), *leg.headers()],
        )
        ev.raw("BridgeDestroy", CALL, bridge_headers(consult.bridge_id, "simple_bridge", 0))
    pbx.hangup_event(leg).set()
    ev.hangup(leg, 16)
    pbx.forget_channel(leg)
    consult.phone.set_state(DeviceState.NOT_INUSE)


def handed_over(pbx: PBXSimulator, transferer: SimChannel) -> Consult | None:
    """The transferer's leg was hung up: the consult it started, if its phone answered (the
    transfer completes: the caller talks to the consulted agent), else None (a consult still
    ringing is dropped with it)."""
    consult = pbx.consults.pop(transferer.name, None)
    if consult is None:
        return None
    if not consult.answered.is_set():
        _hang_up_leg(pbx, consult)
        consult.call.music_off()
        return None
    pbx.events.raw("BridgeDestroy", CALL, bridge_headers(consult.bridge_id, "simple_bridge", 0))
    consult.call.music_off()
    return consult
