"""The fallback queue sends the AMI events the real Asterisk 22.10.1 sent, header for header.

`tests/data/real_asterisk/fallback-queue-events.json` holds every header of each event, captured
from Asterisk 22.10.1 running what `kck asterisk config` writes (trunk endpoint `kck-trunk`,
language `pl`, agent 101 "Anna Nowak") with kck unreachable, so the dialplan's
`Queue(kck-fallback)` (priority 10) took the callers: +48600100201 was answered by phone 101,
which hung up ~2 s later; +48600100202 arrived while 101 talked and hung up ~1 s into the queue.
Only the events named in it were kept (no VarSet, Newexten, DeviceStateChange...).

Order: the capture shows the agent's `BridgeEnter` before `BridgeCreate`, which no raw capture
ever shows (ami-session*.jsonl: `BridgeCreate`, then `BridgeEnter` x2, as bridge.c publishes
them). Its caller numbers are those tests/real_asterisk gives its callers, and that harness reads
events through kck's AMIClient, whose dispatcher hands one call's events (one Linkedid) in order
but runs each call, and the events without a channel (`BridgeCreate`, `BridgeDestroy`), on a lane
of its own. So the order is compared within each lane: the answered call, the abandoned call and
the bridge (as test_ami_event_order compares per stream).

Compared: names, header names in order and every value except ids (Uniqueid, Linkedid,
BridgeUniqueid), channel sequence numbers, and seconds (HoldTime, RingTime, TalkTime: digits).
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from demo.simulator import CallerScript, CallResult, PBXSimulator, PhoneBehaviour, PhoneMode

CAPTURE = Path(__file__).parents[1] / "data" / "real_asterisk" / "fallback-queue-events.json"
SPEED = 25.0
IDS = {"Uniqueid", "Linkedid", "DestUniqueid", "DestLinkedid", "BridgeUniqueid"}
SECONDS = {"HoldTime", "RingTime", "TalkTime"}
Event = dict[str, str]


def lanes(events: list[Event]) -> dict[str, list[str]]:
    """The events of each lane ("answered", "abandoned", "bridge"), one comparable line each."""
    by_call: dict[str, list[Event]] = {}
    for event in events:
        by_call.setdefault(event.get("Linkedid", "bridge"), []).append(event)
    out = {}
    for key, mine in by_call.items():
        names = {e["Event"] for e in mine}
        lane = (
            "bridge"
            if key == "bridge"
            else "answered"
            if "AgentConnect" in names
            else "abandoned"
            if "QueueCallerAbandon" in names
            else key
        )
        out[lane] = [comparable(e) for e in mine]
    return out


def comparable(event: Event) -> str:
    shown = []
    for key, value in event.items():
        if key in IDS:
            value = "<id>"
        elif key in SECONDS and value.isdigit():
            value = "<s>"
        elif key in ("Channel", "DestChannel"):
            value = re.sub(r"-[0-9a-f]{8}$", "-<n>", value)
        shown.append(f"{key}={value}")
    return " | ".join(shown)


async def test_fallback_queue_sends_the_events_the_real_asterisk_sent() -> None:
    captured: list[Event] = json.loads(CAPTURE.read_text(encoding="utf-8"))
    names = {e["Event"] for e in captured}
    recorded: list[Event] = []
    bridged = asyncio.Event()

    def record(name: str, privilege: str, headers: list[tuple[str, str]]) -> None:
        recorded.append({"Event": name, "Privilege": privilege, **dict(headers)})
        if name == "BridgeEnter":
            bridged.set()

    pbx = PBXSimulator(
        agi_url="agi://127.0.0.1:9/ivr",  # kck unreachable
        speed=SPEED,
        caller_endpoint="kck-trunk",
        language="pl",
    )
    pbx.subscribe(record)
    await pbx.start()
    pbx.add_phone(
        "101", PhoneBehaviour(PhoneMode.ANSWER, answer_after=0.5, talk_for=3.0), name="Anna Nowak"
    )
    try:
        # the capture's callers sent no display name: Asterisk shows the number as the name
        answered = pbx.place_call(CallerScript(number="+48600100201", name="+48600100201"))
        await asyncio.wait_for(bridged.wait(), 10)
        abandoned = pbx.place_call(
            CallerScript(number="+48600100202", name="+48600100202", patience=1.5)
        )
        outcomes = [await asyncio.wait_for(answered, 20), await asyncio.wait_for(abandoned, 20)]
    finally:
        await pbx.stop()
    assert [o.result for o in outcomes] == [CallResult.FALLBACK_QUEUE, CallResult.CALLER_HUNG_UP]
    want = lanes(captured)
    got = lanes([e for e in recorded if e["Event"] in names])
    assert sorted(got) == sorted(want) == ["abandoned", "answered", "bridge"]
    for lane in want:
        assert got[lane] == want[lane], lane
