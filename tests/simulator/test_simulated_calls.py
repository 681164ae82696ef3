"""Simulated callers, phones, the fallback queue and the call stream, seen from outside."""

from __future__ import annotations

import asyncio
import random
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Unpack

import pytest

from demo.simulator import (
    CallerScript,
    CallResult,
    CallStream,
    CityHallCallers,
    DigitPress,
    PBXSimulator,
    PhoneBehaviour,
    PhoneMode,
    ScriptError,
    SimClock,
    SoundLibrary,
    load_caller_scripts,
)
from kck.stopping import TASK_STOP_S, stop_task
from tests.polling import until

from .agi_script_server import ScriptedAGIServer, ScriptOptions
from .fixtures import ami_messages, fixtures_dir
from .test_ami_server import captured_shapes

SPEED = 50.0
Event = dict[str, str]


@pytest.fixture
async def pbx() -> AsyncIterator[tuple[PBXSimulator, list[Event]]]:
    sim = PBXSimulator(agi_url="agi://127.0.0.1:9/ivr", speed=SPEED, fallback_ring_seconds=5)
    events: list[Event] = []
    sim.subscribe(
        lambda name, priv, headers: events.append(
            {"Event": name, "Privilege": priv, **dict(headers)}
        )
    )
    await sim.start()
    yield sim, events
    await sim.stop()


async def agi(
    steps: list[str | tuple[str, float]], **kw: Unpack[ScriptOptions]
) -> ScriptedAGIServer:
    server = ScriptedAGIServer(steps, SPEED, **kw)
    await server.start()
    return server


async def test_unreachable_controller_sends_the_caller_to_the_fallback_queue(
    pbx: tuple[PBXSimulator, list[Event]],
) -> None:
    sim, events = pbx
    sim.add_phone("101", PhoneBehaviour(PhoneMode.NO_ANSWER))
    sim.add_phone("102", PhoneBehaviour(PhoneMode.ANSWER, answer_after=2.0, talk_for=3.0))
    outcome = await asyncio.wait_for(sim.place_call(CallerScript(number="+48600100200")), 20)
    assert outcome.result is CallResult.FALLBACK_QUEUE
    assert outcome.agi_status == "FAILURE"
    assert outcome.agent == "102"
    names = [e["Event"] for e in events]
    for event in (
        "QueueCallerJoin",
        "AgentCalled",
        "AgentConnect",
        "AgentComplete",
        "QueueCallerLeave",
    ):
        assert event in names
        first = next(e for e in events if e["Event"] == event)
        assert tuple(first) in captured_shapes()[event], event
    ringing = [e["DestChannel"] for e in events if e["Event"] == "AgentCalled"]
    assert {r.split("-")[0] for r in ringing} == {"PJSIP/101", "PJSIP/102"}  # ringall


async def test_caller_abandoning_the_fallback_queue_gets_dialend_twice_like_app_queue(
    pbx: tuple[PBXSimulator, list[Event]],
) -> None:
    sim, events = pbx
    sim.fallback_ring_seconds = 60  # the caller gives up long before the ring round ends
    sim.add_phone("101", PhoneBehaviour(PhoneMode.NO_ANSWER))
    outcome = await asyncio.wait_for(
        sim.place_call(CallerScript(number="+48600100200", patience=3.0, channel="Local")), 20
    )
    assert outcome.result is CallResult.CALLER_HUNG_UP
    caller = outcome.channel
    mine = [
        e["Event"] + ("/" + e.get("DialStatus", "") if "DialStatus" in e else "")
        for e in events
        if e.get("Channel") == caller
        and e["Event"]
        in ("DialEnd", "QueueCallerAbandon", "QueueCallerLeave", "HangupRequest", "MusicOnHoldStop")
    ]
    # the capture's abandoned queue call (-00000007) in ami-session.jsonl, same events
    want = [
        h["Event"] + ("/" + h["DialStatus"] if "DialStatus" in h else "")
        for h in (
            dict(m)
            for _, d, m in ami_messages(fixtures_dir() / "ami-session.jsonl")
            if d == "in" and m[0][0] == "Event"
        )
        if h.get("Channel") == "Local/126165555@kck-inbound-00000007;2"
        and h["Event"]
        in ("DialEnd", "QueueCallerAbandon", "QueueCallerLeave", "HangupRequest", "MusicOnHoldStop")
    ]
    assert mine == want
    assert want.count("DialEnd/CANCEL") == 2


