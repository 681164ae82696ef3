"""Call → queue → offer → agent phone rings → bridge → hang-up → wrap-up → available, through the
PBX simulator (AMI server + FastAGI client), our FastAGI server and AMI client, and a real Redis.

The route stands in for the IVR's `queue` step (ivr/ is not on main yet): it builds the routing
request and hands the AGI session to `wait_in_queue`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from asterisk.agi import AGISession, FastAGIServer
from asterisk.ami import AMIClient
from demo.simulator import (
    CallerScript,
    CallResult,
    DeviceState,
    DigitPress,
    PBXSimulator,
    PhoneBehaviour,
    PhoneMode,
    SimulatedCall,
)
from kck.phone import TrunkDial
from queues.ami_events import RouterAMIAdapter
from queues.callbacks import CallbackDialer
from queues.consult import ConsultCalls, DigitResend
from queues.model import AgentState, RoutingRequest, TransferKind, TransferTarget
from queues.presence import NodePresence
from queues.queue_voicemail import QueueVoicemail
from queues.router import Router, TransferRefused
from queues.timer import RouterTimer
from queues.waiting import (
    QueueOutcome,
    QueueResult,
    TransferLegs,
    WaitingPrompts,
    wait_in_queue,
)
from tests.queues.conftest import make_config
from tests.wav_files import write_tone

SPEED = 20.0
_ids = itertools.count(1)
pytestmark = pytest.mark.timeout(60)


@dataclass
class Lab:
    router: Router
    pbx: PBXSimulator
    ami: AMIClient
    results: list[QueueResult] = field(default_factory=list)

    async def eventually(self, check: Callable[[], Awaitable[bool]], timeout: float = 15) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not await check():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("condition not reached")
            await asyncio.sleep(0.05)

    async def state(self, agent: str) -> AgentState | None:
        status = await self.router.agent_status(agent)
        return None if status is None else status.state


@pytest.fixture
def queue_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Queue settings for one test (parametrize indirectly), else the defaults."""
    return dict(getattr(request, "param", {}))


