"""Every captured FastAGI session replayed against our server over real TCP, byte for byte."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from asterisk.agi import AGIReply, AGISession, DigitsResult, FastAGIServer, RecordResult
from tests.asterisk.agi_replay import (
    HANGUP_LINE,
    ScriptedRoute,
    hangup_sent_promptly,
    play_asterisk_side,
    route_steps,
)
from tests.asterisk.transcripts import Record, load, names, stream

AGI_SESSIONS = names("agi-session-")


class RouteSlot:
    """The server's route for one test: a `ScriptedRoute`, or a test's own."""

    def __init__(self) -> None:
        self.route: Callable[[AGISession], Awaitable[None]] | None = None

    async def __call__(self, session: AGISession) -> None:
        assert self.route is not None
        await self.route(session)


@pytest.fixture
async def agi_server() -> AsyncIterator[tuple[FastAGIServer, RouteSlot]]:
    slot = RouteSlot()
    # The captured script never confirmed KCK_DONE (the lab dialplan had no such contract).
    server = FastAGIServer(
        host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"], done_variable=None
    )
    server.add_route("ivr", slot)
    await server.start()
    try:
        yield server, slot
    finally:
        await server.stop()


def expected_replies(records: list[Record]) -> list[str]:
    """The reply to each command: what Asterisk sent until the next command, minus HANGUPs."""
    replies: list[str] = []
    current: bytearray | None = None
    for record in records:
        if record.direction == "out":
            if current is not None:
                replies.append(_without_hangup(current))
            current = bytearray()
        elif record.direction == "in" and current is not None:
            current += record.data
    assert current is not None
    replies.append(_without_hangup(current))
    return replies


def _without_hangup(data: bytearray) -> str:
    lines = bytes(data).decode("utf-8").split("\n")
    return "\n".join(line for line in lines if line and line != "HANGUP")


def test_every_agi_transcript_is_covered() -> None:
    assert len(AGI_SESSIONS) >= 16


@pytest.mark.parametrize("name", AGI_SESSIONS)
async def test_raw_commands_in_captured_order_write_captured_bytes_and_get_their_own_reply(
    agi_server: tuple[FastAGIServer, RouteSlot], name: str
) -> None:
    server, slot = agi_server
    records = load(name)
    route = ScriptedRoute(route_steps(records), typed=False)
    slot.route = route
    played = [r for r in records if r.direction != "note"]
    written = await play_asterisk_side(server.port, played)
    assert written == stream(records, "out")
    replies = expected_replies(records)
    assert len(route.outcomes) == len(replies)
    for (kind, value), expected in zip(route.outcomes, replies, strict=True):
        code = int(expected[:3])
        if code == 511:
            assert kind == "hung_up", expected
        elif code in (510, 520):
            assert (kind, value) == ("error", code)
        else:
            # The reply read is this command's own: a HANGUP line in between never shifts it.
            assert kind == "ok"
            assert isinstance(value, AGIReply)
            assert value.raw == expected
    # Everything Asterisk sent before the capture's half-close reached the route in time.
    half_close = [i for i, r in enumerate(records) if "half-closes" in r.note]
    before_close = records[: half_close[0]] if half_close else records
    assert route.hung_up_at_end == (HANGUP_LINE in stream(before_close, "in"))


@pytest.mark.parametrize("name", AGI_SESSIONS)
async def test_typed_helpers_write_captured_bytes_when_hangup_is_sent_promptly(
    agi_server: tuple[FastAGIServer, RouteSlot], name: str
) -> None:
    server, slot = agi_server
    records = load(name)
    route = ScriptedRoute(route_steps(records), typed=True)
    slot.route = route
    written = await play_asterisk_side(server.port, hangup_sent_promptly(records))
    assert written == stream(records, "out")
    assert len(route.outcomes) == len(route_steps(records)) - len(route.idle_saw_hangup)


async def replay_typed(agi_server: tuple[FastAGIServer, RouteSlot], name: str) -> ScriptedRoute:
    server, slot = agi_server
    records = load(name)
    route = ScriptedRoute(route_steps(records), typed=True)
    slot.route = route
    await play_asterisk_side(server.port, hangup_sent_promptly(records))
    return route


async def test_basic_session_outcomes_match_asterisk_replies(
    agi_server: tuple[FastAGIServer, RouteSlot],
) -> None:
    route = await replay_typed(agi_server, "agi-session-basic")
    assert route.outcomes == [
        ("ok", None),  # ANSWER
        ("ok", "1795526838"),  # GET VARIABLE KCK_INBOUND
        ("ok", None),  # STREAM FILE played to the end
        ("ok", DigitsResult(digits="", timed_out=True)),  # 200 result= (timeout)
        ("ok", None),  # SET VARIABLE
        ("ok", "hello from fastagi"),
        ("ok", "Local/126165555@kck-inbound-00000000;2|1795526838.1|hello from fastagi"),
        ("ok", 6),  # CHANNEL STATUS
        ("ok", RecordResult(digit=None, reason="timeout", endpos=16000)),
        ("ok", 0),  # EXEC Playback
        ("ok", None),  # VERBOSE
        ("ok", None),  # HANGUP
        ("ok", "hello from fastagi"),  # still answered after the hang-up
    ]
    assert route.hung_up_after[-2:] == [True, True]


async def test_errors_session_gives_typed_510_520_and_failures(
    agi_server: tuple[FastAGIServer, RouteSlot],
) -> None:
    route = await replay_typed(agi_server, "agi-session-errors")
    outcomes = route.outcomes
    assert outcomes[2] == ("error", 510)  # FOOBAR baz
    assert outcomes[3] == ("error", 520)  # STREAM FILE without arguments, multi-line usage
    assert outcomes[4] == ("error", 520)  # GET DATA
    assert outcomes[5] == ("error", 520)  # SET VARIABLE ONLYNAME
    assert outcomes[6] == ("error", 520)  # WAIT FOR DIGIT
    assert outcomes[7] == ("error", 200)  # EXEC NoSuchApplication → result=-2
    assert outcomes[8] == ("error", 520)  # EXEC
    assert outcomes[9] == ("ok", None)  # GET VARIABLE of an unset variable
    assert outcomes[10] == ("error", 200)  # missing sound: result=-1 without HANGUP
    assert outcomes[11] == ("ok", None)  # demo-thanks with an offset
    assert outcomes[12] == ("ok", None)  # WAIT FOR DIGIT 200 timed out
    assert not any(route.hung_up_after)


async def test_usage_text_of_520_is_kept_in_the_error(
    agi_server: tuple[FastAGIServer, RouteSlot],
) -> None:
    server, slot = agi_server
    records = load("agi-session-errors")
    messages: list[str] = []

    async def route(session: AGISession) -> None:
        for step in route_steps(records):
            assert step.command is not None
            try:
                await session.command(step.command)
            except Exception as exc:
                messages.append(str(exc))

    slot.route = route
    await play_asterisk_side(server.port, [r for r in records if r.direction != "note"])
    usage = [m for m in messages if "520" in m]
    assert len(usage) == 5
    assert "Send the given file" in usage[0]
    assert "<value>FAILED</value>" in usage[0]
    assert "'STREAM FILE'" in usage[0]


@pytest.mark.parametrize(
    "name",
    [
        "agi-session-hangup-stream",
        "agi-session-hangup-wait",
        "agi-session-redirect",
        "agi-session-sipbye",
    ],
)
async def test_command_cut_by_hangup_or_redirect_raises_caller_hung_up_then_511s(
    agi_server: tuple[FastAGIServer, RouteSlot], name: str
) -> None:
    route = await replay_typed(agi_server, name)
    assert route.outcomes[0] == ("ok", None)  # ANSWER
    assert route.outcomes[1] == ("hung_up", None)  # result=-1 + HANGUP (also for Redirect)
    assert route.outcomes[2][0] == "ok"  # GET VARIABLE still answered
    assert route.outcomes[3] == ("ok", None)  # NOOP still answered
    assert route.outcomes[4] == ("hung_up", None)  # STREAM FILE → 511
    assert route.outcomes[5] == ("ok", None)  # our HANGUP → 511 is not an error
    assert all(route.hung_up_after[1:])


async def test_caller_leaving_during_music_is_seen_while_idle(
    agi_server: tuple[FastAGIServer, RouteSlot],
) -> None:
    route = await replay_typed(agi_server, "agi-session-queue-caller-hangup-idle")
    assert route.idle_saw_hangup[0] is True
    assert route.outcomes[3:] == [
        ("hung_up", None),  # SET MUSIC OFF → 511
        ("hung_up", None),  # EXEC Dial → result=-1 at once, caller already gone
        ("ok", "CANCEL"),
        ("ok", "1795527989"),
        ("hung_up", None),  # CHANNEL STATUS → 511
        ("ok", None),  # HANGUP → 511, fine
    ]


async def test_dial_ended_by_agent_returns_minus_one_and_caller_stays(
    agi_server: tuple[FastAGIServer, RouteSlot],
) -> None:
    route = await replay_typed(agi_server, "agi-session-queue-answered")
    dial = [s.command for s in route.steps if s.command is not None]
    position = dial.index("EXEC Dial Local/1001@kck-agents/n,20")
    assert route.outcomes[position] == ("ok", -1)
    assert route.hung_up_after[position] is False
    assert route.outcomes[position + 1] == ("ok", "ANSWER")
    assert route.idle_saw_hangup[:2] == [False, False]


async def test_caller_hanging_up_during_dial_raises_caller_hung_up(
    agi_server: tuple[FastAGIServer, RouteSlot],
) -> None:
    route = await replay_typed(agi_server, "agi-session-queue-caller-hangup-dial")
    commands = [s.command for s in route.steps if s.command is not None]
    position = commands.index("EXEC Dial Local/2002@kck-agents/n,20")
    assert route.outcomes[position] == ("hung_up", None)
    assert route.outcomes[position + 1] == ("ok", "CANCEL")


async def test_polish_caller_name_and_values_survive_both_ways(
    agi_server: tuple[FastAGIServer, RouteSlot],
) -> None:
    route = await replay_typed(agi_server, "agi-session-polish-callerid")
    env = route.env
    assert env is not None
    assert env.calleridname == "Łukasz Żółć"
    assert env.callerid == "+48600123456"
    assert env.dnid == "126165555"
    values = [value for kind, value in route.outcomes if kind == "ok"]
    assert "Łukasz Żółć" in values
    assert '"Łukasz Żółć" <+48600123456>' in values
    assert "Zażółć gęślą jaźń" in values


async def test_sip_dtmf_digits_come_back_as_characters(
    agi_server: tuple[FastAGIServer, RouteSlot],
) -> None:
    route = await replay_typed(agi_server, "agi-session-sipdtmf")
    assert route.outcomes[3] == ("ok", DigitsResult(digits="1", timed_out=False))
    assert route.outcomes[4] == ("ok", "5")  # WAIT FOR DIGIT → result=53
    assert route.env is not None
    assert route.env.dnid == "126165555"
    assert route.env.uniqueid