def queue_events(events: list[Event], channel: str) -> list[str]:
    """The fallback queue's events of one caller: name and position headers."""
    keys = ("Position", "OriginalPosition", "Count", "DialStatus", "Application")
    return [
        " ".join([e["Event"], *(f"{k}={e[k]}" for k in keys if k in e)])
        for e in events
        if e.get("Channel") == channel
        and (e["Event"].startswith(("Queue", "Agent", "Dial")) or e["Event"] == "Newexten")
        and e.get("Application") not in ("NoOp", "Answer", "Set", "AGI", "GotoIf")
    ]


async def test_callers_in_the_fallback_queue_have_positions_and_leave_it_as_app_queue_says(
    pbx: tuple[PBXSimulator, list[Event]],
) -> None:
    """app_queue.c (not captured with two callers): positions in order of arrival, `Count`
    after joining / leaving, the `Queue:` device ringing while anyone waits; a caller who waited
    `max_wait` leaves and the dialplan's Hangup() runs."""
    sim, events = pbx
    sim.fallback_max_wait = 4.0  # nobody to answer: no phones at all
    first = sim.place_call(CallerScript(number="+48600100201"))
    await asyncio.sleep(1.0 / SPEED)
    second = sim.place_call(CallerScript(number="+48600100202", patience=2.5))
    outcomes = [await asyncio.wait_for(first, 20), await asyncio.wait_for(second, 20)]
    assert queue_events(events, outcomes[0].channel) == [
        "Newexten Application=Queue",
        "QueueCallerJoin Position=1 Count=1",
        "QueueCallerLeave Position=1 Count=0",
        "Newexten Application=Hangup",
    ]
    assert queue_events(events, outcomes[1].channel) == [
        "Newexten Application=Queue",
        "QueueCallerJoin Position=2 Count=2",
        "QueueCallerAbandon Position=2 OriginalPosition=2",
        "QueueCallerLeave Position=2 Count=1",
    ]
    queue_device = [
        e["State"]
        for e in events
        if e["Event"] == "DeviceStateChange" and e["Device"] == "Queue:kck-fallback"
    ]
    assert queue_device == ["RINGING", "NOT_INUSE"]


async def test_only_the_first_caller_in_the_fallback_queue_rings_the_phones(
    pbx: tuple[PBXSimulator, list[Event]],
) -> None:
    """ringall: while the first caller waits `retry` after a round nobody answered, the phone is
    free but the second caller does not ring it; when the first leaves, the second does."""
    sim, events = pbx
    sim.fallback_ring_seconds = 2.0
    phone = sim.add_phone("101", PhoneBehaviour(PhoneMode.NO_ANSWER), name="Anna Nowak")
    first = sim.place_call(CallerScript(number="+48600100201", patience=4.0))
    await asyncio.sleep(1.0 / SPEED)
    second = sim.place_call(CallerScript(number="+48600100202", patience=8.0))
    outcomes = [await asyncio.wait_for(first, 20), await asyncio.wait_for(second, 20)]
    one, two = (o.channel for o in outcomes)
    order = [
        (e["Event"], e["Channel"])
        for e in events
        if e["Event"] in ("AgentCalled", "QueueCallerLeave") and e["Channel"] in (one, two)
    ]
    assert order.index(("QueueCallerLeave", one)) < order.index(("AgentCalled", two))
    assert queue_events(events, one)[:6] == [
        "Newexten Application=Queue",
        "QueueCallerJoin Position=1 Count=1",
        "AgentCalled",
        "DialBegin",
        "DialState DialStatus=RINGING",
        "AgentRingNoAnswer",  # rna(): then the phone's DialEnd
    ]
    no_answer = next(e for e in events if e["Event"] == "AgentRingNoAnswer")
    assert list(no_answer)[-4:] == ["Queue", "Interface", "MemberName", "RingTime"]
    assert (no_answer["Interface"], no_answer["MemberName"]) == ("PJSIP/101", "Anna Nowak")
    assert no_answer["RingTime"] == "2000"  # ms, the ring timeout
    assert phone.calls_offered >= 2


