"""FastAGI server robustness over real sockets: scans, slow or hostile peers, failing routes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from asterisk.agi import (
    AGICommandError,
    AGIReply,
    AGISession,
    AGITimeoutError,
    CallerHungUp,
    ClientAllowList,
    FastAGIServer,
    parse_reply,
    quoted,
    quoted_if_needed,
    word,
)
from asterisk.agi.server import STOP_HANDBACK_S, STRAGGLER_GRACE_S
from tests.asterisk.agi_caller import AsteriskSideCall
from tests.asterisk.loop_probe import MAX_LAG, LoopProbe
from tests.polling import until

ENV = (
    "agi_network: yes\nagi_network_script: ivr\nagi_request: agi://127.0.0.1:4573/ivr\n"
    "agi_channel: PJSIP/sipp-00000012\nagi_language: pl\nagi_uniqueid: 1795527000.50\n"
    "agi_callerid: +48600123456\nagi_calleridname: Łukasz Żółć\nagi_dnid: 126165555\n"
    "agi_rdnis: unknown\nagi_context: kck-inbound\nagi_extension: 126165555\n"
    "agi_priority: 4\nagi_accountcode: \nagi_threadid: 1403\nagi_arg_1: pl\nagi_arg_2: a b\n\n"
).encode()

Route = Callable[[AGISession], Awaitable[None]]


class Holder:
    def __init__(self) -> None:
        self.route: Route | None = None
        self.calls = 0

    async def __call__(self, session: AGISession) -> None:
        self.calls += 1
        assert self.route is not None
        await self.route(session)


@pytest.fixture
async def served() -> AsyncIterator[tuple[FastAGIServer, Holder]]:
    holder = Holder()
    server = FastAGIServer(host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"], env_timeout=0.3)
    server.add_route("ivr", holder)
    await server.start()
    try:
        yield server, holder
    finally:
        await server.stop()


async def read_all(reader: asyncio.StreamReader, limit: float = 5.0) -> bytes:
    """Everything until the server closes (a reset after unread input counts as closed)."""
    try:
        async with asyncio.timeout(limit):
            return await reader.read()
    except ConnectionResetError:
        return b""


async def test_connect_and_close_clients_neither_spin_nor_leak(
    served: tuple[FastAGIServer, Holder],
) -> None:
    server, holder = served
    async with LoopProbe() as probe:
        for partial in (b"", b"agi_network: yes\n", b"agi_net"):
            for _ in range(30):
                _, writer = await asyncio.open_connection("127.0.0.1", server.port)
                writer.write(partial)
                writer.close()
        await asyncio.sleep(0.2)
    assert probe.max_lag < MAX_LAG
    assert probe.ticks > 10
    assert server.active_sessions == 0
    assert holder.calls == 0
    assert probe.loop_errors == []


async def test_environment_is_parsed_with_arguments_and_unknowns(
    served: tuple[FastAGIServer, Holder],
) -> None:
    server, holder = served
    seen: list[AGISession] = []

    async def route(session: AGISession) -> None:
        seen.append(session)

    holder.route = route
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(ENV)
    assert await reader.readline() == b'SET VARIABLE KCK_DONE "1"\n'
    writer.write(b"200 result=1\n")
    assert await read_all(reader) == b""
    env = seen[0].env
    assert env.calleridname == "Łukasz Żółć"
    assert env.callerid == "+48600123456"
    assert env.rdnis is None  # "unknown"
    assert env.accountcode == ""
    assert env.args == ("pl", "a b")
    assert env.raw["network"] == "yes"
    writer.close()


async def test_silent_client_is_dropped_after_the_environment_timeout(
    served: tuple[FastAGIServer, Holder],
) -> None:
    server, holder = served
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"agi_network: yes\n")
    assert await read_all(reader) == b""  # closed by the server after env_timeout
    assert holder.calls == 0
    writer.close()


@pytest.mark.parametrize(
    "payload",
    [
        b"agi_x: " + b"y" * 70_000 + b"\n\n",  # one line above the line limit
        b"".join(b"agi_v%d: %s\n" % (i, b"z" * 100) for i in range(400)) + b"\n",  # > 16 KiB
        b"GET / HTTP/1.1\nHost: x\n\n",  # not FastAGI
    ],
    ids=["long-line", "huge-block", "http"],
)
async def test_bad_environment_is_refused_without_calling_the_route(
    served: tuple[FastAGIServer, Holder], payload: bytes
) -> None:
    server, holder = served
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(payload)
    with contextlib.suppress(ConnectionError):
        await writer.drain()
    with contextlib.suppress(ConnectionError):
        assert await read_all(reader) == b""
    assert holder.calls == 0
    writer.close()


async def test_peer_outside_allowed_clients_is_refused() -> None:
    holder = Holder()
    server = FastAGIServer(host="127.0.0.1", port=0, allowed_clients=["10.0.0.0/8"])
    server.add_route("ivr", holder)
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(ENV)
        assert await read_all(reader) == b""
        assert holder.calls == 0
        assert server.connections_rejected == 1
        writer.close()
    finally:
        await server.stop()


def test_allow_list_understands_cidrs_and_ipv4_mapped_peers() -> None:
    allow = ClientAllowList(["192.0.2.10", "10.1.0.0/16", "::1"])
    assert allow.allows("192.0.2.10")
    assert allow.allows("10.1.200.3")
    assert allow.allows("::ffff:10.1.0.9")
    assert allow.allows("::1")
    assert not allow.allows("192.0.2.11")
    assert not allow.allows("not-an-ip")
    with pytest.raises(ValueError, match=r"'10\.1\.0\.0/33'"):
        ClientAllowList(["10.1.0.0/33"])
    with pytest.raises(ValueError, match="empty"):
        ClientAllowList([])


async def test_failing_route_flags_the_channel_for_dialplan_fallback(
    served: tuple[FastAGIServer, Holder],
) -> None:
    server, holder = served

    async def route(session: AGISession) -> None:
        await session.answer()
        raise RuntimeError("menu bug")

    holder.route = route
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(ENV)
    assert await reader.readline() == b"ANSWER\n"
    writer.write(b"200 result=0\n")
    assert await reader.readline() == b'SET VARIABLE KCK_AGI_FAILURE "RuntimeError"\n'
    writer.write(b"200 result=1\n")
    assert await read_all(reader) == b""
    writer.close()


async def test_route_that_returns_confirms_kck_done_unless_it_asks_for_fallback(
    served: tuple[FastAGIServer, Holder],
) -> None:
    server, holder = served

    async def finished(session: AGISession) -> None:
        await session.verbose("done")

    async def wants_fallback(session: AGISession) -> None:
        session.request_fallback()

    holder.route = finished
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(ENV)
    assert await reader.readline() == b'VERBOSE "done" 1\n'
    writer.write(b"200 result=1\n")
    assert await reader.readline() == b'SET VARIABLE KCK_DONE "1"\n'
    writer.write(b"200 result=1\n")
    assert await read_all(reader) == b""
    writer.close()

    holder.route = wants_fallback
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(ENV)
    assert await read_all(reader) == b""  # no KCK_DONE: the dialplan takes the fallback queue
    writer.close()


async def test_unknown_script_is_flagged_and_closed(served: tuple[FastAGIServer, Holder]) -> None:
    server, holder = served
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(ENV.replace(b"agi_network_script: ivr", b"agi_network_script: nope?x=1"))
    assert await reader.readline() == b'SET VARIABLE KCK_AGI_FAILURE "NoRoute"\n'
    writer.write(b"200 result=1\n")
    assert await read_all(reader) == b""
    assert holder.calls == 0
    writer.close()


async def test_socket_closed_mid_command_is_a_hang_up_not_a_crash(
    served: tuple[FastAGIServer, Holder],
) -> None:
    server, holder = served
    outcomes: list[BaseException] = []

    async def route(session: AGISession) -> None:
        try:
            await session.stream_file("demo-congrats")
        except CallerHungUp as exc:
            outcomes.append(exc)
        try:
            await session.answer()
        except CallerHungUp as exc:
            outcomes.append(exc)

    holder.route = route
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(ENV)
    assert await reader.readline() == b'STREAM FILE demo-congrats ""\n'
    writer.write(b"200 res")  # half a reply, then gone
    writer.close()
    async with asyncio.timeout(5):
        while server.active_sessions:  # noqa: ASYNC110 - no event to wait on from outside
            await asyncio.sleep(0.01)
    assert [type(o) for o in outcomes] == [CallerHungUp, CallerHungUp]


async def test_hangup_notification_inside_a_usage_reply_is_not_mixed_in(
    served: tuple[FastAGIServer, Holder],
) -> None:
    server, holder = served
    errors: list[AGICommandError] = []
    flags: list[bool] = []

    async def route(session: AGISession) -> None:
        try:
            await session.command("GET DATA")
        except AGICommandError as exc:
            errors.append(exc)
        flags.append(session.hung_up)

    holder.route = route
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(ENV)
    assert await reader.readline() == b"GET DATA\n"
    writer.write(
        b"520-Invalid command syntax.  Proper usage follows:\nStream the file.\n"
        b"HANGUP\n520 End of proper usage.\n"
    )
    assert await read_all(reader) == b""
    assert errors[0].code == 520
    assert "HANGUP" not in str(errors[0])
    assert "Stream the file." in str(errors[0])
    assert flags == [True]
    writer.close()


async def test_command_without_reply_times_out_and_closes_the_session() -> None:
    holder = Holder()
    server = FastAGIServer(
        host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"], command_timeout=0.2
    )
    server.add_route("ivr", holder)
    failures: list[BaseException] = []

    async def route(session: AGISession) -> None:
        try:
            await session.answer()
        except AGITimeoutError as exc:
            failures.append(exc)
            raise

    holder.route = route
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(ENV)
        assert await reader.readline() == b"ANSWER\n"
        assert await read_all(reader) == b""  # no reply: session closed, no stray commands
        assert "ANSWER" in str(failures[0])
        writer.close()
    finally:
        await server.stop()


async def test_stop_cancels_running_routes_and_cancellation_is_not_swallowed(
    served: tuple[FastAGIServer, Holder],
) -> None:
    server, holder = served
    states: list[str] = []

    async def route(session: AGISession) -> None:
        states.append("started")
        try:
            await session.wait_for_hangup()
        except asyncio.CancelledError:
            states.append("cancelled")
            raise

    holder.route = route
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(ENV)
    async with asyncio.timeout(5):
        while not states:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    stopping = asyncio.create_task(server.stop())
    assert await reader.readline() == b'SET VARIABLE KCK_AGI_FAILURE "shutdown"\n'
    writer.write(b"200 result=1\n")
    await stopping
    assert states == ["started", "cancelled"]
    assert server.active_sessions == 0
    assert await read_all(reader) == b""
    writer.close()


async def test_idle_caller_hang_up_wakes_the_waiting_route(
    served: tuple[FastAGIServer, Holder],
) -> None:
    server, holder = served
    woke: list[bool] = []

    async def route(session: AGISession) -> None:
        await session.set_music(True)
        woke.append(await session.wait_for_hangup(5))

    holder.route = route
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(ENV)
    assert await reader.readline() == b"SET MUSIC ON default\n"
    writer.write(b"200 result=0\n")
    writer.write(b"HANGUP\n")
    assert await read_all(reader) == b""
    assert woke == [True]
    writer.close()


def test_arguments_are_quoted_as_asterisk_parses_them() -> None:
    assert quoted("") == '""'
    assert quoted("Zażółć gęślą jaźń") == '"Zażółć gęślą jaźń"'
    assert quoted('say "hi" \\o/') == '"say \\"hi\\" \\\\o/"'
    assert quoted_if_needed("Local/1001@kck-agents/n,20") == "Local/1001@kck-agents/n,20"
    assert quoted_if_needed("a b") == '"a b"'
    assert word("CALLERID(name)") == "CALLERID(name)"
    for bad in ("two words", "", 'q"uote'):
        with pytest.raises(ValueError):
            word(bad)
    with pytest.raises(ValueError, match="must not contain"):
        quoted("line\nHANGUP")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "200 result=0 endpos=242214",
            AGIReply(200, "0", None, 242214, "200 result=0 endpos=242214"),
        ),
        ("200 result= (timeout)", AGIReply(200, "", "timeout", None, "200 result= (timeout)")),
        (
            "200 result=1 (a (b) c) endpos=3)",
            AGIReply(200, "1", "a (b) c) endpos=3", None, "200 result=1 (a (b) c) endpos=3)"),
        ),
        (
            "200 result=0 (timeout) endpos=16000",
            AGIReply(200, "0", "timeout", 16000, "200 result=0 (timeout) endpos=16000"),
        ),
        ("200 result=1 ()", AGIReply(200, "1", "", None, "200 result=1 ()")),
        (
            "510 Invalid or unknown command",
            AGIReply(510, "", "Invalid or unknown command", None, "510 Invalid or unknown command"),
        ),
    ],
)
def test_replies_parse_into_code_result_data_endpos(raw: str, expected: AGIReply) -> None:
    assert parse_reply(raw) == expected


async def test_reply_to_a_cancelled_command_is_not_taken_for_the_next_one(
    served: tuple[FastAGIServer, Holder],
) -> None:
    server, holder = served
    values: list[object] = []

    async def route(session: AGISession) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(session.stream_file("demo-congrats"), 0.05)
        values.append(await session.get_variable("KCK_INBOUND"))

    holder.route = route
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(ENV)
    assert await reader.readline() == b'STREAM FILE demo-congrats ""\n'
    assert await reader.readline() == b"GET VARIABLE KCK_INBOUND\n"
    writer.write(b"200 result=0 endpos=1200\n")  # the late answer to STREAM FILE
    writer.write(b"200 result=1 (1795526838)\n")
    assert await reader.readline() == b'SET VARIABLE KCK_DONE "1"\n'
    writer.write(b"200 result=1\n")
    assert await read_all(reader) == b""
    assert values == ["1795526838"]
    writer.close()


async def stop_timed(server: FastAGIServer) -> float:
    """Seconds `server.stop()` took; fails the test instead of hanging when it does not return
    (a stop stuck on a route that swallows cancels cannot itself be cancelled, hence a task)."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    stopping = asyncio.create_task(server.stop())
    await asyncio.wait({stopping}, timeout=STOP_HANDBACK_S + STRAGGLER_GRACE_S + 10)
    assert stopping.done(), "FastAGIServer.stop() did not return"
    await stopping
    return loop.time() - began


