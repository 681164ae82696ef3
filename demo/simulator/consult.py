"""Asterisk's attended transfer as kck's desk drives it (AMI `Atxfer` / `CancelAtxfer` on the
agent's leg of a bridged call), as the real Asterisk 22 did it in
`tests/real_asterisk/test_transfer.py`: the caller hears music on hold, a Local channel in the
`kck-consult` context dials `KCK_CONSULT_DIAL` (`DialBegin` from it: the consulted phone
rings), hanging up the transferer completes it (the consulted leg takes its place in the
caller's bridge: see `dial._dial_phone`), `CancelAtxfer` ends the consulted leg.

Asterisk 22 sometimes loses the extension digit Atxfer queues ("Dialed no digits"): a test asks
for that with `PBXSimulator.transfer_digits_lost` (that many digits the transfer should hear are
lost). The transfer then waits for a digit (AMI `PlayDTMF` with `Receive: true`, as kck sends
it again) until Asterisk's three attempts at reading the extension are over, then the
transferer is back with the caller."""

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
# features.conf transferdigittimeout 3 s, three attempts, the prompt and beeps between: how long
# (simulated seconds) a transfer that heard no digit reads before it gives up
TRANSFER_READ_S = 11.0


@dataclass
class Consult:
    """A consult in progress: the transferer's leg, the consulted phone, its leg and the Local
    channel of the consult context that dialled it."""

    call: SimulatedCall
    transferer: SimChannel
    phone: SimulatedPhone
    leg: SimChannel
    dialer: SimChannel
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    bridge_id: str = ""


@dataclass
class TransferPrompt:
    """An attended transfer still reading its extension: the digit Atxfer queued was lost."""

    call: SimulatedCall
    transferer: SimChannel
    exten: str
    context: str
    reading: asyncio.Task[None] | None = None


def start_consult(pbx: PBXSimulator, name: str, exten: str, context: str) -> str | None:
    """AMI `Atxfer`; an error message, or None when the consult started."""
    transferer = pbx.channels.get(name)
    if transferer is None:
        return "No such channel"
    caller = next(
        (pair[0] for pair in pbx.bridges.values() if pair[1] is transferer),
        None,
    )
    call = pbx.call_for_channel(caller.name) if caller is not None else None
    if call is None or name in pbx.consults or name in pbx.transfer_prompts:
        return "Channel is not in a bridge"  # kck sends Atxfer only for a bridged agent leg
    pbx.events.raw("Hold", CALL, transferer.headers())
    call.music_on("default")  # the transferee is held
    if pbx.transfer_digits_lost > 0:  # "Dialed no digits": the transfer reads on
        pbx.transfer_digits_lost -= 1
        prompt = TransferPrompt(call, transferer, exten, context)
        pbx.transfer_prompts[name] = prompt
        prompt.reading = pbx.spawn(_read_until_given_up(pbx, prompt))
        return None
    _dial_consult(pbx, call, transferer, exten, context)
    return None


def digit_heard(pbx: PBXSimulator, name: str, digit: str) -> None:
    """AMI `PlayDTMF` with `Receive: true` on channel `name`: a transfer reading its extension
    takes it (unless `transfer_digits_lost` says this one is lost too) and dials; otherwise the
    digit goes by (in a consult it reaches the consulted phone)."""
    prompt = pbx.transfer_prompts.get(name)
    if prompt is None or not digit.isdigit():
        return
    if pbx.transfer_digits_lost > 0:
        pbx.transfer_digits_lost -= 1
        return
    del pbx.transfer_prompts[name]
    if prompt.reading is not None:
        prompt.reading.cancel()
    _dial_consult(pbx, prompt.call, prompt.transferer, digit, prompt.context)


async def _read_until_given_up(pbx: PBXSimulator, prompt: TransferPrompt) -> None:
    await asyncio.sleep(pbx.clock.real_seconds(TRANSFER_READ_S))
    if pbx.transfer_prompts.get(prompt.transferer.name) is prompt:
        del pbx.transfer_prompts[prompt.transferer.name]
        prompt.call.music_off()  # the transferer is back with the caller


def _dial_consult(
    pbx: PBXSimulator, call: SimulatedCall, transferer: SimChannel, exten: str, context: str
) -> None:
    from .dial import new_agent_leg

    if context == CONSULT_CONTEXT:
        target = transferer.variables.get("__KCK_CONSULT_DIAL") or transferer.variables.get(
            "KCK_CONSULT_DIAL", ""
        )
    else:
        target = f"PJSIP/{exten}"
    phone = pbx.phone_for_dial_target(target)
    if phone is None or not phone.registered:
        pbx.spawn(_back_to_caller(call))
        return  # Asterisk accepts the action; the dial fails and the transferer returns
    # the transfer's Local channel runs the consult context and dials the phone
    dialer = pbx.new_channel(
        f"Local/{exten}@{context}", context=context, exten=exten, linkedid=transferer.linkedid,
        suffix=";2",
    )  # fmt: skip
    dialer.variables.update(transferer.variables)
    pbx.events.newchannel(dialer)
    leg = new_agent_leg(pbx, dialer, phone)
    pbx.events.dial("DialBegin", dialer, leg, [("DialString", phone.endpoint)])
    consult = Consult(call, transferer, phone, leg, dialer)
    pbx.consults[transferer.name] = consult
    pbx.spawn(_ring(pbx, consult))


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
    ev.dial("DialEnd", consult.dialer, leg, [("DialStatus", "ANSWER")])
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
    prompt = pbx.transfer_prompts.pop(name, None)
    if prompt is not None:  # atxferabort while the extension is read: no consult to end
        if prompt.reading is not None:
            prompt.reading.cancel()
        prompt.call.music_off()
        return True
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
    _hang_up_dialer(pbx, consult)


def _hang_up_dialer(pbx: PBXSimulator, consult: Consult) -> None:
    if consult.dialer.name in pbx.channels:
        pbx.events.hangup(consult.dialer, 16)
        pbx.forget_channel(consult.dialer)


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
    _hang_up_dialer(pbx, consult)  # the Local channel optimises itself away
    consult.call.music_off()
    return consult
