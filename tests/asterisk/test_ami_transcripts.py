"""Every captured AMI session replayed over a real socket, re-chunked, into our reader."""

from __future__ import annotations

import asyncio
import random

import pytest

from asterisk.ami import (
    AMIConnection,
    AMIFrameReader,
    AMIMessage,
    AMIResponse,
    Banner,
    encode_action,
    parse_event,
)
from asterisk.ami import actions as act
from asterisk.ami.events import DialEnd, HangupRequest, Newchannel, UnknownEvent
from tests.asterisk.ami_replay import AMIReplayServer, inside_utf8_letters, rechunk
from tests.asterisk.transcripts import Record, load, names, stream

AMI_SESSIONS = names("ami-")


def independent_frames(data: bytes) -> tuple[str, list[list[tuple[str, str]]]]:
    """The capture split the obvious way, to compare our reader with."""
    banner, _, rest = data.partition(b"\r\n")
    frames = []
    for raw in rest.split(b"\r\n\r\n"):
        if not raw:
            continue
        headers = []
        for line in raw.decode("utf-8").split("\r\n"):
            key, _, value = line.partition(": ")
            if not _ and line.endswith(":"):
                key, value = line[:-1], ""
            headers.append((key, value))
        frames.append(headers)
    return banner.decode(), frames


