"""The AMI events of a simulated call come in the order Asterisk 22 sent them for the same call.

Each queue-flow AGI capture is replayed (see test_agi_replay) while the simulator's events are
recorded; the reference is the same call in ami-session-queue-flow.jsonl (found through the AGI
channel's uniqueid). The capture's own event filters are applied to both sides (it dropped
Newexten, AGIExec*, RTCP* and some VarSets). `ExtensionStatus` and `QueueMemberStatus` come from
the lab's hints and old queue and are left out. The lab's agents were Local channels except
`PJSIP/agent1001`: with a PJSIP agent the whole call is compared (caller, agent, device states);
with a Local agent only the caller channel's own events are (less the `NewConnectedLine` that a
PJSIP agent's 180 Ringing causes and a Local agent does not).

Asterisk publishes each channel's events, a bridge's events and device states on separate topics,
and the captures show them interleaving differently from call to call (e.g. `DeviceStateChange
RINGING` before or after the caller's `RINGTIME` VarSet in two otherwise identical calls). So the
order is compared within each stream (caller, agent, bridge, device), not across streams.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from demo.simulator import PBXSimulator

from . import test_agi_replay as replay_mod
from .agi_script_server import ScriptedAGIServer
from .ami_test_client import RawAMIClient, value, whole_reply_to
from .fixtures import ami_messages, fixtures_dir, load_agi_transcript

SPEED = replay_mod.SPEED

FILTERED_EVENTS = {
    "Newexten",
    "AGIExecStart",
    "AGIExecEnd",
    "RTCPSent",
    "RTCPReceived",
    "ExtensionStatus",
    "QueueMemberStatus",
}
FILTERED_VARS = re.compile(
    r"^(BRIDGEPVTCALLID|BRIDGEPEER|RTPAUDIOQOS[A-Z]*|PLAYBACKSTATUS|"
    r"RECORD_STATUS|RECORDED_FILE|CHANLOCALSTATUS|SIPDOMAIN)$"
)
PJSIP_AGENT_CALLS = {
    "agi-session-queue-pjsip-agent",
    "agi-session-polish-callerid",
    "agi-session-queue-caller-bye-idle",
}
QUEUE_FLOW_CALLS = sorted(
    n
    for n in replay_mod.SCENARIOS
    if n.startswith("agi-session-queue")
    or n in ("agi-session-polish-callerid", "agi-session-idle-timeout")
)


def summarise(events: list[dict[str, str]], caller: str, whole_call: bool) -> list[str]:
    """One comparable line per event: name, whose channel, and the values that matter."""
    agent_names: dict[str, str] = {}
    out = []
    for h in events:
        name = h["Event"]
        if name in FILTERED_EVENTS or (name == "VarSet" and FILTERED_VARS.match(h["Variable"])):
            continue
        channel = h.get("Channel", "")
        if name == "DeviceStateChange":
            if not whole_call or not h["Device"].startswith("PJSIP/agent"):
                continue
            out.append(f"device: DeviceStateChange agent {h['State']}")
            continue
        if channel == caller:
            who = "caller"
        elif whole_call and channel.startswith("PJSIP/agent"):
            who = agent_names.setdefault(channel, "agent")
        elif name.startswith("Bridge") and not channel and whole_call:
            who = "bridge"
        else:
            continue
        detail = ""
        if name == "VarSet":
            value = (
                h["Value"]
                if h["Variable"] in ("DIALSTATUS", "AGISTATUS")
                else ("''" if h["Value"] == "" else "*")
            )
            detail = f"{h['Variable']}={value}"
        elif name.startswith("Dial"):
            detail = h.get("DialStatus", "")
        elif name in ("Hangup", "HangupRequest", "SoftHangupRequest"):
            detail = f"cause={h.get('Cause', '-')}"
        elif name == "Newstate":
            detail = h["ChannelStateDesc"]
        out.append(f"{who}: {name} {detail}".rstrip())
    return out


def streams(lines: list[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for line in lines:
        grouped.setdefault(line.split(":", 1)[0], []).append(line)
    return grouped


def captured_call(name: str) -> tuple[list[dict[str, str]], str]:
    transcript = load_agi_transcript(fixtures_dir() / f"{name}.jsonl")
    env = dict(line.split(": ", 1) for line in transcript.env.splitlines() if ": " in line)
    uniqueid, channel = env["agi_uniqueid"], env["agi_channel"]
    # events only; list items answering an action (they carry ActionID) are not part of the call
    messages = [
        dict(h)
        for _, d, h in ami_messages(fixtures_dir() / "ami-session-queue-flow.jsonl")
        if d == "in" and h[0][0] == "Event" and not any(k == "ActionID" for k, _ in h)
    ]
    linkedid = next(m["Linkedid"] for m in messages if m.get("Uniqueid") == uniqueid)
    agent_devices: set[str] = set()
    call: list[dict[str, str]] = []
    for m in messages:
        if m.get("Linkedid") == linkedid or m.get("BridgeUniqueid") in {
            b.get("BridgeUniqueid") for b in call if "BridgeUniqueid" in b
        }:
            call.append(m)
            if m.get("Channel", "").startswith("PJSIP/agent"):
                agent_devices.add("PJSIP/agent1001")
        elif (m["Event"] == "DeviceStateChange" and m["Device"] in agent_devices) or (
            m["Event"] == "BridgeCreate" and call and call[-1]["Event"] == "DialEnd"
        ):
            call.append(m)
        if m["Event"] == "Hangup" and m.get("Channel") == channel:
            break
    return call, channel


@pytest.mark.parametrize("name", QUEUE_FLOW_CALLS)
async def test_simulated_call_emits_the_captured_ami_event_order(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded: list[dict[str, str]] = []
    original_start = PBXSimulator.start

    async def start_and_record(self: PBXSimulator) -> None:
        self.subscribe(
            lambda ev, priv, headers: recorded.append(
                {"Event": ev, "Privilege": priv, **dict(headers)}
            )
        )
        await original_start(self)

    monkeypatch.setattr(PBXSimulator, "start", start_and_record)
    await replay_mod.replay(name)
    want_events, want_channel = captured_call(name)
    whole = name in PJSIP_AGENT_CALLS
    got_channel = next(
        e["Channel"]
        for e in recorded
        if e["Event"] == "Newstate"
        and (e["Channel"].endswith(";2") or e["Channel"].startswith("PJSIP/sipp"))
    )
    got = summarise(recorded, got_channel, whole)
    if not whole:
        # a PJSIP agent's 180 updates the caller's connected line; a Local agent's does not
        got = [e for i, e in enumerate(got) if e != "caller: NewConnectedLine" or i < 3]
    want = summarise(want_events, want_channel, whole)
    assert len(want) > 8
    assert streams(got) == streams(want)


UNFILTERED_NOISE = re.compile(r"^(RTPAUDIOQOS[A-Z]*)$")


def channel_stream(events: list[dict[str, str]], channel: str) -> list[str]:
    """Every event of one channel, with AGI commands and dialplan applications spelled out."""
    out = []
    for h in events:
        if h.get("Channel") != channel or "ActionID" in h or h["Event"].startswith("RTCP"):
            continue
        if h["Event"] == "VarSet" and UNFILTERED_NOISE.match(h["Variable"]):
            continue
        if h["Event"].startswith("AGIExec"):  # the test records into its own folder
            h = {**h, "Command": re.sub(r"^RECORD FILE \S*/", "RECORD FILE /tmp/", h["Command"])}
        detail = {
            "VarSet": h.get("Variable", ""),
            "Newexten": h.get("Application", ""),
            "AGIExecStart": h.get("Command", ""),
            "AGIExecEnd": f"{h.get('Command', '')} {h.get('ResultCode', '')}",
            "DTMFBegin": h.get("Digit", ""),
            "DTMFEnd": h.get("Digit", ""),
            "Newstate": h.get("ChannelStateDesc", ""),
            "Hangup": h.get("Cause", ""),
            "HangupRequest": h.get("Cause", "-"),
            "SoftHangupRequest": h.get("Cause", ""),
        }.get(h["Event"], "")
        out.append(f"{h['Event']} {detail}".rstrip())
    return out


@pytest.mark.parametrize(
    ("name", "capture", "channel"),
    [
        ("agi-session-sipdtmf", "ami-session-sip.jsonl", "PJSIP/sipp-00000000"),
        ("agi-session-sipbye", "ami-session-sip.jsonl", "PJSIP/sipp-00000001"),
        ("agi-session-hangup-wait", "ami-session.jsonl", "Local/126165555@kck-inbound-00000003;2"),
        ("agi-session-redirect", "ami-session.jsonl", "Local/126165555@kck-inbound-00000001;2"),
        ("agi-session-errors", "ami-session.jsonl", "Local/126165555@kck-inbound-00000004;2"),
    ],
)
async def test_unfiltered_agi_channel_events_match_the_capture(
    name: str, capture: str, channel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ami-session(-sip).jsonl have no event filter: Newexten, AGIExecStart/End and DTMF events
    are compared too (RTCP and RTPAUDIOQOS statistics are not simulated). After a Redirect or
    SET CONTEXT the lab's target ran `Answer()` first; the simulator does not know the target's
    dialplan, so that one `Newexten` is left out."""
    recorded: list[dict[str, str]] = []
    original_start = PBXSimulator.start

    async def start_and_record(self: PBXSimulator) -> None:
        self.subscribe(
            lambda ev, priv, headers: recorded.append(
                {"Event": ev, "Privilege": priv, **dict(headers)}
            )
        )
        await original_start(self)

    monkeypatch.setattr(PBXSimulator, "start", start_and_record)
    await replay_mod.replay(name)
    captured = [
        dict(h)
        for _, d, h in ami_messages(fixtures_dir() / capture)
        if d == "in" and h[0][0] == "Event"
    ]
    ours = next(e["Channel"] for e in recorded if e["Event"] == "AGIExecStart")
    want = channel_stream(captured, channel)
    if "Newexten MusicOnHold" in want:
        i = want.index("Newexten MusicOnHold")
        if want[i - 1] == "Newexten Answer":
            del want[i - 1]
    assert len(want) > 15
    assert channel_stream(recorded, ours) == want


