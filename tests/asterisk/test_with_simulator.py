"""Our FastAGI server and AMI client driven by the PBX simulator (the Asterisk stand-in)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from asterisk.agi import AGISession, CallerHungUp, FastAGIServer
from asterisk.ami import AMIClient, AMISnapshot, ExponentialBackoff
from asterisk.ami.events import AMIEvent, DeviceStateChange, Hangup, Newchannel
from demo.simulator import (
    CallerScript,
    CallResult,
    DigitPress,
    PBXSimulator,
    PhoneBehaviour,
)
from demo.simulator.ami_server import AMISession

# Until the simulator's fix (AMISession hashable, on branch sim) reaches main, its AMI server
# cannot accept a connection; skip rather than fail for a reason outside these layers.
pytestmark = pytest.mark.skipif(
    AMISession.__hash__ is None, reason="simulator AMI server needs AMISession(eq=False)"
)

Route = Callable[[AGISession], Awaitable[None]]


@dataclass
class Rig:
    pbx: PBXSimulator
    agi: FastAGIServer
    ami: AMIClient
    slot: list[Route]
    events: list[AMIEvent] = field(default_factory=list)
    snapshots: list[AMISnapshot] = field(default_factory=list)


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    slot: list[Route] = []

    async def route(session: AGISession) -> None:
        await slot[0](session)

    agi = FastAGIServer(host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"])
    agi.add_route("ivr", route)
    await agi.start()
    pbx = PBXSimulator(agi_url=f"agi://127.0.0.1:{agi.port}/ivr", speed=10.0)
    pbx.add_phone("agent1001", PhoneBehaviour(answer_after=1.0, talk_for=3.0))
    await pbx.start()
    ami = AMIClient(
        host="127.0.0.1",
        port=pbx.ami_port,
        username="kck",
        secret="kcksecret",
        ping_interval=1.0,
        backoff=ExponentialBackoff(initial=0.05, maximum=0.5),
    )
    result = Rig(pbx, agi, ami, slot)
    ami.add_event_handler(result.events.append)

    async def reconcile(snapshot: AMISnapshot) -> None:
        result.snapshots.append(snapshot)

    ami.add_reconciler(reconcile)
    await ami.connect()
    try:
        yield result
    finally:
        await ami.close()
        await pbx.stop()
        await agi.stop()


async def test_polish_caller_presses_a_digit_then_hangs_up_during_music(rig: Rig) -> None:
    seen: list[object] = []

    async def ivr(session: AGISession) -> None:
        seen.append(session.env.calleridname)
        await session.answer()
        seen.append(await session.get_data("beep", 5000, 1))
        await session.set_music(True)
        seen.append(await session.wait_for_hangup(30))
        try:
            await session.set_music(False)
        except CallerHungUp:
            seen.append("511 after hang-up")

    rig.slot.append(ivr)
    call = rig.pbx.place_call(
        CallerScript(
            number="+48600123456",
            name="Łukasz Żółć",
            digits=(DigitPress("1", after=0.5),),
            patience=4.0,
        )
    )
    outcome = await asyncio.wait_for(call, 10)
    await asyncio.sleep(0.1)
    await rig.ami.drain_events()
    assert outcome.result is CallResult.CALLER_HUNG_UP
    assert seen[0] == "Łukasz Żółć"
    assert getattr(seen[1], "digits", None) == "1"
    assert seen[2:] == [True, "511 after hang-up"]
    mine = [e for e in rig.events if e.uniqueid == outcome.uniqueid]
    assert isinstance(mine[0], Newchannel)
    assert mine[0].caller_id_name == "Łukasz Żółć"
    assert isinstance(mine[-1], Hangup)


async def test_dial_to_agent_returns_minus_one_and_the_call_is_confirmed_done(rig: Rig) -> None:
    seen: list[object] = []

    async def ivr(session: AGISession) -> None:
        await session.answer()
        seen.append(await session.exec("Dial", "PJSIP/agent1001,20"))
        seen.append(session.hung_up)
        seen.append(await session.get_variable("DIALSTATUS"))

    rig.slot.append(ivr)
    call = rig.pbx.place_call(CallerScript(number="+48600100200"))
    outcome = await asyncio.wait_for(call, 15)
    await rig.ami.drain_events()
    assert seen == [-1, False, "ANSWER"]  # the agent hung up; the caller is still there
    assert outcome.result is CallResult.TALKED_TO_AGENT
    states = [
        e.state
        for e in rig.events
        if isinstance(e, DeviceStateChange) and e.device == "PJSIP/agent1001"
    ]
    assert "INUSE" in states
    assert rig.snapshots[0].device_states.get("PJSIP/agent1001") == "NOT_INUSE"


async def test_failing_route_sends_the_caller_to_the_fallback_queue(rig: Rig) -> None:
    async def ivr(session: AGISession) -> None:
        await session.answer()
        raise RuntimeError("menu file broken")

    rig.slot.append(ivr)
    call = rig.pbx.place_call(CallerScript(number="+48600100200"))
    outcome = await asyncio.wait_for(call, 15)
    await rig.ami.drain_events()
    # KCK_DONE was not set, so the dialplan fell back to Queue(); agent1001 took the call there.
    assert outcome.result is CallResult.FALLBACK_QUEUE
    assert outcome.agi_status == "SUCCESS"
    apps = [e.get("Application") for e in rig.events if e.uniqueid == outcome.uniqueid]
    assert "Queue" in apps
