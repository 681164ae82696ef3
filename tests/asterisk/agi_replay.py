"""Plays the Asterisk side of a captured FastAGI session against our server over real TCP."""

from __future__ import annotations

import asyncio
import contextlib
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from asterisk.agi import AGICommandError, AGIEnvironment, AGISession, CallerHungUp
from tests.asterisk.transcripts import Record

HANGUP_LINE = b"HANGUP\n"
READ_LIMIT = 5.0


class ReplayMismatch(AssertionError):
    """Our server wrote something other than the captured client bytes."""


def hangup_sent_promptly(records: list[Record]) -> list[Record]:
    """Asterisk sends HANGUP when the call ends, not in answer to the client: move each HANGUP
    that the capture shows after the client's next command to just before that command."""
    result = [r for r in records if r.direction != "note" or "client idle" in r.note]
    index = 1
    while index < len(result):
        record = result[index]
        previous = result[index - 1]
        if (
            record.direction == "in"
            and record.data == HANGUP_LINE
            and previous.direction == "out"
            and index >= 2
            and result[index - 2].direction == "in"
        ):
            result[index - 1], result[index] = record, previous
        index += 1
    return result


@dataclass
class Step:
    """One thing the route does: send ``command``, or (``command`` None) stay idle a moment."""

    command: str | None


def route_steps(records: list[Record]) -> list[Step]:
    steps: list[Step] = []
    for record in records:
        if record.direction == "out":
            steps.append(Step(record.data.decode("utf-8").rstrip("\n")))
        elif record.direction == "note" and record.note.startswith("client idle"):
            steps.append(Step(None))
    return steps


async def play_asterisk_side(port: int, records: list[Record]) -> bytes:
    """Write every "in" record, read and check every "out" record; then expect EOF."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    received = bytearray()
    try:
        for position, record in enumerate(records):
            if record.direction == "in":
                writer.write(record.data)
                await writer.drain()
            elif record.direction == "out":
                try:
                    async with asyncio.timeout(READ_LIMIT):
                        got = await reader.readexactly(len(record.data))
                except (TimeoutError, asyncio.IncompleteReadError) as exc:
                    partial = getattr(exc, "partial", b"")
                    raise ReplayMismatch(
                        f"record {position}: expected {record.data!r}, got only "
                        f"{bytes(received)[-80:]!r} + {partial!r}"
                    ) from None
                received += got
                if got != record.data:
                    raise ReplayMismatch(
                        f"record {position}: expected {record.data!r}, server wrote {got!r}"
                    )
        async with asyncio.timeout(READ_LIMIT):
            rest = await reader.read()
        if rest:
            raise ReplayMismatch(f"server wrote more than the capture: {rest!r}")
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
    return bytes(received)


Outcome = tuple[str, object]
Runner = Callable[[AGISession], Awaitable[object]]


def typed_call(command: str) -> Runner:
    """The typed helper that writes exactly ``command`` (raw ``command()`` when none fits)."""
    head, _, rest = command.partition(" ")
    words = command.split(" ")
    args = shlex.split(rest) if rest else []

    def raw(session: AGISession) -> Awaitable[object]:
        return session.command(command)

    if command == "ANSWER":
        return lambda s: s.answer()
    if command == "NOOP":
        return lambda s: s.noop()
    if command == "HANGUP":
        return lambda s: s.hangup()
    if command == "CHANNEL STATUS":
        return lambda s: s.channel_status()
    if command == "SET MUSIC OFF":
        return lambda s: s.set_music(False)
    if words[:3] == ["SET", "MUSIC", "ON"] and len(words) == 4:
        return lambda s: s.set_music(True, words[3])
    if words[:2] == ["STREAM", "FILE"] and len(words) >= 4:
        sound, digits, *offset = shlex.split(command)[2:]
        return lambda s: s.stream_file(sound, digits, offset=int(offset[0]) if offset else None)
    if words[:2] == ["GET", "DATA"] and len(words) == 5:
        return lambda s: s.get_data(words[2], int(words[3]), int(words[4]))
    if words[:3] == ["WAIT", "FOR", "DIGIT"] and len(words) == 4:
        return lambda s: s.wait_for_digit(int(words[3]))
    if words[:2] == ["SAY", "NUMBER"] and len(words) == 4:
        return lambda s: s.say_number(int(words[2]), shlex.split(words[3])[0])
    if words[:2] == ["SAY", "DIGITS"] and len(words) == 4:
        return lambda s: s.say_digits(words[2], shlex.split(words[3])[0])
    if words[:2] == ["RECORD", "FILE"]:
        path, fmt, digits, timeout, _offset, *options = shlex.split(command)[2:]
        silence = [int(o[2:]) for o in options if o.startswith("s=")]
        return lambda s: s.record_file(
            path,
            fmt,
            digits,
            int(timeout),
            beep="BEEP" in options,
            silence_s=silence[0] if silence else None,
        )
    if words[:2] == ["SET", "VARIABLE"] and len(words) >= 4:
        name, value = shlex.split(command)[2:]
        return lambda s: s.set_variable(name, value)
    if words[:3] == ["GET", "FULL", "VARIABLE"] and len(words) == 4:
        return lambda s: s.get_full_variable(words[3])
    if words[:2] == ["GET", "VARIABLE"] and len(words) == 3:
        return lambda s: s.get_variable(words[2])
    if head == "EXEC" and len(args) >= 1:
        return lambda s: s.exec(args[0], " ".join(args[1:]))
    if head == "VERBOSE" and len(args) == 2:
        return lambda s: s.verbose(args[0], int(args[1]))
    return raw


@dataclass
class ScriptedRoute:
    """A route that issues the captured commands and records each outcome."""

    steps: list[Step]
    typed: bool
    outcomes: list[Outcome] = field(default_factory=list)
    idle_saw_hangup: list[bool] = field(default_factory=list)
    hung_up_after: list[bool] = field(default_factory=list)
    env: AGIEnvironment | None = None
    hung_up_at_end: bool = False

    async def __call__(self, session: AGISession) -> None:
        self.env = session.env
        for step in self.steps:
            if step.command is None:
                self.idle_saw_hangup.append(await session.wait_for_hangup(0.05))
                continue
            runner = typed_call(step.command) if self.typed else None
            try:
                if runner is None:
                    value: object = await session.command(step.command)
                else:
                    value = await runner(session)
            except CallerHungUp:
                self.outcomes.append(("hung_up", None))
            except AGICommandError as exc:
                self.outcomes.append(("error", exc.code))
            else:
                self.outcomes.append(("ok", value))
            self.hung_up_after.append(session.hung_up)
        if self.steps and self.steps[-1].command is not None:
            # Let a HANGUP that follows the last reply arrive, as a real route would idle.
            await session.wait_for_hangup(0.05)
        self.hung_up_at_end = session.hung_up