async def test_second_controller_is_tried_when_the_first_cannot_be_reached(
    pbx: tuple[PBXSimulator, list[Event]],
) -> None:
    sim, events = pbx
    server = await agi(["ANSWER", "SET VARIABLE KCK_DONE 1"], linger=0.2)
    sim.set_agi_urls(["agi://127.0.0.1:9/ivr", server.url])
    outcome = await asyncio.wait_for(sim.place_call(CallerScript()), 20)
    await server.stop()
    assert outcome.agi_status == "SUCCESS"
    assert outcome.result is CallResult.ENDED_BY_CONTROLLER
    agistatus = [
        e["Value"] for e in events if e["Event"] == "VarSet" and e["Variable"] == "AGISTATUS"
    ]
    assert agistatus == ["FAILURE", "SUCCESS"]


async def test_controller_that_stops_mid_call_without_kck_done_does_not_drop_the_caller(
    pbx: tuple[PBXSimulator, list[Event]],
) -> None:
    sim, _ = pbx
    sim.add_phone("101", PhoneBehaviour(PhoneMode.ANSWER, answer_after=1.0, talk_for=1.0))
    server = await agi(
        ["ANSWER", 'STREAM FILE pls-hold-while-try ""'], half_close=False, linger=0.1
    )
    sim.set_agi_urls(server.url)
    outcome = await asyncio.wait_for(sim.place_call(CallerScript()), 20)
    await server.stop()
    assert outcome.agi_status == "SUCCESS"
    assert outcome.result is CallResult.FALLBACK_QUEUE and outcome.agent == "101"


async def test_dial_to_unregistered_or_busy_phone_reports_the_dialstatus(
    pbx: tuple[PBXSimulator, list[Event]],
) -> None:
    sim, events = pbx
    sim.add_phone("101", PhoneBehaviour(PhoneMode.UNREGISTERED))
    sim.add_phone("102", PhoneBehaviour(PhoneMode.BUSY))
    server = await agi(
        [
            "EXEC Dial PJSIP/101,20",
            "GET VARIABLE DIALSTATUS",
            "EXEC Dial PJSIP/102,20",
            "GET VARIABLE DIALSTATUS",
            "HANGUP",
        ]
    )
    sim.set_agi_urls(server.url)
    outcome = await asyncio.wait_for(sim.place_call(CallerScript()), 20)
    await server.sessions[0].done.wait()
    await server.stop()
    replies = server.sessions[0].replies
    assert [replies[i] for i in range(4)] == [
        ["200 result=0\n"],
        ["200 result=1 (CHANUNAVAIL)\n"],
        ["200 result=0\n"],
        ["200 result=1 (BUSY)\n"],
    ]
    assert [a.status for a in outcome.dial_attempts] == ["CHANUNAVAIL", "BUSY"]
    hangups = [
        e["Cause"]
        for e in events
        if e["Event"] == "Hangup" and e["Channel"].startswith("PJSIP/102")
    ]
    assert hangups == ["17"]  # User busy, as captured


async def test_withheld_number_reaches_the_agi_as_anonymous(
    pbx: tuple[PBXSimulator, list[Event]],
) -> None:
    sim, _ = pbx
    server = await agi(["HANGUP"])
    sim.set_agi_urls(server.url)
    await asyncio.wait_for(sim.place_call(CallerScript(number=None)), 20)
    await server.sessions[0].done.wait()
    await server.stop()
    env = server.sessions[0].env
    assert "agi_callerid: anonymous\n" in env and "agi_calleridname: Anonymous\n" in env
    assert "agi_dnid: 126165555\n" in env and "agi_type: PJSIP\n" in env