async def test_stop_hands_a_caller_parked_in_wait_for_digit_to_the_fallback_flagged_shutdown() -> (
    None
):
    server = FastAGIServer(host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"])

    async def route(session: AGISession) -> None:
        await session.answer()
        await session.wait_for_digit(60_000)  # the caller listens; nothing else is sent meanwhile

    server.add_route("ivr", route)
    await server.start()
    call = AsteriskSideCall(server.port)
    caller = asyncio.create_task(call.run())
    try:
        await until(lambda: call.held == 1)
        took = await stop_timed(server)
        async with asyncio.timeout(5):
            await caller
    finally:
        call.hang_up()
        await asyncio.wait({caller})
        await server.stop()
    assert call.ended
    # Our write ends the WAIT FOR DIGIT at once in res_agi, so the flag reaches the channel.
    assert call.commands == [
        "ANSWER",
        "WAIT FOR DIGIT 60000",
        'SET VARIABLE KCK_AGI_FAILURE "shutdown"',
    ]
    assert call.variables == {"KCK_AGI_FAILURE": "shutdown"}
    assert call.dialplan_falls_back
    assert took < STOP_HANDBACK_S  # the documented bound, met without a hard close


async def test_stop_closes_a_session_whose_route_swallows_the_cancel_within_its_bound() -> None:
    server = FastAGIServer(
        host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"], handback_timeout=0.5
    )
    swallowed: list[int] = []
    looping = asyncio.Event()

    async def route(session: AGISession) -> None:
        await session.answer()
        looping.set()
        while not session.hung_up:
            try:
                await session.wait_for_hangup()
            except asyncio.CancelledError:  # as redis-py or 3.11's wait_for can do
                swallowed.append(1)

    server.add_route("ivr", route)
    await server.start()
    call = AsteriskSideCall(server.port)
    caller = asyncio.create_task(call.run())
    try:
        await asyncio.wait_for(looping.wait(), 5)
        took = await stop_timed(server)
        async with asyncio.timeout(5):
            await caller
    finally:
        call.hang_up()
        await asyncio.wait({caller})
        await server.stop()
    assert swallowed  # the route really ignored the stop
    assert call.ended  # closed by us at the bound: Asterisk has the caller back
    assert "KCK_DONE" not in call.variables and call.dialplan_falls_back
    assert server.active_sessions == 0
    # Generous: the bound itself (0.5 s) plus the grace for a route that still runs, plus slack.
    assert took < 0.5 + STRAGGLER_GRACE_S + 1.0
