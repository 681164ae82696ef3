"""One FastAGI connection = one call: sends commands, reads replies, notices the caller leaving."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from asterisk.agi.arguments import quoted, quoted_if_needed, word
from asterisk.agi.connection import AGIConnection
from asterisk.agi.environment import AGIEnvironment
from asterisk.agi.errors import (
    AGICommandError,
    AGIError,
    AGIProtocolError,
    AGITimeoutError,
    CallerHungUp,
)
from asterisk.agi.reply import AGIReply
from kck.inbox import Flag

log = logging.getLogger(__name__)

# Asterisk sends the HANGUP notification within ~1 ms of a ``result=-1`` caused by a hang-up or an
# AMI Redirect (fixtures: hangup-stream, redirect, queue-caller-hangup-dial). Waiting this long
# tells "caller gone" from "command failed" (e.g. a missing sound file also gives result=-1).
DEFAULT_HANGUP_GRACE = 0.2
DEFAULT_MAX_LINE = 64 * 1024
# Closing waits this long for the socket to be flushed and closed before aborting it.
_CLOSE_S = 1.0


@dataclass(frozen=True)
class DigitsResult:
    """GET DATA outcome: the digits entered ('' if none) and whether input ended by timeout."""

    digits: str
    timed_out: bool


@dataclass(frozen=True)
class RecordResult:
    """RECORD FILE outcome: ``reason`` is Asterisk's word (timeout, dtmf, hangup, silence, ...)."""

    digit: str | None
    reason: str | None
    endpos: int | None