async def test_digit_pressed_into_a_prompt_interrupts_it_and_record_file_writes_the_utterance(
    pbx: tuple[PBXSimulator, list[Event]], tmp_path: Path
) -> None:
    sim, events = pbx
    utterance = tmp_path / "dowod.wav"
    with wave.open(str(utterance), "wb") as w:  # 1.5 s of a tone-ish signal at 8 kHz
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes([0, 40, 0, 200]) * 6000)
    server = await agi(
        [
            'STREAM FILE demo-congrats "12"',
            "GET DATA beep 3000 4",
            f"RECORD FILE {tmp_path}/rec wav # 10000 0 s=2",
            "HANGUP",
        ]
    )
    sim.set_agi_urls(server.url)
    outcome = await asyncio.wait_for(
        sim.place_call(
            CallerScript(
                digits=(DigitPress("2", after=1.5), DigitPress("123#", after=0.5)),
                utterance=utterance,
            )
        ),
        20,
    )
    await server.sessions[0].done.wait()
    await server.stop()
    replies = server.sessions[0].replies
    assert replies[0][0].startswith("200 result=50 endpos=")  # '2' cut the prompt short
    assert 0 < int(replies[0][0].split("endpos=")[1]) < 242214
    assert replies[1] == ["200 result=123\n"]
    assert replies[2][0].startswith("200 result=0 (timeout) endpos=")
    assert (tmp_path / "rec.wav").read_bytes() == utterance.read_bytes()
    assert outcome.recordings == (tmp_path / "rec.wav",)
    digits = [e["Digit"] for e in events if e["Event"] == "DTMFEnd"]
    assert digits == ["2", "1", "2", "3", "#"]


async def test_caller_out_of_patience_hangs_up_while_on_hold(
    pbx: tuple[PBXSimulator, list[Event]],
) -> None:
    sim, _ = pbx
    server = await agi(["ANSWER", "SET MUSIC ON default", ("idle", 30.0), "SET MUSIC OFF"])
    sim.set_agi_urls(server.url)
    outcome = await asyncio.wait_for(sim.place_call(CallerScript(patience=5.0)), 20)
    await server.sessions[0].done.wait()
    await server.stop()
    assert outcome.result is CallResult.CALLER_HUNG_UP
    assert outcome.hung_up_by == "caller"
    received = server.sessions[0].received
    assert received[:3] == ["200 result=0\n", "200 result=0\n", "HANGUP\n"]
    assert received[3].startswith("511 ")


async def test_call_stream_places_calls_following_the_hourly_shape(
    pbx: tuple[PBXSimulator, list[Event]],
) -> None:
    sim, _ = pbx
    stream = CallStream(
        sim,
        lambda n, rng: CallerScript(number=f"+4860010{n:04d}"),
        calls_per_day=2400,
        start_hour=10.0,
        seed=7,
    )
    day = CallStream(
        sim, lambda n, rng: CallerScript(), calls_per_day=800, start_hour=0.0, seed=3
    ).arrival_times(24.0)
    per_hour = [sum(1 for t in day if h * 3600 <= t < (h + 1) * 3600) for h in range(24)]
    assert 650 < len(day) < 950
    assert per_hour[10] > 5 * per_hour[3]
    server = await agi(["SET VARIABLE KCK_DONE 1"], half_close=False, linger=0.05)
    sim.set_agi_urls(server.url)
    sim.clock = SimClock(speed=400.0)
    outcomes = await asyncio.wait_for(stream.run(hours=0.05), 30)
    await server.stop()
    assert len(outcomes) == len(stream.calls) > 3
    assert all(o.result is CallResult.ENDED_BY_CONTROLLER for o in outcomes)


