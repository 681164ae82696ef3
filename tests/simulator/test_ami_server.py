"""The simulator's AMI server answers like Asterisk 22: compared with the captured sessions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path

import pytest

from demo.simulator import (
    AMIUser,
    CallerScript,
    DigitPress,
    PBXSimulator,
    PhoneBehaviour,
    PhoneMode,
)

from .agi_script_server import ScriptedAGIServer
from .ami_test_client import Message, RawAMIClient, names, value
from .fixtures import ami_messages, fixtures_dir

SPEED = 40.0


@cache
def captured(file: str = "ami-session.jsonl") -> list[tuple[str, list[tuple[str, str]]]]:
    return [(d, h) for _, d, h in ami_messages(fixtures_dir() / file)]


def captured_response(
    action: str,
    file: str = "ami-session.jsonl",
    *,
    nth: int = 0,
    match: dict[str, str] | None = None,
    **more: str,
) -> list[list[tuple[str, str]]]:
    """The captured answer to the `nth` such action (the Response and its list items)."""
    match = {**(match or {}), **more}
    msgs = captured(file)
    for i, (d, h) in enumerate(msgs):
        hd = dict(h)
        if (
            d == "out"
            and hd.get("Action") == action
            and all(hd.get(k) == v for k, v in match.items())
        ):
            if nth:
                nth -= 1
                continue
            aid = hd["ActionID"]
            out = []
            for d2, h2 in msgs[i + 1 :]:
                if d2 == "in" and ("ActionID", aid) in h2:
                    out.append(h2)
                    if dict(h2).get("EventList") == "Complete" or (
                        "EventList" not in dict(h2) and h2[0][0] == "Response"
                    ):
                        break
            return out
    raise LookupError(action)


@cache
def captured_shapes() -> dict[str, set[tuple[str, ...]]]:
    """Every header-name list seen per event name in the three AMI captures."""
    shapes: dict[str, set[tuple[str, ...]]] = {}
    for file in (
        "ami-session.jsonl",
        "ami-session-sip.jsonl",
        "ami-session-queue-flow.jsonl",
        "ami-session-mixmonitor.jsonl",
    ):
        for d, h in captured(file):
            if d == "in" and h[0][0] == "Event":
                shapes.setdefault(h[0][1], set()).add(tuple(k for k, _ in h))
    return shapes


def without_values(msgs: list[Message]) -> list[list[str]]:
    return [names(m) for m in msgs]


@pytest.fixture
async def pbx() -> AsyncIterator[PBXSimulator]:
    sim = PBXSimulator(
        agi_url="agi://127.0.0.1:9/ivr",
        speed=SPEED,
        users={
            "kck": "kcksecret",
            "reader": AMIUser("readersecret", read=frozenset({"call"}), write=frozenset()),
        },
    )
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def ami(pbx: PBXSimulator) -> AsyncIterator[RawAMIClient]:
    client = await RawAMIClient.connect(pbx.ami_port)
    await client.login()
    yield client
    await client.close()


async def test_banner_and_login_look_like_asterisk(pbx: PBXSimulator) -> None:
    client = await RawAMIClient.connect(pbx.ami_port)
    assert client.banner == b"Asterisk Call Manager/11.0.0\r\n"
    got = await client.login()
    want = [h for d, h in captured()[:4] if d == "in"]
    assert without_values(got) == without_values(want)
    assert got[0] == [
        ("Response", "Success"),
        ("ActionID", "kck-1"),
        ("Message", "Authentication accepted"),
    ]
    assert value(got[1], "Status") == "Fully Booted"
    assert client.raw.endswith(b"\r\n\r\n") and b"\r\n" in client.raw
    await client.close()


async def test_failed_login_is_answered_then_the_socket_is_closed(pbx: PBXSimulator) -> None:
    client = await RawAMIClient.connect(pbx.ami_port)
    await client.send(
        ("Action", "Login"),
        ("ActionID", "kck-1"),
        ("Username", "kck"),
        ("Secret", "wrong-password"),
    )
    answer = await client.read()
    assert answer == [
        ("Response", "Error"),
        ("ActionID", "kck-1"),
        ("Message", "Authentication failed"),
    ]
    assert await client.read() is None  # EOF: no further action is answered


async def test_actions_before_login_are_refused(pbx: PBXSimulator) -> None:
    client = await RawAMIClient.connect(pbx.ami_port)
    await client.send(("Action", "CoreShowChannels"), ("ActionID", "x"))
    assert await client.read() == [
        ("Response", "Error"),
        ("ActionID", "x"),
        ("Message", "Permission denied"),
    ]
    await client.close()


@pytest.mark.parametrize(
    ("action", "extra", "match"),
    [
        ("Ping", (), {}),
        ("Getvar", (("Variable", "KCK_NOT_SET"),), {"Variable": "KCK_NOT_SET"}),
        (
            "Getvar",
            (("Channel", "Local/nonexistent-00000000;1"), ("Variable", "FOO")),
            {"Variable": "FOO"},
        ),
        ("Setvar", (("Variable", "KCK_GLOBAL"), ("Value", "42")), {"Variable": "KCK_GLOBAL"}),
        ("NoSuchAction", (), {}),
        ("CoreShowChannels", (), {}),
        ("Command", (("Command", "core show version"),), {"Command": "core show version"}),
        ("CoreSettings", (), {}),
    ],
)
async def test_action_answer_has_the_captured_shape(
    ami: RawAMIClient, action: str, extra: tuple[tuple[str, str], ...], match: dict[str, str]
) -> None:
    want = captured_response(action, match=match)
    await ami.send(("Action", action), ("ActionID", "t-1"), *extra)
    got = await ami.read_until(
        lambda m: (
            (names(m)[0] == "Response" and "EventList" not in names(m))
            or value(m, "EventList") == "Complete"
        )
    )
    got = [m for m in got if value(m, "ActionID") == "t-1"]
    assert without_values(got) == without_values(want)
    if action in ("Getvar", "Setvar", "NoSuchAction", "CoreShowChannels"):
        strip = [[(k, v) for k, v in m if k != "ActionID"] for m in got]
        assert strip == [[(k, v) for k, v in m if k != "ActionID"] for m in want]


async def test_logoff_says_goodbye_and_closes(ami: RawAMIClient) -> None:
    await ami.send(("Action", "Logoff"), ("ActionID", "bye"))
    msgs = await ami.read_until(lambda m: names(m)[0] == "Response")
    assert msgs[-1] == [
        ("Response", "Goodbye"),
        ("ActionID", "bye"),
        ("Message", "Thanks for all the fish."),
    ]
    assert await ami.read() is None


async def test_device_state_list_reports_phones_like_asterisk(
    pbx: PBXSimulator, ami: RawAMIClient
) -> None:
    pbx.add_phone("101")
    pbx.add_phone("102", PhoneBehaviour(PhoneMode.UNREGISTERED))
    await ami.send(("Action", "DeviceStateList"), ("ActionID", "d-1"))
    got = await ami.read_until(lambda m: value(m, "EventList") == "Complete")
    want = captured_response("DeviceStateList", file="ami-session-queue-flow.jsonl")
    assert names(got[0]) == names(want[0])
    assert {tuple(names(m)) for m in got[1:-1]} == {tuple(names(m)) for m in want[1:-1]}
    assert names(got[-1]) == names(want[-1])
    states = {value(m, "Device"): value(m, "State") for m in got[1:-1]}
    assert states == {
        "PJSIP/sipp": "NOT_INUSE",
        "PJSIP/101": "NOT_INUSE",
        "PJSIP/102": "UNAVAILABLE",
    }
    assert value(got[-1], "ListItems") == "3"


async def test_queue_status_lists_the_fallback_queue_with_every_phone(
    pbx: PBXSimulator, ami: RawAMIClient
) -> None:
    pbx.add_phone("101")
    pbx.add_phone("102")
    await ami.send(("Action", "QueueStatus"), ("ActionID", "q-1"))
    got = await ami.read_until(lambda m: value(m, "EventList") == "Complete")
    want = captured_response("QueueStatus")
    assert names(got[0]) == names(want[0])
    assert names(got[1]) == names(want[1])  # QueueParams
    assert names(got[2]) == names(want[2])  # QueueMember
    assert [value(m, "Location") for m in got[2:-1]] == ["PJSIP/101", "PJSIP/102"]
    assert value(got[-1], "ListItems") == "3"


async def test_pjsip_show_endpoints_lists_trunk_and_phones(
    pbx: PBXSimulator, ami: RawAMIClient
) -> None:
    pbx.add_phone("101")
    await ami.send(("Action", "PJSIPShowEndpoints"), ("ActionID", "p-1"))
    got = await ami.read_until(lambda m: value(m, "EventList") == "Complete")
    assert got[0][:3] == [("Response", "Success"), ("ActionID", "p-1"), ("EventList", "start")]
    assert [value(m, "ObjectName") for m in got[1:-1]] == ["sipp", "101"]
    assert all(value(m, "ActionID") == "p-1" for m in got[1:])
    assert got[-1] == [
        ("Event", "EndpointListComplete"),
        ("ActionID", "p-1"),
        ("EventList", "Complete"),
        ("ListItems", "2"),
    ]


async def test_reader_without_write_privilege_cannot_hang_up(pbx: PBXSimulator) -> None:
    client = await RawAMIClient.connect(pbx.ami_port)
    await client.send(
        ("Action", "Login"), ("ActionID", "1"), ("Username", "reader"), ("Secret", "readersecret")
    )
    first = await client.read()
    assert value(first or [], "Message") == "Authentication accepted"
    await client.send(("Action", "Hangup"), ("ActionID", "2"), ("Channel", "PJSIP/x-00000001"))
    msgs = await client.read_until(lambda m: value(m, "ActionID") == "2")
    assert value(msgs[-1], "Message") == "Permission denied"
    await client.close()


async def test_malformed_and_oversized_input_does_not_break_the_server(pbx: PBXSimulator) -> None:
    client = await RawAMIClient.connect(pbx.ami_port)
    client.writer.write(b"\xff\xfe garbage without colon\r\n\r\n\r\n\r\n")
    await client.login()
    client.writer.write(b"X" * (70 * 1024))  # no frame end: the server gives up on us
    await client.writer.drain()
    while await client.read(5) is not None:
        pass
    other = await RawAMIClient.connect(pbx.ami_port)  # and still serves others
    assert value((await other.login())[0], "Response") == "Success"
    await other.close()


async def call_through_ami(
    pbx: PBXSimulator, ami: RawAMIClient, steps: list[str | tuple[str, float]], script: CallerScript
) -> tuple[list[Message], ScriptedAGIServer]:
    server = ScriptedAGIServer(steps, SPEED, linger=0.5)
    await server.start()
    pbx.set_agi_urls(server.url)
    call = pbx.place_call(script)
    msgs = await ami.read_until(
        lambda m: value(m, "Event") == "Hangup" and value(m, "Channel") == call.channel.name,
        wait=20,
    )
    await asyncio.wait_for(call, 10)
    await server.stop()
    return msgs, server


async def test_every_event_of_a_full_call_has_a_captured_shape(
    pbx: PBXSimulator, ami: RawAMIClient, tmp_path: Path
) -> None:
    pbx.add_phone("101", PhoneBehaviour(PhoneMode.ANSWER, answer_after=1.0, talk_for=2.0))
    pbx.add_phone("102", PhoneBehaviour(PhoneMode.BUSY))
    steps: list[str | tuple[str, float]] = [
        "ANSWER",
        'STREAM FILE pls-hold-while-try "12"',
        "SET MUSIC ON default",
        ("idle", 1.0),
        "GET DATA beep 3000 2",
        "EXEC Dial PJSIP/102,20",
        "EXEC Dial PJSIP/101,20",
        "SET VARIABLE KCK_DONE 1",
        f"RECORD FILE {tmp_path}/rec wav # 2000 0 BEEP s=1",
        "HANGUP",
    ]
    msgs, _ = await call_through_ami(
        pbx,
        ami,
        steps,
        CallerScript(
            number="+48600123456",
            name="Łukasz Żółć",
            digits=(DigitPress("1", 0.5), DigitPress("42", 0.3)),
        ),
    )
    shapes = captured_shapes()
    seen = set()
    for m in msgs:
        if names(m)[0] != "Event":
            continue
        event = m[0][1]
        seen.add(event)
        assert tuple(names(m)) in shapes[event], f"{event}: {names(m)}"
    assert {
        "Newchannel",
        "VarSet",
        "Newexten",
        "Newstate",
        "AGIExecStart",
        "AGIExecEnd",
        "DTMFBegin",
        "DTMFEnd",
        "MusicOnHoldStart",
        "MusicOnHoldStop",
        "DialBegin",
        "DialState",
        "DialEnd",
        "BridgeCreate",
        "BridgeEnter",
        "BridgeLeave",
        "BridgeDestroy",
        "HangupRequest",
        "SoftHangupRequest",
        "Hangup",
        "DeviceStateChange",
    } <= seen
    assert "Łukasz Żółć" in (value(msgs[0], "CallerIDName") or "")
    assert (tmp_path / "rec.wav").exists()


async def test_core_show_channels_lists_a_live_call_with_its_application(
    pbx: PBXSimulator, ami: RawAMIClient, tmp_path: Path
) -> None:
    mixmon = tmp_path / "mixmon.wav"
    server = ScriptedAGIServer(["ANSWER", "SET MUSIC ON default", ("idle", 20.0)], SPEED)
    await server.start()
    pbx.set_agi_urls(server.url)
    call = pbx.place_call(CallerScript(number="+48600111222", channel="Local"))
    await ami.read_until(lambda m: value(m, "Event") == "MusicOnHoldStart", wait=10)
    await ami.send(("Action", "CoreShowChannels"), ("ActionID", "c-1"))
    got = await ami.read_until(lambda m: value(m, "Event") == "CoreShowChannelsComplete")
    items = [m for m in got if value(m, "Event") == "CoreShowChannel"]
    want = captured_response("CoreShowChannels", nth=1)[1]
    assert {tuple(names(m)) for m in items} == {tuple(names(want))}
    by_name = {value(m, "Channel"): m for m in items}
    assert value(by_name[call.channel.name], "Application") == "AGI"
    assert value(by_name[call.channel.name], "Linkedid") == value(
        by_name[call.channel.name.replace(";2", ";1")], "Uniqueid"
    )
    # Getvar / Setvar on the live channel, MixMonitor, Hangup
    await ami.send(
        ("Action", "Getvar"),
        ("ActionID", "g"),
        ("Channel", call.channel.name),
        ("Variable", "CALLERID(num)"),
    )
    got = await ami.read_until(lambda m: value(m, "ActionID") == "g")
    assert got[-1] == [
        ("Response", "Success"),
        ("ActionID", "g"),
        ("Variable", "CALLERID(num)"),
        ("Value", "+48600111222"),
    ]
    await ami.send(
        ("Action", "MixMonitor"),
        ("ActionID", "m"),
        ("Channel", call.channel.name),
        ("File", str(mixmon)),
    )
    got = await ami.read_until(lambda m: value(m, "Event") == "MixMonitorStart")
    assert [("Response", "Success"), ("ActionID", "m")] in got
    await ami.send(("Action", "StopMixMonitor"), ("ActionID", "s"), ("Channel", call.channel.name))
    got = await ami.read_until(lambda m: value(m, "Event") == "MixMonitorStop")
    assert tuple(names(got[-1])) in captured_shapes()["MixMonitorStop"]
    await ami.send(
        ("Action", "Hangup"), ("ActionID", "h"), ("Channel", call.channel.name), ("Cause", "16")
    )
    got = await ami.read_until(lambda m: value(m, "ActionID") == "h")
    assert got[-1] == [("Response", "Success"), ("ActionID", "h"), ("Message", "Channel Hungup")]
    outcome = await asyncio.wait_for(call, 10)
    assert outcome.hung_up_by == "pbx"
    await server.stop()
    assert mixmon.exists()


async def test_originate_of_the_hotline_places_a_local_agi_call(
    pbx: PBXSimulator, ami: RawAMIClient
) -> None:
    server = ScriptedAGIServer(["ANSWER", "SET VARIABLE KCK_DONE 1"], SPEED, linger=0.2)
    await server.start()
    pbx.set_agi_urls(server.url)
    await ami.send(
        ("Action", "Originate"),
        ("ActionID", "o-1"),
        ("Channel", "Local/126165555@kck-inbound"),
        ("Application", "Wait"),
        ("Data", "40"),
        ("CallerID", '"KCK Lab" <0299990000>'),
        ("Timeout", "30000"),
        ("Async", "true"),
    )
    got = await ami.read_until(lambda m: value(m, "Event") == "OriginateResponse", wait=10)
    want = captured_response("Originate", Data="40")
    assert got[0] == [
        ("Response", "Success"),
        ("ActionID", "o-1"),
        ("Message", "Originate successfully queued"),
    ]
    assert names(got[-1]) == names(
        captured("ami-session.jsonl")[
            [i for i, (d, h) in enumerate(captured()) if h[0] == ("Event", "OriginateResponse")][1]
        ][1]
    )
    assert (value(got[-1], "Channel") or "").endswith(";1")
    assert want[0][0] == ("Response", "Success")
    await ami.read_until(
        lambda m: value(m, "Event") == "Hangup" and (value(m, "Channel") or "").endswith(";2"),
        wait=10,
    )
    assert server.sessions and "agi_type: Local" in server.sessions[0].env
    await server.stop()


async def test_login_event_mask_limits_the_event_classes(pbx: PBXSimulator) -> None:
    client = await RawAMIClient.connect(pbx.ami_port)
    await client.send(
        ("Action", "Login"),
        ("ActionID", "1"),
        ("Username", "kck"),
        ("Secret", "kcksecret"),
        ("Events", "agent"),
    )
    assert value(await client.read() or [], "Message") == "Authentication accepted"
    pbx.add_phone("101")  # DeviceStateChange is class "call"
    pbx.events.device_state("PJSIP/101", "INUSE")
    await client.send(("Action", "Ping"), ("ActionID", "p"))
    msgs = await client.read_until(lambda m: value(m, "ActionID") == "p")
    assert [names(m)[0] for m in msgs] == ["Response"]
    await client.close()


async def test_random_bytes_on_ami_and_agi_leave_the_simulator_serving(pbx: PBXSimulator) -> None:
    import random

    rng = random.Random(11)
    alphabet = [b"\r\n", b"\n", b": ", b"Action", b"Login", b"\xc5\x81", b"\xff", b"x" * 50]
    for _ in range(5):
        client = await RawAMIClient.connect(pbx.ami_port)
        for _ in range(200):
            client.writer.write(b"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8))))
        await client.writer.drain()
        await client.close()

    # a FastAGI "server" that answers the simulator's environment with noise, then closes
    async def noise(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\n\n")
        for _ in range(100):
            writer.write(b"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8))) + b"\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(noise, "127.0.0.1", 0)
    pbx.set_agi_urls(f"agi://127.0.0.1:{server.sockets[0].getsockname()[1]}/ivr")
    pbx.add_phone("101", PhoneBehaviour(PhoneMode.ANSWER, answer_after=1.0, talk_for=1.0))
    outcome = await asyncio.wait_for(pbx.place_call(CallerScript()), 20)
    server.close()
    assert outcome.agi_status in ("SUCCESS", "HANGUP")
    other = await RawAMIClient.connect(pbx.ami_port)
    await other.login()
    await other.send(("Action", "Ping"), ("ActionID", "alive"))
    pong = await other.read_until(lambda m: value(m, "ActionID") == "alive")
    assert value(pong[-1], "Ping") == "Pong"
    await other.close()


async def test_user_outside_its_permitted_network_cannot_log_in() -> None:
    sim = PBXSimulator(
        speed=SPEED,
        users={
            "far": AMIUser("farsecret-123", permit=("10.9.0.0/16",)),
            "near": AMIUser("nearsecret-123", permit=("127.0.0.0/8",)),
        },
    )
    await sim.start()
    try:
        far = await RawAMIClient.connect(sim.ami_port)
        await far.send(
            ("Action", "Login"), ("ActionID", "1"), ("Username", "far"), ("Secret", "farsecret-123")
        )
        assert value(await far.read() or [], "Message") == "Authentication failed"
        near = await RawAMIClient.connect(sim.ami_port)
        assert value((await near.login("near", "nearsecret-123"))[0], "Response") == "Success"
        await near.close()
    finally:
        await sim.stop()