@pytest.fixture
async def lab(
    redis: aioredis.Redis, queue_settings: dict[str, Any], tmp_path: Path
) -> AsyncIterator[Lab]:
    # "voicemail": True: the queue's voicemail exit records under tmp_path (queues.queue_voicemail)
    voicemail = (
        QueueVoicemail(tmp_path, WaitingPrompts())
        if queue_settings.pop("voicemail", None)
        else None
    )
    config = make_config({"ala": {"taxes": 5}, "bob": {"taxes": 3}}, wrap_up_s=1, **queue_settings)
    router = Router(redis, config, prefix=f"e{next(_ids)}")
    await router.waiters.start()
    timer = RouterTimer(router, safety_s=0.5)
    timer.start()
    presence = NodePresence(router)  # this process holds the callers: their calls are offered
    await presence.start()
    results: list[QueueResult] = []
    amis: list[AMIClient] = []

    async def drop_agent_leg(channel: str) -> None:
        await amis[0].hangup_bridge_peer(channel)

    transfers = TransferLegs(drop_agent_leg, TrunkDial())

    async def route(session: AGISession) -> None:
        env = session.env
        await session.answer()
        caller = env.callerid if env.callerid and env.callerid.startswith("+") else None
        request = RoutingRequest(
            call_id=f"call-{env.uniqueid}",
            uniqueid=env.uniqueid,
            channel=env.channel,
            caller=caller,
            language="pl",
            queue="city",
            skills={"taxes": 1},
            priority=0,
            arrived_at=datetime.now(UTC).isoformat(),
        )
        result = await wait_in_queue(
            session, router, request, digit_slice_ms=500, transfers=transfers, voicemail=voicemail
        )
        results.append(result)
        if not session.hung_up:
            await session.set_variable("KCK_DONE", "1")

    server = FastAGIServer(host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"])
    server.add_route("ivr", route)
    await server.start()
    pbx = PBXSimulator(agi_url=f"agi://127.0.0.1:{server.port}/ivr", speed=SPEED)
    await pbx.start()
    ami = AMIClient(host="127.0.0.1", port=pbx.ami_port, username="kck", secret="kcksecret")
    RouterAMIAdapter(router).attach(ami)
    amis.append(ami)
    try:
        await ami.connect()
        yield Lab(router, pbx, ami, results)
    finally:
        await ami.close()
        await pbx.stop()
        await server.stop()
        await presence.stop()
        await timer.stop()
        await router.waiters.stop()


async def test_call_is_answered_by_the_agent_then_wrap_up_then_available(lab: Lab) -> None:
    lab.pbx.add_phone("101", PhoneBehaviour(answer_after=1, talk_for=3))
    await lab.router.agent_login("ala")
    outcome = await asyncio.wait_for(lab.pbx.place_call(CallerScript()), 30)
    assert outcome.result is CallResult.TALKED_TO_AGENT
    assert outcome.agent is not None and "101" in outcome.agent
    await lab.eventually(lambda: _is(lab, "ala", AgentState.AVAILABLE))
    assert [r.outcome for r in lab.results] == [QueueOutcome.ANSWERED]
    assert lab.results[0].agent == "ala"


async def test_agent_who_does_not_answer_is_paused_and_the_caller_goes_to_the_next_agent(
    lab: Lab,
) -> None:
    lab.pbx.add_phone("101", PhoneBehaviour(mode=PhoneMode.NO_ANSWER))
    lab.pbx.add_phone("102", PhoneBehaviour(answer_after=1, talk_for=2))
    await lab.router.agent_login("ala")
    call = lab.pbx.place_call(CallerScript())
    await lab.eventually(lambda: _is(lab, "ala", AgentState.PAUSED))
    status = await lab.router.agent_status("ala")
    assert status is not None and status.reason == "no_answer"
    await lab.router.agent_login("bob")
    outcome = await asyncio.wait_for(call, 30)
    assert outcome.result is CallResult.TALKED_TO_AGENT
    assert [a.status for a in outcome.dial_attempts] == ["NOANSWER", "ANSWER"]


async def test_busy_phone_is_never_offered(lab: Lab) -> None:
    busy = lab.pbx.add_phone("101", PhoneBehaviour(answer_after=1, talk_for=2))
    lab.pbx.add_phone("102", PhoneBehaviour(answer_after=1, talk_for=2))
    busy.set_state(DeviceState.INUSE)
    await lab.eventually(lambda: _device(lab, "ala", "INUSE"))
    await lab.router.agent_login("ala")
    await lab.router.agent_login("bob")
    outcome = await asyncio.wait_for(lab.pbx.place_call(CallerScript()), 30)
    assert [a.endpoint for a in outcome.dial_attempts] == ["102"]


async def test_caller_who_hangs_up_while_waiting_is_abandoned(lab: Lab) -> None:
    outcome = await asyncio.wait_for(lab.pbx.place_call(CallerScript(patience=3)), 30)
    assert outcome.result is CallResult.CALLER_HUNG_UP
    await lab.eventually(lambda: _results(lab, 1))
    assert lab.results[0].outcome in (QueueOutcome.ABANDONED, QueueOutcome.CLOSED)
    assert await lab.router.store.live_call_ids() == []


async def test_caller_who_hangs_up_while_the_agent_rings_frees_the_agent(lab: Lab) -> None:
    lab.pbx.add_phone("101", PhoneBehaviour(answer_after=60))
    await lab.router.agent_login("ala")
    call = lab.pbx.place_call(CallerScript(patience=6))
    await lab.eventually(lambda: _is(lab, "ala", AgentState.OFFERED))
    outcome = await asyncio.wait_for(call, 30)
    assert outcome.result is CallResult.CALLER_HUNG_UP
    await lab.eventually(lambda: _is(lab, "ala", AgentState.AVAILABLE))
    assert await lab.router.store.live_call_ids() == []


async def test_key_press_leaves_a_callback_that_an_agent_later_gets_as_an_originate(
    lab: Lab,
) -> None:
    script = CallerScript(number="+48600100200", digits=(DigitPress("1", after=1),))
    outcome = await asyncio.wait_for(lab.pbx.place_call(script), 30)
    assert outcome.result is CallResult.ENDED_BY_CONTROLLER
    assert [r.outcome for r in lab.results] == [QueueOutcome.CALLBACK]
    call_id = lab.results[0].call_id
    state = await lab.router.call_state(call_id)
    assert state is not None and state["kind"] == "callback" and state["state"] == "waiting"

    lab.pbx.add_phone("101", PhoneBehaviour(answer_after=1, talk_for=2))
    dialer = CallbackDialer(lab.router, lab.ami.originate, dial=TrunkDial())
    offers = await lab.router.agent_login("ala")
    assert [o.kind.value for o in offers] == ["callback"]
    assert await dialer.dial(offers[0])
    assert not await dialer.dial(offers[0])  # once, never twice
    await lab.eventually(lambda: _is(lab, "ala", AgentState.ON_CALL))


async def _is(lab: Lab, agent: str, state: AgentState) -> bool:
    return await lab.state(agent) is state


async def _device(lab: Lab, agent: str, device_state: str) -> bool:
    return await lab.router.phone_state(agent) == device_state


async def _results(lab: Lab, n: int) -> bool:
    return len(lab.results) >= n


@pytest.mark.parametrize(
    "queue_settings", [{"max_wait_s": 2, "on_max_wait": "voicemail"}], indirect=True
)
async def test_caller_goes_to_voicemail_after_the_maximum_wait(lab: Lab) -> None:
    outcome = await asyncio.wait_for(lab.pbx.place_call(CallerScript()), 30)
    assert outcome.result is CallResult.ENDED_BY_CONTROLLER
    assert [r.outcome for r in lab.results] == [QueueOutcome.VOICEMAIL]
    assert await lab.router.store.live_call_ids() == []


@pytest.mark.parametrize(
    "queue_settings",
    [{"max_wait_s": 2, "on_max_wait": "voicemail", "voicemail": True}],
    indirect=True,
)
async def test_caller_out_of_time_leaves_a_message_in_the_box_of_the_calls_skill(
    lab: Lab, tmp_path: Path
) -> None:
    message = write_tone(tmp_path / "said.wav")
    outcome = await asyncio.wait_for(
        lab.pbx.place_call(CallerScript(number="+48600123456", utterance=message)), 30
    )
    assert outcome.result is CallResult.ENDED_BY_CONTROLLER
    [result] = lab.results
    assert result.outcome is QueueOutcome.VOICEMAIL
    # where the desk's voicemail tasks look (agentdesk.tasks.voicemail): box = the skill, taxes
    assert outcome.recordings == (tmp_path / "voicemail" / "taxes" / f"{result.call_id}.wav",)
    assert outcome.recordings[0].read_bytes() == message.read_bytes()


@pytest.mark.parametrize(
    "queue_settings", [{"max_wait_s": 2, "on_max_wait": "callback"}], indirect=True
)
async def test_withheld_caller_cannot_get_a_callback_and_goes_to_voicemail(lab: Lab) -> None:
    outcome = await asyncio.wait_for(lab.pbx.place_call(CallerScript(number=None)), 30)
    assert outcome.result is CallResult.ENDED_BY_CONTROLLER
    assert [r.outcome for r in lab.results] == [QueueOutcome.VOICEMAIL]


async def _ala_talks_bob_is_free(lab: Lab) -> tuple[SimulatedCall, str]:
    """A caller talks to ala (phone 101, long talk); bob (102, talks 2 s) is free."""
    lab.pbx.add_phone("101", PhoneBehaviour(answer_after=1, talk_for=600))
    lab.pbx.add_phone("102", PhoneBehaviour(answer_after=1, talk_for=2))
    await lab.router.agent_login("ala")
    call = lab.pbx.place_call(CallerScript())
    await lab.eventually(lambda: _is(lab, "ala", AgentState.ON_CALL))
    await lab.router.agent_login("bob")
    status = await lab.router.agent_status("ala")
    assert status is not None and status.call_id is not None
    return call, status.call_id


async def test_blind_transfer_drops_the_first_agents_leg_and_rings_the_second_agent(
    lab: Lab,
) -> None:
    call, call_id = await _ala_talks_bob_is_free(lab)
    await lab.router.transfer(
        call_id, "ala", TransferTarget(TransferKind.AGENT, "bob"), {"notes": "n"}
    )
    outcome = await asyncio.wait_for(call, 30)
    assert outcome.result is CallResult.TALKED_TO_AGENT
    assert [(a.endpoint, a.status) for a in outcome.dial_attempts] == [
        ("101", "ANSWER"),
        ("102", "ANSWER"),
    ]
    await lab.eventually(lambda: _results(lab, 1))
    assert [(r.outcome, r.agent) for r in lab.results] == [(QueueOutcome.ANSWERED, "bob")]
    assert await lab.router.store.live_call_ids() == []


# the consult's digit sent again well inside the simulator's transfer prompt (TRANSFER_READ_S
# simulated seconds: 0.55 s at SPEED 20)
QUICK_RESEND = DigitResend(wait_s=0.1, times=3)


async def test_consult_holds_the_caller_and_hands_them_over_like_asterisk(lab: Lab) -> None:
    held: list[str] = []
    lab.pbx.subscribe(lambda name, _privilege, _headers: held.append(name))
    call, call_id = await _ala_talks_bob_is_free(lab)
    consults = ConsultCalls(lab.router, lab.ami)
    await consults.start(call_id, "ala", "bob", {"notes": "n"})
    assert "MusicOnHoldStart" in held  # the caller is on hold at once
    assert "DialBegin" in held  # start() returns once bob's phone is dialled
    assert "DTMFEnd" not in held  # the Atxfer's digit was heard: nothing sent again

    async def consult_answered() -> bool:
        return any(c.answered.is_set() for c in lab.pbx.consults.values())

    await lab.eventually(consult_answered)
    await consults.complete(call_id, "ala")
    outcome = await asyncio.wait_for(call, 30)
    assert outcome.result is CallResult.TALKED_TO_AGENT
    assert "MusicOnHoldStop" in held
    await lab.eventually(lambda: _results(lab, 1))
    assert [(r.outcome, r.agent) for r in lab.results] == [(QueueOutcome.ANSWERED, "bob")]
    assert await lab.router.store.live_call_ids() == []


async def test_consult_whose_digit_the_pbx_loses_rings_the_colleague_once_it_is_sent_again(
    lab: Lab,
) -> None:
    seen: list[tuple[str, dict[str, str]]] = []
    lab.pbx.subscribe(lambda name, _privilege, headers: seen.append((name, dict(headers))))
    call, call_id = await _ala_talks_bob_is_free(lab)
    lab.pbx.transfer_digits_lost = 2  # the Atxfer's digit and the first one sent again
    consults = ConsultCalls(lab.router, lab.ami, resend=QUICK_RESEND)
    await consults.start(call_id, "ala", "bob", {"notes": "n"})
    at, dial = next(
        (n, h)
        for n, (name, h) in enumerate(seen)
        if name == "DialBegin" and h["Context"] == "kck-consult"
    )
    assert dial["DestChannel"].startswith("PJSIP/102-")
    digits = [h["Digit"] for name, h in seen[:at] if name == "DTMFEnd"]
    assert digits == ["1", "1"]  # sent twice as if ala pressed it, heard the second time
    assert lab.pbx.transfer_digits_lost == 0

    async def consult_answered() -> bool:
        return any(c.answered.is_set() for c in lab.pbx.consults.values())

    await lab.eventually(consult_answered)
    await consults.complete(call_id, "ala")
    outcome = await asyncio.wait_for(call, 30)
    assert outcome.result is CallResult.TALKED_TO_AGENT
    await lab.eventually(lambda: _results(lab, 1))
    assert [(r.outcome, r.agent) for r in lab.results] == [(QueueOutcome.ANSWERED, "bob")]


async def test_consult_whose_digit_never_gets_through_is_given_up_and_the_caller_stays(
    lab: Lab,
) -> None:
    held: list[str] = []
    lab.pbx.subscribe(lambda name, _privilege, _headers: held.append(name))
    call, call_id = await _ala_talks_bob_is_free(lab)
    lab.pbx.transfer_digits_lost = 100
    consults = ConsultCalls(lab.router, lab.ami, resend=QUICK_RESEND)
    with pytest.raises(TransferRefused) as refused:
        await consults.start(call_id, "ala", "bob", {"notes": "n"})
    assert refused.value.reason == "consult_not_started"
    assert held.count("DTMFEnd") == QUICK_RESEND.times
    assert "DialBegin" not in held[held.index("MusicOnHoldStart") :]
    await lab.eventually(lambda: _is(lab, "bob", AgentState.AVAILABLE))
    assert "MusicOnHoldStop" in held[held.index("MusicOnHoldStart") :]  # off hold, with ala
    state = await lab.router.call_state(call_id)
    assert state is not None and state.get("state") == "on_call" and not state.get("consult")
    assert await _is(lab, "ala", AgentState.ON_CALL)
    ala_leg = await lab.ami.getvar("BRIDGEPEER", channel=lab.pbx.calls[-1].channel.name)
    assert ala_leg and ala_leg.startswith("PJSIP/101-")  # still bridged with the caller
    lab.pbx.request_hangup(ala_leg, 16)  # ala says goodbye
    outcome = await asyncio.wait_for(call, 30)
    assert outcome.result is CallResult.TALKED_TO_AGENT
    await lab.eventually(lambda: _results(lab, 1))
    assert [(r.outcome, r.agent) for r in lab.results] == [(QueueOutcome.ANSWERED, "ala")]