async def test_a_stream_run_for_ages_places_its_first_call_without_drawing_them_all_first(
    pbx: tuple[PBXSimulator, list[Event]],
) -> None:
    # `kck demo` runs its stream for a year: drawn up front, the arrivals held the event loop for
    # tens of seconds right after the demo printed its accounts (no page, no Ctrl-C answered)
    sim, _ = pbx
    server = await agi(["SET VARIABLE KCK_DONE 1"], half_close=False, linger=0.05)
    sim.set_agi_urls(server.url)
    sim.clock = SimClock(speed=400.0)
    stream = CallStream(sim, lambda n, rng: CallerScript(), calls_per_day=2400, start_hour=10.0)
    running = asyncio.create_task(stream.run(hours=24 * 365 * 1000))
    try:
        await until(lambda: len(stream.calls) >= 2, 30)
    finally:
        await stop_task(running, within=TASK_STOP_S, what="call stream")
        await server.stop()


def test_caller_scripts_load_from_yaml_and_bad_ones_name_the_place(tmp_path: Path) -> None:
    good = tmp_path / "callers.yaml"
    good.write_text(
        "callers:\n"
        "  - number: '+48600123456'\n    name: Łukasz Żółć\n    patience: 120\n"
        "    digits:\n      - {press: '2', after: 1.5}\n      - {press: '1234#', gap: 0.4}\n"
        "  - number: null\n    channel: Local\n",
        encoding="utf-8",
    )
    first, second = load_caller_scripts(good)
    assert first.name == "Łukasz Żółć" and first.patience == 120
    assert first.digits == (DigitPress("2", 1.5), DigitPress("1234#", 1.0, 0.4))
    assert second.withheld and second.channel == "Local"
    broken = tmp_path / "broken.yaml"
    broken.write_text("callers:\n  - number: '+48 600'\n", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"broken.yaml: callers\[0\].*E\.164"):
        load_caller_scripts(broken)
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("callers:\n  - number: [\n", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"bad.yaml:\d+: invalid YAML"):
        load_caller_scripts(bad_yaml)
    with pytest.raises(ScriptError, match="only 0-9"):
        DigitPress("x")
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("numbr: '+48600123456'\n", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"unknown field\(s\) \['numbr'\]"):
        load_caller_scripts(unknown)


def test_clock_refuses_a_non_positive_speed() -> None:
    with pytest.raises(ValueError, match="speed"):
        SimClock(speed=0)


async def test_after_kck_hangs_up_dial_does_nothing_and_the_caller_cannot_hang_up_again(
    pbx: tuple[PBXSimulator, list[Event]],
) -> None:
    sim, events = pbx
    sim.add_phone("101")
    server = await agi(
        ["HANGUP", "EXEC Dial PJSIP/101,20", "GET VARIABLE DIALSTATUS", ("idle", 3.0)]
    )
    sim.set_agi_urls(server.url)
    outcome = await asyncio.wait_for(sim.place_call(CallerScript(patience=2.0)), 20)
    await server.sessions[0].done.wait()
    await server.stop()
    assert server.sessions[0].replies[1] == ["200 result=-1\n"]
    assert server.sessions[0].replies[2] == ["200 result=1 (CANCEL)\n"]
    assert not [e for e in events if e["Event"] in ("DialBegin", "HangupRequest")]
    assert outcome.result is CallResult.ENDED_BY_CONTROLLER and outcome.hung_up_by == "controller"


