"""Random, truncated and oversized input at the AMI reader and the FastAGI server."""

from __future__ import annotations

import asyncio
import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asterisk.agi import AGIError, AGISession, FastAGIServer
from asterisk.ami import AMIConnection, AMIFrameReader, AMIFrameTooLarge, AMIMessage, Banner
from tests.asterisk.loop_probe import MAX_LAG, LoopProbe

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

VALID_AMI = [
    b"Response: Success\r\nActionID: x\r\nPing: Pong\r\n\r\n",
    "Event: Newchannel\r\nCallerIDName: Łukasz Żółć\r\nUniqueid: 1.2\r\n\r\n".encode(),
    b"Event: CoreShowChannelsComplete\r\nEventList: Complete\r\nListItems: 0\r\n\r\n",
    b"Event: Hangup\r\nCause: not-a-number\r\nUniqueid: 1.2\r\n\r\n",
]
MAX_FRAME = 2048

ami_pieces = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(VALID_AMI),
    st.sampled_from(VALID_AMI).map(lambda f: f[: len(f) // 2]),  # truncated
    st.integers(MAX_FRAME, 3 * MAX_FRAME).map(lambda n: b"Event: Big\r\nData: " + b"x" * n),
    st.just(b"\r\n\r\n"),
    st.just(b"\xc5"),  # first byte of a Polish letter alone
)


@FUZZ
@given(pieces=st.lists(ami_pieces, max_size=30), cut=st.integers(1, 64))
def test_frame_reader_never_raises_and_stays_bounded(pieces: list[bytes], cut: int) -> None:
    reader = AMIFrameReader(max_frame_bytes=MAX_FRAME)
    data = b"Asterisk Call Manager/11.0.0\r\n" + b"".join(pieces)
    frames = []
    for start in range(0, len(data), cut):
        frames.extend(reader.feed(data[start : start + cut]))
        assert reader.buffered <= MAX_FRAME + cut + 4
    assert all(isinstance(f, AMIMessage | Banner | AMIFrameTooLarge) for f in frames)
    for frame in frames:
        if isinstance(frame, AMIMessage):
            assert isinstance(frame.name, str)
            frame.kind  # noqa: B018 - classification must not raise either


async def _ami_case(pieces: list[bytes]) -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        for piece in pieces:
            writer.write(piece)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    events: list[AMIMessage] = []
    async with LoopProbe() as probe:
        connection = await AMIConnection.open(
            "127.0.0.1",
            port,
            connect_timeout=5,
            on_event=events.append,
            max_frame_bytes=MAX_FRAME,
        )
        # An action in flight when garbage and EOF arrive ends with a typed error or answer.
        with contextlib.suppress(Exception):
            await connection.request("Ping", "x", [], 5)
        async with asyncio.timeout(5):
            await connection.wait_closed()
    server.close()
    await server.wait_closed()
    assert connection.close_reason
    assert probe.max_lag < MAX_LAG
    assert probe.loop_errors == []


@FUZZ
@given(pieces=st.lists(ami_pieces, max_size=20))
def test_ami_connection_survives_random_bytes_over_a_socket(pieces: list[bytes]) -> None:
    asyncio.run(_ami_case(pieces))


ENV = b"agi_network: yes\nagi_network_script: ivr\nagi_uniqueid: 1.1\nagi_channel: X/1\n\n"
agi_pieces = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"200 result=0\n",
            b"HANGUP\n",
            b"511 Command Not Permitted\n",
            b"520-Invalid command syntax.\nusage\n",
            b"520 End of proper usage.\n",
            b"200 result=1 (\xc5\x81ukasz)\n",
            b"200 result=-1\n",
            b"\n",
            b"200 res",
        ]
    ),
    st.integers(70_000, 90_000).map(lambda n: b"200 result=1 (" + b"y" * n),
)


async def _agi_case(head: bytes, pieces: list[bytes]) -> None:
    outcomes: list[str] = []

    async def route(session: AGISession) -> None:
        for _ in range(4):
            try:
                await session.stream_file("beep", "0123456789*#")
                outcomes.append("ok")
            except AGIError as exc:
                outcomes.append(type(exc).__name__)
                if session.hung_up:
                    return

    server = FastAGIServer(
        host="127.0.0.1",
        port=0,
        allowed_clients=["127.0.0.1"],
        env_timeout=0.5,
        command_timeout=0.5,
        hangup_grace=0.01,
    )
    server.add_route("ivr", route)
    await server.start()
    try:
        async with LoopProbe() as probe:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            # Our side of the socket may already be closed by the server: that is fine.
            with contextlib.suppress(ConnectionError, OSError):
                writer.write(head)
                for piece in pieces:
                    writer.write(piece)
                    await writer.drain()
                    await asyncio.sleep(0)
                writer.write_eof()
            with contextlib.suppress(ConnectionError, OSError):
                async with asyncio.timeout(5):
                    await reader.read()
            writer.close()
            async with asyncio.timeout(5):
                while server.active_sessions:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
            # The server is still fine: a proper session afterwards is served.
            reader2, writer2 = await asyncio.open_connection("127.0.0.1", server.port)
            writer2.write(ENV)
            async with asyncio.timeout(5):
                assert await reader2.readline() == b'STREAM FILE beep "0123456789*#"\n'
            writer2.close()
    finally:
        await server.stop()
    assert probe.max_lag < MAX_LAG
    assert probe.loop_errors == []
    assert set(outcomes) <= {"ok", "CallerHungUp", "AGICommandError", "AGITimeoutError"}


@FUZZ
@given(
    head=st.one_of(st.just(ENV), st.binary(max_size=100), st.just(ENV[:30])),
    pieces=st.lists(agi_pieces, max_size=8),
)
def test_fastagi_server_survives_random_bytes_and_keeps_serving(
    head: bytes, pieces: list[bytes]
) -> None:
    asyncio.run(_agi_case(head, pieces))
