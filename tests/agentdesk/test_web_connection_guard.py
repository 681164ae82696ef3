"""Idle web connections cannot starve the telephony: in a process whose descriptor limit is low
(256), hundreds of idle web connections leave FastAGI its descriptors, a call is served, and the
idle ones are closed after the header timeout. Real sockets, a real process with its limit."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.asterisk.agi_caller import AsteriskSideCall

ROOT = Path(__file__).parents[2]
LIMIT = 256
IDLE = 300  # more than the process may open at all


@pytest.fixture
async def servers() -> AsyncIterator[tuple[int, int]]:
    # kck's web and FastAGI servers, header timeout 1 s, 64 descriptors kept for calls
    process = await asyncio.create_subprocess_exec(
        *(
            sys.executable,
            "-m",
            "tests.agentdesk.limited_servers",
            str(LIMIT),
            "guarded",
            "1",
            "64",
        ),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(30):
            web_port, agi_port = (int(word) for word in (await process.stdout.readline()).split())
        yield web_port, agi_port
    finally:
        process.kill()
        await process.wait()


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    with contextlib.suppress(ConnectionError):
        return await reader.read(1024) == b""
    return True


async def test_idle_web_connections_leave_descriptors_for_calls_and_are_closed(
    servers: tuple[int, int],
) -> None:
    web_port, agi_port = servers
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        for n in range(IDLE):
            reader, writer = await asyncio.open_connection("127.0.0.1", web_port)
            if n % 10 == 0:  # a slow client: a request head that never ends
                writer.write(b"GET / HTTP/1.1\r\nHost: kck\r\n")
            idle.append((reader, writer))
        call = AsteriskSideCall(agi_port, uniqueid="1795527300.1")
        async with asyncio.timeout(10):
            await call.run()
        assert call.variables.get("SERVED") == "1"  # the call was served
        async with asyncio.timeout(30):  # each idle connection is closed by the server
            closed = await asyncio.gather(*(closed_by_server(reader) for reader, _ in idle))
        assert all(closed)
    finally:
        for _, writer in idle:
            writer.close()
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
        http.get(f"http://127.0.0.1:{web_port}/") as response,
    ):
        assert response.status == 200 and await response.text() == "ok"