async def test_ami_hangup_of_the_agent_leg_ends_the_bridge_like_an_agent_hangup(
    pbx: tuple[PBXSimulator, list[Event]],
) -> None:
    sim, events = pbx
    sim.add_phone("101", PhoneBehaviour(PhoneMode.ANSWER, answer_after=1.0, talk_for=None))
    server = await agi(["EXEC Dial PJSIP/101,20", "GET VARIABLE DIALSTATUS", "HANGUP"])
    sim.set_agi_urls(server.url)

    def hang_up_agent_when_bridged(name: str, _p: str, headers: list[tuple[str, str]]) -> None:
        h = dict(headers)
        if name == "BridgeEnter" and h["Channel"].startswith("PJSIP/101"):
            asyncio.get_running_loop().call_later(0.02, sim.request_hangup, h["Channel"], 16)

    sim.subscribe(hang_up_agent_when_bridged)
    outcome = await asyncio.wait_for(sim.place_call(CallerScript()), 20)
    await server.sessions[0].done.wait()
    await server.stop()
    assert server.sessions[0].replies[0] == ["200 result=-1\n"]
    assert server.sessions[0].replies[1] == ["200 result=1 (ANSWER)\n"]
    assert outcome.result is CallResult.TALKED_TO_AGENT and outcome.hung_up_by == "agent"
    order = [
        e["Event"]
        for e in events
        if e.get("Channel", "").startswith("PJSIP/101") or e["Event"] in ("BridgeDestroy",)
    ]
    assert order[-5:] == [
        "SoftHangupRequest",
        "HangupRequest",
        "BridgeLeave",
        "Hangup",
        "BridgeDestroy",
    ]


def test_city_hall_callers_are_varied_valid_scripts() -> None:
    import random

    make = CityHallCallers()
    rng = random.Random(5)
    scripts = [make(n, rng) for n in range(400)]
    withheld = sum(s.withheld for s in scripts)
    assert 10 < withheld < 70
    assert all(s.number is None or s.number.startswith("+48") for s in scripts)
    assert {s.digits[0].digits for s in scripts} == {""}  # the recording announcement passes
    menus = [s.digits[1:] for s in scripts]
    assert {m[0].digits for m in menus if m} == set("123456")
    assert any(not m for m in menus) and any(len(m) == 2 for m in menus)
    assert all(45 <= (s.patience or 0) <= 420 for s in scripts)


def test_simulated_time_can_be_handed_to_kck_as_its_clock() -> None:
    from kck.clock import Clock

    sim = SimClock(speed=100.0, epoch=1_795_527_940.0)
    view: Clock = sim.kck_clock()
    assert view.now().tzinfo is not None
    assert view.now().year == 2026
    assert view.monotonic() >= 0.0


def test_kcks_number_words_play_for_one_word_and_other_unknown_sounds_for_the_default() -> None:
    sounds = SoundLibrary()
    assert sounds.word_duration < 1.0 < sounds.default_duration
    assert sounds.duration("/var/lib/kck/sounds/pl/num/20") == sounds.word_duration
    assert sounds.duration("uk/num/minute_few") == sounds.word_duration
    assert sounds.duration("/var/lib/kck/sounds/pl/queue_people_ahead") == sounds.default_duration
    assert sounds.duration("/var/lib/kck/sounds/pl/numbers_menu") == sounds.default_duration
    assert sounds.duration("pls-hold-while-try") == 19398 / 8000
    assert SoundLibrary(strict=True).duration("pl/num/2") is None


class _FirstCaller(Exception):
    """Stops a stream at its first caller (the test has seen what it needs)."""


def _draws_since(seed: int, state: object, most: int = 1_000) -> int | None:
    """How many `random()` draws a `Random(seed)` makes to reach `state` (None: more than `most`)."""
    rng = random.Random(seed)
    for n in range(most + 1):
        if rng.getstate() == state:
            return n
        rng.random()
    return None


async def test_a_year_long_stream_draws_its_first_caller_without_computing_the_year_ahead(
    pbx: tuple[PBXSimulator, list[Event]],
) -> None:
    sim, _ = pbx
    seen: list[tuple[object, int]] = []

    def first_caller(n: int, rng: random.Random) -> CallerScript:
        seen.append((rng.getstate(), stream.arrivals_drawn))
        raise _FirstCaller

    # `kck demo` runs a stream for a year (24 * 365 h) at up to 1,200 calls an hour
    stream = CallStream(sim, first_caller, calls_per_day=28_800, seed=5)
    with pytest.raises(_FirstCaller):
        await stream.run(hours=24 * 365)
    # the arrivals are drawn as time goes by: one before the first call, not ten million, and
    # the callers' generator has drawn nothing for them
    [(state, arrivals)] = seen
    assert arrivals == 1
    assert _draws_since(5, state) == 0