def captured_actions(records: list[Record]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    out = []
    for record in records:
        if record.direction != "out":
            continue
        lines = record.data.decode("utf-8").split("\r\n")
        headers = [tuple(line.split(": ", 1)) for line in lines if line]
        (_, name), (_, action_id), *rest = headers
        out.append((name, action_id, [(k, v) for k, v in rest]))
    return out


def test_every_ami_transcript_is_covered() -> None:
    assert set(AMI_SESSIONS) >= {
        "ami-login-failure",
        "ami-session",
        "ami-session-sip",
        "ami-session-queue-flow",
        "ami-session-mixmonitor",
    }


@pytest.mark.parametrize("name", AMI_SESSIONS)
@pytest.mark.parametrize("seed", [1, 2])
def test_frame_reader_gives_the_same_messages_however_the_bytes_are_cut(
    name: str, seed: int
) -> None:
    data = stream(load(name), "in")
    banner, expected = independent_frames(data)
    reader = AMIFrameReader()
    frames = []
    for chunk in rechunk(data, random.Random(seed), cut_at=inside_utf8_letters(data)):
        frames.extend(reader.feed(chunk))
    assert isinstance(frames[0], Banner)
    assert frames[0].text == banner
    messages = [m for m in frames[1:] if isinstance(m, AMIMessage)]
    assert len(messages) == len(frames) - 1  # no second banner
    assert [list(m.headers) for m in messages] == expected
    assert reader.buffered == 0


def test_polish_name_split_between_two_reads_survives() -> None:
    frame = "Event: Newchannel\r\nCallerIDName: Łukasz Żółć\r\nUniqueid: 1.1\r\n\r\n".encode()
    split = frame.index("Ł".encode()) + 1  # between the two bytes of Ł
    reader = AMIFrameReader(expect_banner=False)
    assert reader.feed(frame[:split]) == []
    (message,) = reader.feed(frame[split:])
    assert isinstance(message, AMIMessage)
    assert message.get("CallerIDName") == "Łukasz Żółć"


@pytest.mark.parametrize("name", AMI_SESSIONS)
@pytest.mark.parametrize("seed", [None, 7, 8], ids=["as-captured", "rechunked-7", "rechunked-8"])
async def test_replayed_session_parses_every_response_list_and_event_as_captured(
    name: str, seed: int | None
) -> None:
    records = load(name)
    server = AMIReplayServer(records, seed=seed)
    await server.start()
    events: list[AMIMessage] = []
    try:
        connection = await AMIConnection.open(
            "127.0.0.1", server.port, connect_timeout=5, on_event=events.append
        )
        tasks: list[asyncio.Task[AMIResponse]] = []
        for action_name, action_id, headers in captured_actions(records):
            tasks.append(
                asyncio.create_task(connection.request(action_name, action_id, headers, 10))
            )
            await asyncio.sleep(0)  # written in capture order
        results = await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.wait_for(server.done.wait(), 5)
        await asyncio.wait_for(connection.wait_closed(), 5)
    finally:
        await server.stop()
    assert server.mismatches == []
    assert bytes(server.received) == stream(records, "out")  # our bytes = the captured bytes

    _, frames = independent_frames(stream(records, "in"))
    list_ids = {dict(f)["ActionID"] for f in frames if dict(f).get("EventList") == "start"}
    responses = {dict(f)["ActionID"]: f for f in frames if f[0][0] == "Response"}
    items: dict[str, list[list[tuple[str, str]]]] = {}
    completes: dict[str, list[tuple[str, str]]] = {}
    expected_events = []
    for frame in frames:
        fields = dict(frame)
        if frame[0][0] != "Event":
            continue
        if fields.get("ActionID") in list_ids:
            if fields.get("EventList") == "Complete":
                completes[fields["ActionID"]] = frame
            else:
                items.setdefault(fields["ActionID"], []).append(frame)
        else:
            expected_events.append(frame)

    assert [list(e.headers) for e in events] == expected_events
    for (action_name, action_id, _), result in zip(captured_actions(records), results, strict=True):
        if action_id not in responses:
            # Only the Ping after the failed login: Asterisk had closed the socket.
            assert not isinstance(result, AMIResponse)
            continue
        assert isinstance(result, AMIResponse), (action_name, result)
        assert list(result.message.headers) == responses[action_id]
        assert [list(i.headers) for i in result.items] == items.get(action_id, [])
        if action_id in list_ids:
            assert result.complete is not None
            assert list(result.complete.headers) == completes[action_id]
            listed = result.complete.get("ListItems")
            assert listed is None or int(listed) == len(result.items)


async def test_polish_caller_name_arrives_whole_in_typed_events() -> None:
    records = load("ami-session-queue-flow")
    server = AMIReplayServer(records, seed=3)
    await server.start()
    events: list[AMIMessage] = []
    try:
        connection = await AMIConnection.open(
            "127.0.0.1", server.port, connect_timeout=5, on_event=events.append
        )
        tasks = [
            asyncio.create_task(connection.request(n, i, h, 10))
            for n, i, h in captured_actions(records)
        ]
        await asyncio.gather(*tasks, return_exceptions=True)
        await connection.wait_closed()
    finally:
        await server.stop()
    typed = [parse_event(e) for e in events]
    polish = [e for e in typed if isinstance(e, Newchannel) and e.caller_id_name == "Łukasz Żółć"]
    assert len(polish) == 1
    assert polish[0].caller_id_num == "+48600123456"
    bye = [e for e in typed if isinstance(e, HangupRequest) and e.cause is None]
    assert bye  # a SIP BYE gives HangupRequest without Cause
    assert any(isinstance(e, DialEnd) and e.dial_status == "BUSY" for e in typed)
    assert not any(isinstance(e, UnknownEvent) and e.name == "Newchannel" for e in typed)


def test_typed_actions_encode_exactly_as_captured() -> None:
    captured = {r.data for name in AMI_SESSIONS for r in load(name) if r.direction == "out"}
    typed = [
        ("kck-1", act.Login(username="kck", secret="kcksecret")),
        (
            "kck-6",
            act.Originate(
                channel="Local/126165555@kck-inbound",
                application="Record",
                data="/tmp/kck-qf-queue-answered.wav,0,180,qkx",
                caller_id='"KCK Queue Answered" <0299990021>',
                timeout_ms=30000,
            ),
        ),
        (
            "kck-16",
            act.Originate(
                channel="Local/126165555@kck-inbound",
                application="MusicOnHold",
                data="default,120",
                caller_id='"KCK Lab" <0299990000>',
                timeout_ms=30000,
                variables={"KCK_ORIGIN": "ami"},
            ),
        ),
        ("kck-9", act.Hangup(channel="Local/126165555@kck-inbound-00000022;1")),
        ("kck-26", act.Hangup(channel="Local/126165555@kck-inbound-00000001;2", cause=16)),
        ("kck-17", act.Getvar(channel="PJSIP/sipp-00000010", variable="CHANNEL(rtcp,txcount)")),
        ("kck-10", act.Getvar(variable="KCK_GLOBAL")),
        ("kck-9", act.Setvar(variable="KCK_GLOBAL", value="42")),
        (
            "kck-21",
            act.Setvar(
                channel="Local/126165555@kck-inbound-00000000;2",
                variable="KCK_FROM_AMI",
                value="set-by-ami",
            ),
        ),
        (
            "kck-22",
            act.MixMonitor(
                channel="Local/126165555@kck-inbound-00000000;2", file="/tmp/kck-mixmon-basic.wav"
            ),
        ),
        (
            "kck-35",
            act.MixMonitor(
                channel="Local/126165555@kck-inbound-00000005;2",
                file="/tmp/kck-mixmon-queue.wav",
                options="b",
            ),
        ),
        (
            "kck-rec-3",
            act.MixMonitor(
                channel="Local/caller@lab-00000000;2",
                file="/tmp/kck-rec-cap/recordings/capture.wav",
                options="b",
            ),
        ),
        (
            "kck-rec-4",
            act.MixMonitorMute(channel="Local/caller@lab-00000000;2", direction="both", state=True),
        ),
        (
            "kck-rec-5",
            act.MixMonitorMute(
                channel="Local/caller@lab-00000000;2", direction="both", state=False
            ),
        ),
        (
            "kck-25",
            act.Redirect(
                channel="Local/126165555@kck-inbound-00000001;2",
                context="kck-lab",
                exten="moh",
                priority="1",
            ),
        ),
        ("kck-3", act.Command(command="core show version")),
        ("kck-3", act.PJSIPShowEndpoint(endpoint="sipp")),
        ("kck-4", act.DeviceStateList()),
        ("kck-6", act.CoreShowChannels()),
        ("kck-7", act.QueueStatus()),
        ("kck-2", act.Ping()),
    ]
    for action_id, action in typed:
        encoded = encode_action(action.action_name, action_id, action.headers())
        assert encoded in captured, encoded


def test_actions_that_change_calls_are_not_idempotent() -> None:
    assert not act.Originate.idempotent
    assert not act.Redirect.idempotent
    assert not act.Hangup.idempotent
    assert not act.MixMonitor.idempotent
    assert act.Getvar.idempotent and act.Ping.idempotent and act.CoreShowChannels.idempotent


def test_play_dtmf_as_if_pressed_on_the_channel_names_one_digit() -> None:
    """Asterisk 22 `manager show command PlayDTMF`: Channel, Digit, [Duration], [Receive]."""
    action = act.PlayDTMF(channel="PJSIP/101-00000001", digit="1", receive=True)
    assert encode_action(action.action_name, "a1", action.headers()) == (
        b"Action: PlayDTMF\r\nActionID: a1\r\nChannel: PJSIP/101-00000001\r\nDigit: 1\r\n"
        b"Receive: true\r\n\r\n"
    )
    assert ("Receive", "true") not in act.PlayDTMF(channel="PJSIP/1-1", digit="#").headers()
    assert not act.PlayDTMF.idempotent  # a digit sent twice is two digits
    for bad in ("", "12", "x"):
        with pytest.raises(ValueError, match="one DTMF digit"):
            act.PlayDTMF(channel="PJSIP/1-1", digit=bad).headers()


def test_header_values_cannot_inject_a_second_action() -> None:
    with pytest.raises(ValueError, match="one line"):
        encode_action("Getvar", "x", [("Variable", "A\r\n\r\nAction: Hangup")])


@pytest.mark.parametrize("name", AMI_SESSIONS)
def test_every_captured_event_becomes_its_typed_class(name: str) -> None:
    from asterisk.ami.events import EVENT_CLASSES

    reader = AMIFrameReader()
    messages = [m for m in reader.feed(stream(load(name), "in")) if isinstance(m, AMIMessage)]
    for message in messages:
        if message.get("Event") is None:
            continue
        typed = parse_event(message)
        expected = EVENT_CLASSES.get(message["Event"].lower(), UnknownEvent)
        assert type(typed) is expected
        for attribute in ("cause", "channel_state", "duration_ms", "position", "hold_time"):
            value = getattr(typed, attribute, None)
            if value is not None:
                assert isinstance(value, int)


async def test_captured_answers_read_through_the_typed_result() -> None:
    records = load("ami-session")
    server = AMIReplayServer(records, seed=11)
    await server.start()
    try:
        connection = await AMIConnection.open(
            "127.0.0.1", server.port, connect_timeout=5, on_event=lambda _m: None
        )
        tasks = {
            action_id: asyncio.create_task(connection.request(n, action_id, h, 10))
            for n, action_id, h in captured_actions(records)
        }
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        await connection.wait_closed()
    finally:
        await server.stop()
    results = {action_id: task.result() for action_id, task in tasks.items()}
    assert results["kck-3"].output[0].startswith("Asterisk 22.10.1 built by root")
    module_lines = results["kck-15"].output  # Command: module show like res_agi
    assert len(module_lines) == 3 and module_lines[-1] == "1 modules loaded"
    unset = [r for r in results.values() if r.action == "Getvar" and r.get("Value") == ""]
    assert unset  # an unset variable answers an empty Value:
    missing = [r for r in results.values() if not r.success]
    assert {r.text for r in missing} >= {"No such channel"}
    assert results["kck-42"].message.name == "Goodbye"


def test_invalid_utf8_becomes_replacement_characters_not_an_error() -> None:
    reader = AMIFrameReader(expect_banner=False)
    (message,) = reader.feed(b"Event: VarSet\r\nValue: a\xff\xc5b\r\n\r\n")
    assert isinstance(message, AMIMessage)
    assert message.get("Value") == "a\ufffd\ufffdb"


def test_a_recording_ends_with_the_hangup_of_its_channel_and_no_mixmonitor_stop() -> None:
    """What kck's recorder relies on (capture ami-session-mixmonitor): MixMonitorStart and
    MixMonitorMute arrive typed, nothing says the recording stopped but the channel's Hangup, and
    a pause asked for after the hang-up is answered `No such channel`."""
    from asterisk.ami.events import Hangup, MixMonitorMute, MixMonitorStart, MixMonitorStop

    records = load("ami-session-mixmonitor")
    messages = [
        m for m in AMIFrameReader().feed(stream(records, "in")) if isinstance(m, AMIMessage)
    ]
    typed = [parse_event(m) for m in messages if m.get("Event")]
    caller = "Local/caller@lab-00000000;2"
    on_caller = [e for e in typed if getattr(e, "channel", None) == caller]
    kinds = [type(e) for e in on_caller if type(e) in (MixMonitorStart, MixMonitorMute, Hangup)]
    assert kinds == [MixMonitorStart, MixMonitorMute, MixMonitorMute, Hangup]
    mutes = [e for e in on_caller if isinstance(e, MixMonitorMute)]
    assert [(m.direction, m.muted) for m in mutes] == [("both", True), ("both", False)]
    assert not any(isinstance(e, MixMonitorStop) for e in typed)
    late = [m for m in messages if m.get("ActionID") == "kck-rec-7"]
    assert [(m.get("Response"), m.get("Message")) for m in late] == [("Error", "No such channel")]
