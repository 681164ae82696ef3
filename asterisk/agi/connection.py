"""One FastAGI socket as an `asyncio.Protocol`: the environment block, then reply lines handed to
the session as they arrive — no reader task and no `StreamReader` per call.

Each live call used to hold two tasks (the connection's and a reply reader's) and a stream
reader with its buffer; a protocol parses what `data_received` gives it and wakes the command
waiting for its reply directly (issue 20, points 1–3: memory per live call, one event-loop step
less per AGI reply).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable

from asterisk.agi.errors import AGIError, AGIProtocolError, CallerHungUp
from asterisk.agi.reply import AGIReply, parse_reply
from kck.inbox import Flag, Inbox

log = logging.getLogger(__name__)

# A 520 usage text is a few lines; more than this is not Asterisk.
_MAX_USAGE_LINES = 200
_HANGUP = "HANGUP"
_ENV_END = b"\n\n"


def _text(line: bytes | bytearray) -> str:
    return bytes(line).rstrip(b"\r").decode("utf-8", errors="replace")


class AGIConnection(asyncio.Protocol):
    """The socket of one FastAGI call.

    First `await environment()` gives the raw environment block (up to its empty line). Then
    every line is a reply (put in `replies`), a provisional `100` (skipped), a `520-` usage block
    (gathered into one reply) or Asterisk's `HANGUP` notification, which calls `on_gone` at once —
    as does the socket ending, which also puts `CallerHungUp` in `replies`. A line longer than
    `max_line` ends reading with an `AGIProtocolError` in `replies`.
    """

    __slots__ = (
        "_accepted",
        "_buffer",
        "_context",
        "_environment",
        "_gone_reason",
        "_lost",
        "_max_line",
        "_on_gone",
        "_usage",
        "_write_paused",
        "closed",
        "reading_stopped",
        "replies",
        "transport",
    )

    def __init__(self, accepted: Callable[[AGIConnection], None], max_line: int) -> None:
        self._accepted = accepted
        self._max_line = max_line
        self.transport: asyncio.Transport | None = None
        self.replies: Inbox[AGIReply | AGIError] = Inbox()
        self.reading_stopped = False  # the socket ended or a protocol error: no reply can come
        self.closed = Flag()  # connection_lost
        self._buffer = bytearray()
        self._environment: asyncio.Future[bytes | None] | None = (
            asyncio.get_running_loop().create_future()
        )
        self._usage: list[str] | None = None  # a 520 usage block being gathered
        self._gone_reason: str | None = None
        self._on_gone: Callable[[str], None] | None = None
        # the call's context (its log ids) for what the socket's callbacks do once attached
        self._context: contextvars.Context | None = None
        self._write_paused: asyncio.Future[None] | None = None
        self._lost: BaseException | None = None

    # -- asyncio.Protocol ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._accepted(self)

    def data_received(self, data: bytes) -> None:
        if self.reading_stopped:
            return
        self._buffer += data
        if self._environment is not None:
            self._read_environment()
        if self._environment is None:
            if self._context is None:
                self._read_lines()
            else:
                self._context.run(self._read_lines)

    def eof_received(self) -> bool:
        self._ended_in_context(None)
        return True  # keep the transport: our last writes and close() still go out

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = exc or ConnectionResetError("Connection lost")
        self._ended_in_context(exc)
        paused, self._write_paused = self._write_paused, None
        if paused is not None and not paused.done():
            paused.set_result(None)
        self.closed.set()

    def pause_writing(self) -> None:
        if self._write_paused is None:
            self._write_paused = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        paused, self._write_paused = self._write_paused, None
        if paused is not None and not paused.done():
            paused.set_result(None)

    # -- the server's side --------------------------------------------------------------------
    async def environment(self) -> bytes | None:
        """The environment block with its final empty line; None when the peer left first.
        Raises `AGIProtocolError` for a block longer than `max_line` without its end."""
        future = self._environment
        if future is None:
            raise RuntimeError("the environment was already read")
        return await future

    def attach(self, on_gone: Callable[[str], None]) -> None:
        """The session to tell when the caller is gone (told at once if already gone); what the
        socket's callbacks do from now on runs in the caller's context (the call's log ids)."""
        self._on_gone = on_gone
        self._context = contextvars.copy_context()
        if self._gone_reason is not None:
            on_gone(self._gone_reason)

    # -- the session's side -------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        if self.transport is None:
            raise ConnectionResetError("not connected")
        self.transport.write(data)

    async def drain(self) -> None:
        """Wait while the socket's send buffer is full; raises once the connection is lost."""
        if self._lost is not None:
            raise ConnectionResetError("Connection lost") from self._lost
        paused = self._write_paused
        if paused is not None:
            await asyncio.shield(paused)
            if self._lost is not None:
                raise ConnectionResetError("Connection lost") from self._lost

    def stop_reading(self) -> None:
        """Nothing more is handed on (the session is closing)."""
        self.reading_stopped = True
        self._buffer.clear()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    # -- parsing ------------------------------------------------------------------------------
    def _read_environment(self) -> None:
        future = self._environment
        assert future is not None
        end = self._buffer.find(_ENV_END)
        if end < 0 and len(self._buffer) <= self._max_line:
            return
        self._environment = None
        if end < 0 or end > self._max_line:
            self.reading_stopped = True
            self._buffer.clear()
            if not future.done():  # else the server gave up waiting (its timeout)
                future.set_exception(
                    AGIProtocolError(
                        f"environment block longer than {self._max_line} bytes without its end"
                    )
                )
            return
        raw = bytes(self._buffer[: end + len(_ENV_END)])
        del self._buffer[: end + len(_ENV_END)]
        if not future.done():  # the server gave up waiting (its timeout)
            future.set_result(raw)

    def _read_lines(self) -> None:
        buffer = self._buffer
        start = 0
        while not self.reading_stopped:
            end = buffer.find(b"\n", start)
            if end < 0 or end - start > self._max_line:
                break
            self._line(_text(buffer[start:end]))
            start = end + 1
        if self.reading_stopped:
            return
        del buffer[:start]
        if len(buffer) > self._max_line:
            self._protocol_error(
                f"AGI line longer than the {self._max_line}-byte limit; closing the session"
            )

    def _line(self, line: str) -> None:
        if line == _HANGUP:
            # Asterisk writes the notification atomically, also between lines of a 520 block
            self._gone("HANGUP notification")
            return
        usage = self._usage
        if usage is not None:
            usage.append(line)
            if line.startswith("520 "):
                self._usage = None
                self._reply("\n".join(usage))
            elif len(usage) > _MAX_USAGE_LINES:
                self._protocol_error(f"520 usage reply longer than {_MAX_USAGE_LINES} lines")
            return
        if line.startswith("520-"):
            self._usage = [line]
        elif not line.startswith("100 "):  # provisional "100 result=0 Trying...": more follows
            self._reply(line)

    def _reply(self, line: str) -> None:
        try:
            reply: AGIReply | AGIError = parse_reply(line)
        except AGIProtocolError as exc:
            reply = exc
        self.replies.put_nowait(reply)

    def _protocol_error(self, message: str) -> None:
        error = AGIProtocolError(message)
        self.reading_stopped = True
        self._buffer.clear()
        self._gone(str(error))
        self.replies.put_nowait(error)

    def _ended_in_context(self, exc: Exception | None) -> None:
        if self._context is None:
            self._ended(exc)
        else:
            self._context.run(self._ended, exc)

    def _ended(self, exc: Exception | None) -> None:
        """The peer closed (`exc` None) or the connection failed."""
        environment, self._environment = self._environment, None
        if environment is not None:
            if not environment.done():
                environment.set_result(None)
            self.reading_stopped = True
            return
        if self.reading_stopped:
            return
        self.reading_stopped = True
        if exc is not None:
            self._gone(f"connection error: {exc}")
            self.replies.put_nowait(CallerHungUp(f"AGI connection lost: {exc}"))
        elif self._usage is not None:
            self._gone("connection closed inside a 520 usage block")
            self.replies.put_nowait(CallerHungUp("AGI connection closed inside a 520 reply"))
        else:
            if self._buffer:
                log.debug("AGI peer closed after a partial line %r", bytes(self._buffer[:80]))
            self._gone("connection closed by Asterisk")
            self.replies.put_nowait(CallerHungUp("AGI connection closed by Asterisk"))
        self._buffer.clear()

    def _gone(self, reason: str) -> None:
        if self._gone_reason is None:
            self._gone_reason = reason
        if self._on_gone is not None:
            self._on_gone(reason)
