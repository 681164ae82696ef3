"""The Asterisk side of one FastAGI call, for tests that stop the server with callers inside.

It answers commands at once as res_agi would, except the ones that wait for the caller
(WAIT FOR DIGIT, and GET DATA when no key is scripted): those are held for their timeout, or until
the server writes another line or closes the socket — res_agi passes the AGI socket to
`ast_waitfordigit_full`, which returns 1 as soon as that socket is readable. It keeps the channel
variables the server set, which the shipped dialplan reads when the AGI ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
from dataclasses import dataclass, field

ENV = (
    "agi_network: yes\nagi_network_script: ivr\nagi_request: agi://127.0.0.1/ivr\n"
    "agi_channel: PJSIP/trunk-00000031\nagi_language: pl\nagi_type: PJSIP\n"
    "agi_uniqueid: {uniqueid}\nagi_callerid: +48600123456\nagi_calleridname: Jan Kowalski\n"
    "agi_dnid: 126165555\nagi_rdnis: unknown\nagi_context: kck-inbound\n"
    "agi_extension: 126165555\nagi_priority: 4\nagi_accountcode: \nagi_threadid: 1403\n\n"
)
_EOF = ""


@dataclass
class AsteriskSideCall:
    """One call: `await run()` until the server closes; `keys` answer GET DATA, in order."""

    port: int
    uniqueid: str = "1795527000.77"
    keys: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    held: int = 0  # commands held so far (the caller waiting on a WAIT FOR DIGIT or GET DATA)
    ended: bool = False  # the server closed the socket: the AGI is over, the dialplan goes on
    environment: str | None = None  # the agi_* block to send (default: ENV with `uniqueid`)

    def __post_init__(self) -> None:
        self._lines: asyncio.Queue[str] = asyncio.Queue()
        self._arrived = asyncio.Event()
        self._writer: asyncio.StreamWriter | None = None

    @property
    def dialplan_falls_back(self) -> bool:
        """What the shipped extensions.conf does when the AGI ends and the caller is there."""
        return bool(self.variables.get("KCK_AGI_FAILURE")) or self.variables.get("KCK_DONE") != "1"

    async def run(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        self._writer = writer
        feeder = asyncio.create_task(self._feed(reader))
        try:
            writer.write((self.environment or ENV.format(uniqueid=self.uniqueid)).encode())
            while (line := await self._next()) != _EOF:
                self.commands.append(line)
                reply = await self._answer(line)
                with contextlib.suppress(ConnectionError):
                    writer.write(reply.encode() + b"\n")
                    await writer.drain()
        finally:
            self.ended = True
            feeder.cancel()
            await asyncio.wait({feeder})
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def hang_up(self) -> None:
        """The caller leaves: Asterisk closes the AGI socket (and `run` returns)."""
        if self._writer is not None:
            self._writer.close()
        self._lines.put_nowait(_EOF)
        self._arrived.set()

    async def _feed(self, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                raw = await reader.readline()
            except ConnectionError:
                raw = b""
            self._lines.put_nowait(raw.decode().rstrip("\n"))
            self._arrived.set()
            if not raw:
                return

    async def _next(self) -> str:
        line = await self._lines.get()
        if self._lines.empty():
            self._arrived.clear()
        return line

    async def _hold(self, timeout_ms: int) -> bool:
        """Wait like res_agi: True when the server wrote or closed before the timeout."""
        self.held += 1
        if not self._lines.empty():
            return True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(None if timeout_ms < 0 else timeout_ms / 1000):
                await self._arrived.wait()
                return True
        return False

    async def _answer(self, line: str) -> str:
        words = shlex.split(line)
        command = " ".join(words[:2]).upper()
        if command == "WAIT FOR":  # WAIT FOR DIGIT <ms>
            return "200 result=1" if await self._hold(int(words[3])) else "200 result=0"
        if command == "GET DATA":
            if self.keys:
                return f"200 result={self.keys.pop(0)}"
            if await self._hold(int(words[3]) if len(words) > 3 else 5000):
                return "200 result="
            return "200 result= (timeout)"
        if command == "SET VARIABLE":
            self.variables[words[2]] = words[3]
            return "200 result=1"
        if command == "GET VARIABLE":
            value = self.variables.get(words[2])
            return "200 result=0" if value is None else f"200 result=1 ({value})"
        if command == "STREAM FILE":
            return "200 result=0 endpos=8000"
        return "200 result=0"
