"""Replay the client side of every captured FastAGI session against the simulator's AGI client and
compare what it sends with what real Asterisk 22 sent.

Normalised on purpose (values that legitimately differ per call), nothing else:
* `agi_request` port, `agi_uniqueid`, `agi_threadid` and channel sequence numbers (`-0000001d`);
* uniqueids and Unix times (`KCK_INBOUND`'s `${EPOCH}`) in answers;
* `endpos=` of a playback cut short by a hang-up (depends on the exact hang-up moment);
* the numbers of `ANSWEREDTIME`/`DIALEDTIME` and the dial-time fields of the `GET FULL VARIABLE`
  dial summary (milliseconds of this run); `HANGUPCAUSE` and empty fields are compared as is;
* the captures dial Local agents (`Local/1001@kck-agents/n`); the simulator's agents are PJSIP
  phones, so the replayed command dials `PJSIP/1001` and `DIALEDPEERNAME/NUMBER` are normalised.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from dataclasses import dataclass, field

import pytest

from demo.simulator import (
    CallerScript,
    DigitPress,
    PBXSimulator,
    PhoneBehaviour,
    PhoneMode,
    SimulatedCall,
)

from .agi_script_server import ScriptedAGIServer
from .fixtures import fixtures_dir, load_agi_transcript

SPEED = 25.0


@dataclass(frozen=True)
class Scenario:
    channel: str
    digits: tuple[DigitPress, ...] = ()
    # (command, seconds): the caller hangs up (BYE / AMI) / is redirected that long after the
    # AGI client sent that command -- relative to the command, so a loaded machine cannot
    # reorder it with the simulator's own timers
    hang_up_at: tuple[str, float] | None = None
    redirect_at: tuple[str, float] | None = None
    phones: dict[str, PhoneBehaviour] = field(default_factory=dict)
    # the capture's driver hung the channel up by AMI after the AGI (cause as it sent it)
    ami_hangup_after: bool = False
    ami_hangup_cause: int | None = None


ANSWERS = PhoneBehaviour(PhoneMode.ANSWER, answer_after=1.0, talk_for=5.9)
SCENARIOS: dict[str, Scenario] = {
    "agi-session-basic": Scenario("Local"),
    "agi-session-errors": Scenario("Local", ami_hangup_after=True),
    "agi-session-hangup-stream": Scenario("Local", hang_up_at=("STREAM FILE demo-congrats", 1.5)),
    "agi-session-hangup-wait": Scenario("Local", hang_up_at=("WAIT FOR DIGIT", 1.0)),
    "agi-session-redirect": Scenario(
        "Local", redirect_at=("GET DATA", 1.0), ami_hangup_after=True, ami_hangup_cause=16
    ),
    "agi-session-sipdtmf": Scenario("PJSIP", digits=(DigitPress("1", 2.64), DigitPress("5", 2.0))),
    "agi-session-sipbye": Scenario("PJSIP", hang_up_at=("WAIT FOR DIGIT", 2.5)),
    "agi-session-queue-answered": Scenario("Local", phones={"1001": ANSWERS}),
    "agi-session-queue-noanswer": Scenario(
        "Local", phones={"2001": PhoneBehaviour(PhoneMode.NO_ANSWER), "1002": ANSWERS}
    ),
    "agi-session-queue-caller-hangup-idle": Scenario("Local", hang_up_at=("SET MUSIC ON", 1.5)),
    "agi-session-queue-caller-bye-idle": Scenario("PJSIP", hang_up_at=("SET MUSIC ON", 2.08)),
    "agi-session-queue-caller-hangup-dial": Scenario(
        "Local", hang_up_at=("EXEC Dial", 2.0), phones={"2002": PhoneBehaviour(PhoneMode.NO_ANSWER)}
    ),
    "agi-session-queue-caller-hangup-bridged": Scenario(
        "Local",
        hang_up_at=("EXEC Dial", 2.5),
        phones={"1003": PhoneBehaviour(PhoneMode.ANSWER, answer_after=1.0, talk_for=None)},
    ),
    "agi-session-queue-busy": Scenario("Local", phones={"3001": PhoneBehaviour(PhoneMode.BUSY)}),
    "agi-session-queue-pjsip-agent": Scenario(
        "PJSIP", phones={"agent1001": PhoneBehaviour(PhoneMode.ANSWER, 1.0, talk_for=3.0)}
    ),
    "agi-session-polish-callerid": Scenario(
        "PJSIP", phones={"agent1001": PhoneBehaviour(PhoneMode.ANSWER, 1.0, talk_for=2.0)}
    ),
    "agi-session-idle-timeout": Scenario("Local"),
}


def test_every_agi_capture_has_a_replay_scenario() -> None:
    captured = {p.name.removesuffix(".jsonl") for p in fixtures_dir().glob("agi-session-*.jsonl")}
    assert captured == set(SCENARIOS)


def local_dial_to_pjsip(
    step: str | tuple[str, float], record_dir: str = "/tmp"
) -> str | tuple[str, float]:
    """Dial the simulator's PJSIP agents; record into the test's own folder, not /tmp."""
    if isinstance(step, str):
        step = re.sub(r"^RECORD FILE /tmp/", f"RECORD FILE {record_dir}/", step)
        return re.sub(r"^EXEC Dial Local/([0-9]+)@kck-agents/n", r"EXEC Dial PJSIP/\1", step)
    return step


def normalise_env(env: str) -> str:
    env = re.sub(r"agi://127\.0\.0\.1:\d+/", "agi://127.0.0.1:PORT/", env)
    env = re.sub(r"agi_uniqueid: \S+", "agi_uniqueid: UNIQUEID", env)
    env = re.sub(r"agi_threadid: \d+", "agi_threadid: THREAD", env)
    return re.sub(r"-[0-9a-f]{8}(;[12])?\n", r"-SEQ\1\n", env)


def normalise_replies(lines: list[str], commands: list[str]) -> list[str]:
    out: list[str] = []
    pending = list(commands)
    for line in lines:
        command = ""
        if (
            line != "HANGUP\n"
            and not line.startswith("520-")
            and not (out and out[-1].startswith("520-") and not line.startswith("520 "))
        ):
            command = pending.pop(0) if pending else ""
        line = re.sub(r"-[0-9a-f]{8}(;[12])?", r"-SEQ\1", line)
        line = re.sub(r"\b\d{10}\.\d+\b", "UNIQUEID", line)
        line = re.sub(r"\(\d{10}\)", "(EPOCH)", line)
        if line.startswith("200 result=-1 endpos=") and line != "200 result=-1 endpos=0\n":
            line = "200 result=-1 endpos=N\n"
        if command.startswith(("GET VARIABLE ANSWEREDTIME", "GET VARIABLE DIALEDTIME")):
            line = re.sub(r"\(\d+\)", "(N)", line)
        if command.startswith("GET FULL VARIABLE ${DIALEDPEERNAME}"):
            m = re.match(r"200 result=1 \((.*)\)\n", line)
            if m:
                name, number, *times, cause = m.group(1).split("|")
                fields = [
                    "PEER" if name else "",
                    "PEERNUM" if number else "",
                    *["N" if t else "" for t in times],
                    cause,
                ]
                line = f"200 result=1 ({'|'.join(fields)})\n"
        out.append(line)
    return out


async def replay(name: str) -> tuple[list[str], list[str], str, str]:
    with tempfile.TemporaryDirectory() as record_dir:
        return await _replay(name, record_dir)


async def _replay(name: str, record_dir: str) -> tuple[list[str], list[str], str, str]:
    transcript = load_agi_transcript(fixtures_dir() / f"{name}.jsonl")
    scenario = SCENARIOS[name]
    steps = [local_dial_to_pjsip(s, record_dir) for s in transcript.steps]
    holder: dict[str, SimulatedCall] = {}

    fired: set[str] = set()

    def on_send(command: str) -> None:
        loop = asyncio.get_running_loop()
        call = holder["call"]
        if (
            scenario.hang_up_at is not None
            and command.startswith(scenario.hang_up_at[0])
            and "hangup" not in fired
        ):
            fired.add("hangup")
            cause = None if scenario.channel == "PJSIP" else 0
            loop.call_later(scenario.hang_up_at[1] / SPEED, call.caller_hangup, cause)
        if (
            scenario.redirect_at is not None
            and command.startswith(scenario.redirect_at[0])
            and "redirect" not in fired
        ):
            fired.add("redirect")
            loop.call_later(
                scenario.redirect_at[1] / SPEED,
                pbx.redirect,
                call.channel.name,
                "kck-lab",
                "moh",
                1,
            )

    server = ScriptedAGIServer(
        steps,
        SPEED,
        half_close=transcript.half_close,
        linger=1.5 if transcript.half_close else 0.3,
        on_send=on_send,
    )
    await server.start()
    pbx = PBXSimulator(agi_url=server.url, speed=SPEED)
    await pbx.start()
    try:
        for endpoint, behaviour in scenario.phones.items():
            pbx.add_phone(endpoint, behaviour)
        env = dict(line.split(": ", 1) for line in transcript.env.splitlines() if ": " in line)
        holder["call"] = pbx.place_call(
            CallerScript(
                number=env["agi_callerid"],
                name=env["agi_calleridname"],
                channel=scenario.channel,
                digits=scenario.digits,
                dialed="126165555",
            )
        )
        await asyncio.wait_for(server_session_done(server), 30)
        # let the dialplan record AGISTATUS before the simulator is stopped
        await asyncio.wait_for(holder["call"].agi_finished.wait(), 10)
        if scenario.ami_hangup_after:
            pbx.request_hangup(holder["call"].channel.name, scenario.ami_hangup_cause)
            await asyncio.wait_for(holder["call"], 10)
    finally:
        await pbx.stop()
        await server.stop()
    session = server.sessions[0]
    commands = [s for s in steps if isinstance(s, str)]
    got = normalise_replies(session.received, commands)
    want = normalise_replies(transcript.received, commands)
    return got, want, normalise_env(session.env), normalise_env(transcript.env)


async def server_session_done(server: ScriptedAGIServer) -> None:
    await server.connected.wait()
    await server.sessions[0].done.wait()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_simulator_answers_the_captured_agi_session_like_asterisk(name: str) -> None:
    got, want, got_env, want_env = await replay(name)
    assert got_env == want_env
    assert len(want) >= 3  # the capture really holds a session
    assert got == want