async def test_originated_local_call_with_ami_actions_matches_the_basic_capture(
    tmp_path: Path,
) -> None:
    """The first call of ami-session.jsonl, redone: the same Originate, the same AGI commands
    (agi-session-basic) and the same AMI actions while the AGI streams a file. Both halves'
    event streams are compared (each in its own order)."""
    transcript = load_agi_transcript(fixtures_dir() / "agi-session-basic.jsonl")
    steps = [replay_mod.local_dial_to_pjsip(s, str(tmp_path)) for s in transcript.steps]
    server = ScriptedAGIServer(steps, SPEED, half_close=False, linger=0.3)
    await server.start()
    pbx = PBXSimulator(agi_url=server.url, speed=SPEED)
    recorded: list[dict[str, str]] = []
    pbx.subscribe(
        lambda ev, priv, headers: recorded.append({"Event": ev, "Privilege": priv, **dict(headers)})
    )
    await pbx.start()
    ami = await RawAMIClient.connect(pbx.ami_port)
    try:
        await ami.login()
        await ami.send(
            ("Action", "Originate"),
            ("ActionID", "kck-16"),
            ("Channel", "Local/126165555@kck-inbound"),
            ("Application", "MusicOnHold"),
            ("Data", "default,120"),
            ("CallerID", '"KCK Lab" <0299990000>'),
            ("Timeout", "30000"),
            ("Async", "true"),
            ("Variable", "KCK_ORIGIN=ami"),
        )
        msgs = await ami.read_until(lambda m: value(m, "Event") == "AGIExecStart", wait=10)
        two = next(value(m, "Channel") for m in msgs if value(m, "Event") == "AGIExecStart")
        assert two is not None
        mixmon = str(tmp_path / "mixmon.wav")
        for n, action in enumerate(
            [
                [("Action", "Status"), ("Channel", two)],
                [("Action", "Getvar"), ("Channel", two), ("Variable", "KCK_INBOUND")],
                [("Action", "Getvar"), ("Channel", two), ("Variable", "CALLERID(num)")],
                [
                    ("Action", "Setvar"),
                    ("Channel", two),
                    ("Variable", "KCK_FROM_AMI"),
                    ("Value", "set-by-ami"),
                ],
                [("Action", "MixMonitor"), ("Channel", two), ("File", mixmon)],
            ]
        ):
            await ami.send(action[0], ("ActionID", f"a-{n}"), *action[1:])
            await ami.read_until(whole_reply_to(f"a-{n}"), wait=10)
        await asyncio.wait_for(server.connected.wait(), 10)
        await asyncio.wait_for(server.sessions[0].done.wait(), 30)
        call = pbx.calls[0] if pbx.calls else None
        if call is not None:
            await asyncio.wait_for(call, 10)
    finally:
        await ami.close()
        await pbx.stop()
        await server.stop()
    captured = [
        dict(h)
        for _, d, h in ami_messages(fixtures_dir() / "ami-session.jsonl")
        if d == "in" and h[0][0] == "Event"
    ]
    base = "Local/126165555@kck-inbound-00000000"
    for half in (";1", ";2"):
        want = channel_stream(captured, base + half)
        got = channel_stream(recorded, two.replace(";2", half))
        assert len(want) > 5
        assert got == want, half
