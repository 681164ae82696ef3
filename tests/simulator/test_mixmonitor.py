"""The simulator records like Asterisk 22 (capture ami-session-mixmonitor): MixMonitor, a pause and
a resume with MixMonitorMute, the channel hung up without StopMixMonitor; same answers, same event
shapes, no MixMonitorStop, and the file is written when the channel hangs up."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from demo.simulator import CallerScript, PBXSimulator, SimulatedCall

from .agi_script_server import ScriptedAGIServer
from .ami_test_client import Message, RawAMIClient, names, value
from .fixtures import ami_messages, fixtures_dir

SPEED = 40.0
CAPTURE = "ami-session-mixmonitor.jsonl"


def captured_answers() -> dict[str, list[list[tuple[str, str]]]]:
    """Per action of the capture (`kck-rec-N`), the frames that carry its ActionID."""
    out: dict[str, list[list[tuple[str, str]]]] = {}
    for _, direction, headers in ami_messages(fixtures_dir() / CAPTURE):
        action_id = dict(headers).get("ActionID", "")
        if direction == "in" and action_id:
            out.setdefault(action_id, []).append(headers)
    return out


def captured_event(name: str) -> list[tuple[str, str]]:
    return next(
        h
        for _, d, h in ami_messages(fixtures_dir() / CAPTURE)
        if d == "in" and h[0] == ("Event", name)
    )


@pytest.fixture
async def pbx() -> AsyncIterator[PBXSimulator]:
    sim = PBXSimulator(agi_url="agi://127.0.0.1:9/ivr", speed=SPEED)
    await sim.start()
    yield sim
    await sim.stop()


async def caller_on_hold(
    pbx: PBXSimulator,
) -> tuple[ScriptedAGIServer, RawAMIClient, SimulatedCall]:
    """A Local caller hearing music in its AGI, and a logged-in AMI client that saw it start."""
    server = ScriptedAGIServer(["ANSWER", "SET MUSIC ON default", ("idle", 30.0)], SPEED)
    await server.start()
    pbx.set_agi_urls(server.url)
    ami = await RawAMIClient.connect(pbx.ami_port)
    await ami.login()
    call = pbx.place_call(CallerScript(number="+48600111222", channel="Local"))
    await ami.read_until(lambda m: value(m, "Event") == "MusicOnHoldStart", wait=10)
    return server, ami, call


async def answer(ami: RawAMIClient, action_id: str) -> Message:
    got = await ami.read_until(lambda m: value(m, "ActionID") == action_id)
    return [(k, v) for k, v in got[-1] if k != "ActionID"]


def strip(frame: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in frame if k != "ActionID"]


async def test_pause_resume_and_hangup_answer_as_the_capture(
    pbx: PBXSimulator, tmp_path: Path
) -> None:
    want = captured_answers()
    server, ami, call = await caller_on_hold(pbx)
    channel = call.channel.name
    target = tmp_path / "2026" / "12" / "07" / "call.wav"

    await ami.send(
        ("Action", "MixMonitor"),
        ("ActionID", "kck-rec-3"),
        ("Channel", channel),
        ("File", str(target)),
        ("Options", "b"),
    )
    got = await ami.read_until(lambda m: value(m, "Event") == "MixMonitorStart")
    assert [m for m in got if value(m, "ActionID") == "kck-rec-3"] == want["kck-rec-3"]
    assert names(got[-1]) == names(captured_event("MixMonitorStart"))

    for action_id, state in (("kck-rec-4", "1"), ("kck-rec-5", "0")):
        await ami.send(
            ("Action", "MixMonitorMute"),
            ("ActionID", action_id),
            ("Channel", channel),
            ("Direction", "both"),
            ("State", state),
        )
        got = await ami.read_until(lambda m: value(m, "Event") == "MixMonitorMute")
        assert [m for m in got if value(m, "ActionID") == action_id] == want[action_id]
        assert names(got[-1]) == names(captured_event("MixMonitorMute"))
        assert (value(got[-1], "Direction"), value(got[-1], "State")) == ("both", state)
    assert pbx.mixmonitors.recording(channel) is not None
    assert not target.exists()  # written when the recording ends, as Asterisk closes it then

    await ami.send(("Action", "Hangup"), ("ActionID", "kck-rec-6"), ("Channel", channel))
    got = await ami.read_until(
        lambda m: value(m, "Event") == "Hangup" and value(m, "Channel") == channel, wait=10
    )
    assert [strip(m) for m in got if value(m, "ActionID") == "kck-rec-6"] == [
        strip(m) for m in want["kck-rec-6"]
    ]
    assert not [m for m in got if value(m, "Event") == "MixMonitorStop"]
    await asyncio.wait_for(call, 10)
    await pbx.mixmonitors.drain()
    with wave.open(str(target)) as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (1, 8000, 2)
        assert w.getnframes() > 0

    await ami.send(
        ("Action", "MixMonitorMute"),
        ("ActionID", "kck-rec-7"),
        ("Channel", channel),
        ("Direction", "both"),
        ("State", "1"),
    )
    assert await answer(ami, "kck-rec-7") == strip(want["kck-rec-7"][0])
    await ami.close()
    await server.stop()


async def test_mute_without_a_recording_is_refused(pbx: PBXSimulator) -> None:
    server, ami, call = await caller_on_hold(pbx)
    await ami.send(
        ("Action", "MixMonitorMute"),
        ("ActionID", "x"),
        ("Channel", call.channel.name),
        ("Direction", "both"),
        ("State", "1"),
    )
    assert await answer(ami, "x") == [("Response", "Error"), ("Message", "Cannot set mute flag")]
    await ami.close()
    await server.stop()
