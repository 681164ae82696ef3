"""A tiny FastAGI server for tests: sends a fixed list of client commands, records every byte."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypedDict


@dataclass
class Recorded:
    env: str = ""
    received: list[str] = field(default_factory=list)  # lines from "Asterisk", in order
    replies: dict[int, list[str]] = field(default_factory=dict)  # command index -> reply lines
    done: asyncio.Event = field(default_factory=asyncio.Event)


class ScriptOptions(TypedDict, total=False):
    """`ScriptedAGIServer`'s keyword options, for helpers that pass them on."""

    half_close: bool
    linger: float
    on_env: Callable[[], None] | None
    on_send: Callable[[str], None] | None


class ScriptedAGIServer:
    """Each step is a command line, or ("idle", simulated_seconds) scaled by `speed`."""

    def __init__(
        self,
        steps: list[str | tuple[str, float]],
        speed: float = 1.0,
        *,
        half_close: bool = True,
        linger: float = 1.5,
        on_env: Callable[[], None] | None = None,
        on_send: Callable[[str], None] | None = None,
    ) -> None:
        self.steps = steps
        self.speed = speed
        self.half_close = half_close
        self.linger = linger
        self.on_env = on_env
        self.on_send = on_send
        self.sessions: list[Recorded] = []
        self.connected = asyncio.Event()
        self._server: asyncio.base_events.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"agi://127.0.0.1:{port}/ivr"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _line(self, reader: asyncio.StreamReader, rec: Recorded) -> str:
        raw = await reader.readline()
        if not raw:
            raise EOFError
        line = raw.decode("utf-8")
        rec.received.append(line)
        return line

    async def _drain_lines(self, reader: asyncio.StreamReader, rec: Recorded) -> None:
        with contextlib.suppress(EOFError):
            while True:
                await self._line(reader, rec)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        rec = Recorded()
        self.sessions.append(rec)
        self.connected.set()
        try:
            env = []
            while True:
                raw = await reader.readline()
                env.append(raw.decode("utf-8"))
                if raw in (b"\n", b""):
                    break
            rec.env = "".join(env)
            if self.on_env is not None:
                self.on_env()
            for index, step in enumerate(self.steps):
                if isinstance(step, tuple):
                    await asyncio.sleep(step[1] / self.speed)
                    continue
                writer.write(step.encode("utf-8") + b"\n")
                await writer.drain()
                if self.on_send is not None:
                    self.on_send(step)
                reply: list[str] = []
                while True:
                    line = await self._line(reader, rec)
                    if line == "HANGUP\n":
                        continue
                    reply.append(line)
                    if not line.startswith("520-") and not (
                        reply[0].startswith("520-") and not line.startswith("520 ")
                    ):
                        break
                rec.replies[index] = reply
            # like the capture client: stay idle, then half-close and read until EOF
            # (or, for the older captures, close)
            linger = asyncio.ensure_future(self._drain_lines(reader, rec))
            await asyncio.sleep(self.linger / self.speed)
            if not self.half_close:
                linger.cancel()
                return
            writer.write_eof()
            with contextlib.suppress(EOFError, asyncio.TimeoutError):
                await asyncio.wait_for(linger, 10)
        except (EOFError, ConnectionError):
            pass
        finally:
            writer.close()
            rec.done.set()