class AGISession:
    """The route's handle on one call. Every step may raise :class:`CallerHungUp`."""

    def __init__(
        self,
        env: AGIEnvironment,
        connection: AGIConnection,
        *,
        command_timeout: float | None = None,
        hangup_grace: float = DEFAULT_HANGUP_GRACE,
    ) -> None:
        self.env = env
        self.hung_up = False
        self.hangup_reason: str | None = None
        self.fallback_requested = False
        self._connection = connection
        self._command_timeout = command_timeout
        self._hangup_grace = hangup_grace
        self._lock = asyncio.Lock()
        self._gone = Flag()
        self._closed = False
        self._orphaned = 0  # replies still owed to commands whose caller was cancelled
        self._replies = connection.replies
        connection.attach(self._mark_gone)

    # -- state -------------------------------------------------------------------------------
    def _mark_gone(self, reason: str) -> None:
        if not self.hung_up:
            log.info("caller gone: %s", reason)
            self.hung_up = True
            self.hangup_reason = reason
        self._gone.set()

    def request_fallback(self) -> None:
        """When the route returns, let the dialplan send the caller to the plain fallback queue
        (the server then does not set KCK_DONE=1)."""
        self.fallback_requested = True

    async def wait_for_hangup(self, timeout: float | None = None) -> bool:
        """Wait until Asterisk says HANGUP (or the socket closes); True if it did within timeout.

        Use it while the caller waits idle on music on hold: Asterisk writes ``HANGUP`` on the
        idle socket at once when the caller leaves.
        """
        if timeout is None:
            await self._gone.wait()
            return True
        try:
            async with asyncio.timeout(timeout):
                await self._gone.wait()
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Close the socket and stop reading (the server does this after the route).

        Bounded: a peer that stops reading (our unsent bytes stuck in the buffer) gets the
        socket aborted after `_CLOSE_S`, so Asterisk still sees the AGI end.
        """
        if self._closed:
            return
        self._closed = True
        connection = self._connection
        connection.stop_reading()
        connection.close()
        try:
            async with asyncio.timeout(_CLOSE_S):
                await connection.closed.wait()  # connection_lost: flushed and closed
        except TimeoutError:
            connection.abort()

    def abort(self, reason: str) -> None:
        """Drop the connection now (no await, so no cancel can skip it): Asterisk sees the AGI end
        and continues the dialplan; every later command raises CallerHungUp."""
        self._mark_gone(reason)
        self._closed = True
        self._connection.stop_reading()
        self._connection.abort()

    # -- raw ---------------------------------------------------------------------------------
    # The per-command limit is part of the session contract, hence the timeout parameter.
    async def command(self, line: str, *, timeout: float | None = None) -> AGIReply:
        """Send one command line and return its reply.

        Raises CallerHungUp on 511 or a closed connection, AGICommandError on 510/520/other
        codes, AGITimeoutError (and closes the session) when no reply comes in time.
        """
        if "\n" in line or "\r" in line:
            raise ValueError(f"AGI command must be one line: {line[:80]!r}")
        async with self._lock:
            if self._closed:
                raise CallerHungUp(f"AGI session closed; cannot send {line!r}")
            self._discard_stale_replies(line)
            written = False
            limit = timeout if timeout is not None else self._command_timeout
            try:
                self._connection.write(line.encode("utf-8") + b"\n")
                written = True
                await self._connection.drain()
                if limit is None:
                    item = await self._own_reply()
                else:
                    async with asyncio.timeout(limit):
                        item = await self._own_reply()
            except asyncio.CancelledError:
                if written:
                    # Asterisk will still answer this command; that answer must not be taken
                    # for the next command's.
                    self._orphaned += 1
                raise
            except TimeoutError:
                log.error("no reply to %r within %ss", line, limit)
                # A late reply would be read as the answer to the next command: end the session.
                await self.close()
                raise AGITimeoutError(line, f"no reply within {limit} s") from None
            except (ConnectionError, OSError) as exc:
                self._mark_gone(f"write failed: {exc}")
                raise CallerHungUp(f"AGI connection lost while sending {line!r}: {exc}") from exc
        if isinstance(item, AGIError):
            if isinstance(item, AGIProtocolError):
                raise AGICommandError(line, str(item)) from item
            raise item
        return self._check_code(line, item)

    async def _own_reply(self) -> AGIReply | AGIError:
        """The next reply after skipping those owed to commands whose caller was cancelled."""
        while True:
            item = await self._replies.get()
            if self._orphaned and not isinstance(item, AGIError):
                self._orphaned -= 1
                log.debug("late reply to a cancelled command dropped: %s", item.raw)
                continue
            return item

    def _discard_stale_replies(self, line: str) -> None:
        if self._connection.reading_stopped and self._replies.empty():
            # The reader has stopped (EOF, reset, protocol error): no reply can ever come.
            self._mark_gone("connection closed")
            raise CallerHungUp(f"AGI connection is closed; cannot send {line!r}")
        # Nothing is pending, so whatever sits in the queue answers no command of ours.
        while not self._replies.empty():
            stale = self._replies.get_nowait()
            if isinstance(stale, CallerHungUp):
                self._replies.put_nowait(stale)
                raise CallerHungUp(f"AGI connection is closed; cannot send {line!r}")
            if self._orphaned and not isinstance(stale, AGIError):
                self._orphaned -= 1
                continue
            log.warning("dropping unsolicited AGI input before %r: %s", line, stale)

    def _check_code(self, line: str, reply: AGIReply) -> AGIReply:
        if reply.code == 200:
            return reply
        if reply.code == 511:
            self._mark_gone("511 dead channel")
            raise CallerHungUp(f"{line!r}: {reply.raw}")
        if reply.code == 510:
            raise AGICommandError(line, "510 invalid or unknown command", code=510)
        if reply.code == 520:
            usage = f"; usage: {reply.data}" if reply.data else ""
            raise AGICommandError(line, f"520 invalid command syntax{usage}", code=520)
        raise AGICommandError(line, f"unexpected reply {reply.raw!r}", code=reply.code)

    async def _channel_command(self, line: str) -> AGIReply:
        """A command acting on the channel: ``result=-1`` means hang-up or failure."""
        reply = await self.command(line)
        if reply.result_int == -1:
            if self.hung_up or await self.wait_for_hangup(self._hangup_grace):
                raise CallerHungUp(f"{line!r} ended with result=-1: {self.hangup_reason}")
            raise AGICommandError(line, f"channel failure ({reply.raw})", code=200)
        return reply

    # -- typed helpers ----------------------------------------------------------------------
    async def answer(self) -> None:
        await self._channel_command("ANSWER")

    async def noop(self) -> None:
        await self.command("NOOP")

    async def stream_file(
        self, sound: str, escape_digits: str = "", *, offset: int | None = None
    ) -> str | None:
        """Play a sound; returns the escape digit pressed, or None if it played to the end."""
        line = f"STREAM FILE {word(sound, 'sound')} {quoted(escape_digits, 'escape digits')}"
        if offset is not None:
            line += f" {int(offset)}"
        reply = await self._channel_command(line)
        return _digit(reply, line)

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> DigitsResult:
        line = f"GET DATA {word(prompt, 'prompt')} {int(timeout_ms)} {int(max_digits)}"
        reply = await self._channel_command(line)
        return DigitsResult(digits=reply.result, timed_out=reply.data == "timeout")

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        line = f"WAIT FOR DIGIT {int(timeout_ms)}"
        return _digit(await self._channel_command(line), line)

    async def say_digits(self, digits: str, escape_digits: str = "") -> str | None:
        if not digits.isdigit():
            raise ValueError(f"SAY DIGITS needs digits only: {digits!r}")
        line = f"SAY DIGITS {digits} {quoted(escape_digits, 'escape digits')}"
        return _digit(await self._channel_command(line), line)

    async def say_number(self, number: int, escape_digits: str = "") -> str | None:
        line = f"SAY NUMBER {int(number)} {quoted(escape_digits, 'escape digits')}"
        return _digit(await self._channel_command(line), line)

    async def record_file(
        self,
        path_no_ext: str,
        fmt: str,
        escape_digits: str,
        timeout_ms: int,
        *,
        beep: bool = True,
        silence_s: int | None = None,
    ) -> RecordResult:
        parts = [
            "RECORD FILE",
            word(path_no_ext, "recording path"),
            word(fmt, "format"),
            quoted(escape_digits, "escape digits"),
            str(int(timeout_ms)),
            "0",
        ]
        if beep:
            parts.append("BEEP")
        if silence_s is not None:
            parts.append(f"s={int(silence_s)}")
        line = " ".join(parts)
        reply = await self.command(line)
        if reply.result_int == -1 or reply.data == "hangup":
            if (
                reply.data == "hangup"
                or self.hung_up
                or await self.wait_for_hangup(self._hangup_grace)
            ):
                raise CallerHungUp(f"{line!r} ended with {reply.raw!r}")
            raise AGICommandError(line, f"recording failed ({reply.raw})", code=200)
        digit = chr(reply.result_int) if reply.result_int and reply.result_int > 0 else None
        return RecordResult(digit=digit, reason=reply.data, endpos=reply.endpos)

    async def set_variable(self, name: str, value: str) -> None:
        await self.command(f"SET VARIABLE {word(name, 'variable name')} {quoted(value, 'value')}")

    async def get_variable(self, name: str) -> str | None:
        """The variable's value ('' if set empty), None if unset. Works after a hang-up too."""
        reply = await self.command(f"GET VARIABLE {word(name, 'variable name')}")
        return reply.data if reply.result == "1" else None

    async def get_full_variable(self, expression: str) -> str | None:
        """Evaluate ``${...}`` expressions on the channel (GET FULL VARIABLE)."""
        reply = await self.command(f"GET FULL VARIABLE {quoted_if_needed(expression)}")
        return reply.data if reply.result == "1" else None

    async def channel_status(self) -> int:
        """Asterisk channel state (6 = up); raises CallerHungUp on a dead channel (511)."""
        reply = await self.command("CHANNEL STATUS")
        value = reply.result_int
        if value is None:
            raise AGICommandError("CHANNEL STATUS", f"unexpected reply {reply.raw!r}")
        return value

    async def exec(self, app: str, args: str = "") -> int:
        """Run a dialplan application; returns its result (Dial: -1 when a party hung up).

        Raises CallerHungUp when Asterisk also says HANGUP (the caller left or was redirected),
        AGICommandError for an unknown application (-2).
        """
        line = f"EXEC {word(app, 'application')}"
        if args:
            line += f" {quoted_if_needed(args, 'application arguments')}"
        reply = await self.command(line)
        value = reply.result_int
        if value is None:
            raise AGICommandError(line, f"unexpected reply {reply.raw!r}")
        if value == -2:
            raise AGICommandError(line, f"no such application {app!r} (result=-2)", code=200)
        if value == -1 and (self.hung_up or await self.wait_for_hangup(self._hangup_grace)):
            raise CallerHungUp(f"{line!r} ended with result=-1: {self.hangup_reason}")
        return value

    async def set_music(self, on: bool, moh_class: str = "default") -> None:
        line = f"SET MUSIC ON {word(moh_class, 'music class')}" if on else "SET MUSIC OFF"
        await self._channel_command(line)

    async def verbose(self, message: str, level: int = 1) -> None:
        await self.command(f"VERBOSE {quoted(message, 'message')} {int(level)}")

    async def hangup(self) -> None:
        """Hang the channel up; a caller already gone (511) is not an error here."""
        with contextlib.suppress(CallerHungUp):
            await self.command("HANGUP")
        self._mark_gone("hung up by us")


# WAIT FOR DIGIT and GET OPTION return a stream-control frame's number instead of a key when
# something stopped them (AMI ControlPlayback: 1000 stop ... 1004 forward); not a key press.
_STREAM_CONTROLS = range(1000, 1005)


def _digit(reply: AGIReply, line: str) -> str | None:
    value = reply.result_int
    if value is None:
        raise AGICommandError(line, f"unexpected reply {reply.raw!r}")
    if value <= 0 or value in _STREAM_CONTROLS:
        return None
    try:
        return chr(value)
    except ValueError as exc:
        raise AGICommandError(line, f"result {value} is not a character") from exc
