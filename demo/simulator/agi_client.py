"""The FastAGI side Asterisk plays: connect, send the agi_* block, answer commands like res_agi."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import shlex
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .agi_usage import usage_reply
from .call import SimulatedCall, StreamControl
from .dial import run_dial

if TYPE_CHECKING:
    from .pbx import PBXSimulator

log = logging.getLogger(__name__)

DEAD = "511 Command Not Permitted on a dead channel or intercept routine\n"
SAMPLES_PER_SECOND = 8000
SAY_DIGIT_SECONDS = 0.83  # measured: SAY DIGITS 123 took 2.49 s, SAY NUMBER 3 0.84 s
BEEP_SECONDS = 0.43  # RECORD FILE ... BEEP took 2.43 s for a 2000 ms timeout
HANGUP_NOTIFY_DELAY = 0.042  # HANGUP line after the AGI HANGUP command (42 ms in captures)
SKIP_SAMPLES = 3 * SAMPLES_PER_SECOND  # ControlPlayback forward/reverse: file.c's default 3000 ms

# Commands res_agi allows on a dead channel (its "dead" flag); the rest answer 511.
DEAD_OK = {
    "ASYNCAGI BREAK",
    "DATABASE DEL",
    "DATABASE DELTREE",
    "DATABASE GET",
    "DATABASE PUT",
    "EXEC",
    "GET FULL VARIABLE",
    "GET VARIABLE",
    "NOOP",
    "SET VARIABLE",
    "VERBOSE",
    "GOSUB",
}
# Longest first so "GET FULL VARIABLE" wins over "GET ..." and "SET MUSIC" over "SET".
COMMANDS = sorted(
    [
        "ANSWER",
        "ASYNCAGI BREAK",
        "CHANNEL STATUS",
        "DATABASE DEL",
        "DATABASE DELTREE",
        "DATABASE GET",
        "DATABASE PUT",
        "EXEC",
        "GET DATA",
        "GET FULL VARIABLE",
        "GET OPTION",
        "GET VARIABLE",
        "HANGUP",
        "NOOP",
        "RECORD FILE",
        "SAY DIGITS",
        "SAY NUMBER",
        "SET CONTEXT",
        "SET EXTENSION",
        "SET MUSIC",
        "SET PRIORITY",
        "SET VARIABLE",
        "STREAM FILE",
        "VERBOSE",
        "WAIT FOR DIGIT",
        "SET CALLERID",
        "SET AUTOHANGUP",
        "GOSUB",
    ],
    key=len,
    reverse=True,
)
MIN_ARGS = {
    "STREAM FILE": 2,
    "GET DATA": 1,
    "SET VARIABLE": 2,
    "WAIT FOR DIGIT": 1,
    "EXEC": 1,
    "SAY DIGITS": 2,
    "SAY NUMBER": 2,
    "RECORD FILE": 4,
    "GET VARIABLE": 1,
    "GET FULL VARIABLE": 1,
    "SET MUSIC": 1,
    "VERBOSE": 1,
    "DATABASE PUT": 3,
    "DATABASE GET": 2,
    "DATABASE DEL": 2,
    "SET CONTEXT": 1,
    "SET EXTENSION": 1,
    "SET PRIORITY": 1,
    "GET OPTION": 2,
}


@dataclass(frozen=True)
class AGIAddress:
    host: str
    port: int
    script: str
    url: str


def parse_agi_url(url: str) -> AGIAddress:
    parts = urlsplit(url)
    if parts.scheme != "agi" or not parts.hostname:
        raise ValueError(f"AGI URL {url!r}: expected agi://host[:port]/script")
    return AGIAddress(parts.hostname, parts.port or 4573, parts.path.lstrip("/"), url)


def split_args(text: str) -> list[str]:
    """AGI argument splitting: whitespace, double quotes group (res_agi parse_args)."""
    try:
        return shlex.split(text, posix=True)
    except ValueError:
        return text.split()


class FastAGISession:
    """One FastAGI connection for one simulated call."""

    def __init__(self, pbx: PBXSimulator, call: SimulatedCall, address: AGIAddress) -> None:
        self.pbx = pbx
        self.call = call
        self.address = address
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.notified = False  # the HANGUP line was sent
        self.controller_hung_up = False
        self._late_hangup: asyncio.Task[None] | None = None

    # -- connection ------------------------------------------------------------------------------
    async def connect(self) -> bool:
        try:
            self.reader, self.writer = await asyncio.wait_for(
                asyncio.open_connection(self.address.host, self.address.port), 5.0
            )
        except (OSError, TimeoutError) as exc:
            log.info("FastAGI connect to %s failed: %s", self.address.url, exc)
            return False
        return True

    def environment(self) -> str:
        ch = self.call.channel
        script = self.call.script
        pbx = self.pbx
        lines = [
            ("agi_network", "yes"),
            ("agi_network_script", self.address.script),
            ("agi_request", self.address.url),
            ("agi_channel", ch.name),
            ("agi_language", ch.language),
            ("agi_type", ch.tech),
            ("agi_uniqueid", ch.uniqueid),
            ("agi_version", pbx.version),
            ("agi_callerid", ch.callerid_num or "unknown"),
            ("agi_calleridname", ch.callerid_name or "unknown"),
            ("agi_callingpres", "0"),
            ("agi_callingani2", "0"),
            ("agi_callington", "0"),
            ("agi_callingtns", "0"),
            ("agi_dnid", script.dialed if ch.tech == "PJSIP" else "unknown"),
            ("agi_rdnis", "unknown"),
            ("agi_context", ch.context),
            ("agi_extension", ch.exten),
            ("agi_priority", str(ch.priority)),
            ("agi_enhanced", "0.0"),
            ("agi_accountcode", ch.accountcode),
            ("agi_threadid", str(pbx.thread_id)),
        ]
        return "".join(f"{k}: {v}\n" for k, v in lines) + "\n"

    async def send(self, text: str) -> None:
        if self.writer is None or self.writer.is_closing():
            return
        self.writer.write(text.encode("utf-8"))
        with contextlib.suppress(OSError):
            await self.writer.drain()

    async def notify_hangup(self) -> None:
        if not self.notified:
            self.notified = True
            await self.send("HANGUP\n")

    async def run(self) -> None:
        """Serve commands until the FastAGI server closes the connection."""
        assert self.reader is not None
        await self.send(self.environment())
        reader = self.reader
        while True:
            read = asyncio.ensure_future(reader.readline())
            if not self.notified and self.call.agi_dead:
                await self.notify_hangup()
            if not self.notified:
                gone = asyncio.ensure_future(self.call.interrupted.wait())
                done, _ = await asyncio.wait({read, gone}, return_when=asyncio.FIRST_COMPLETED)
                if read not in done:
                    gone.cancel()
                    await self.notify_hangup()  # idle socket gets HANGUP at once
                else:
                    gone.cancel()
            try:
                raw = await read
            except (OSError, asyncio.IncompleteReadError, ValueError):
                raw = b""
            if not raw or not raw.endswith(b"\n"):
                break
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if not line.strip():
                continue
            await self.handle(line)
        # EOF from the client: Asterisk writes one more HANGUP and closes.
        with contextlib.suppress(Exception):
            await self.send("HANGUP\n")
        await self.close()

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()

    # -- command dispatch ------------------------------------------------------------------------
    async def handle(self, line: str) -> None:
        if self._late_hangup is not None:
            # res_agi writes HANGUP before it reads the next command after an AGI HANGUP
            await self._late_hangup
        elif self.call.agi_dead and not self.notified:
            await self.notify_hangup()
        upper = line.upper()
        command = next((c for c in COMMANDS if upper == c or upper.startswith(c + " ")), None)
        ev = self.pbx.events
        ch = self.call.channel
        command_id = str(random.randint(100_000_000, 999_999_999))
        ev.agi_exec(ch, True, command_id, line)
        if command is None:
            reply, code = "510 Invalid or unknown command\n", "510"
            result = "Invalid or unknown command"
        else:
            args = split_args(line[len(command) :])
            if len(args) < MIN_ARGS.get(command, 0):
                reply, code, result = usage_reply(command), "520", "Usage"
            elif self.call.agi_dead and command not in DEAD_OK:
                reply, code = DEAD, "511"
                result = "Command Not Permitted on a dead channel or intercept routine"
            else:
                reply = await self.execute(command, args)
                failed = command in ("STREAM FILE", "WAIT FOR DIGIT") and reply.startswith(
                    "200 result=-1"
                )
                code = "-1" if failed else "200"  # as AGIExecEnd reports RESULT_FAILURE
                result = (
                    "Failure"
                    if failed
                    else "Unknown Result"
                    if reply == "200 result=-2\n"
                    else "Success"
                )
        await self.send(reply)
        ev.agi_exec(ch, False, command_id, line, code, result)
        if self.call.agi_dead and not self.notified and not self.controller_hung_up:
            await self.notify_hangup()

    async def execute(self, command: str, args: list[str]) -> str:
        handler = getattr(self, "cmd_" + command.lower().replace(" ", "_"), None)
        if handler is None:
            return "200 result=0\n"
        reply: str = await handler(args)
        return reply

    # -- commands --------------------------------------------------------------------------------
    async def cmd_answer(self, args: list[str]) -> str:
        return "200 result=0\n"

    async def cmd_noop(self, args: list[str]) -> str:
        return "200 result=0\n"

    async def cmd_asyncagi_break(self, args: list[str]) -> str:
        return "200 result=0\n"

    async def cmd_verbose(self, args: list[str]) -> str:
        return "200 result=1\n"

    async def cmd_set_context(self, args: list[str]) -> str:
        self.call.channel.context = args[0]
        return "200 result=0\n"

    async def cmd_set_extension(self, args: list[str]) -> str:
        self.call.channel.exten = args[0]
        return "200 result=0\n"

    async def cmd_set_priority(self, args: list[str]) -> str:
        with contextlib.suppress(ValueError):
            self.call.channel.priority = int(args[0])
        return "200 result=0\n"

    async def cmd_set_callerid(self, args: list[str]) -> str:
        return "200 result=1\n"

    async def cmd_set_autohangup(self, args: list[str]) -> str:
        return "200 result=0\n"

    async def cmd_channel_status(self, args: list[str]) -> str:
        if args and args[0] != self.call.channel.name:
            other = self.pbx.channels.get(args[0])
            return f"200 result={int(other.state)}\n" if other else "200 result=-1\n"
        return f"200 result={int(self.call.channel.state)}\n"

    async def cmd_set_variable(self, args: list[str]) -> str:
        self.pbx.events.varset(self.call.channel, args[0], args[1])
        return "200 result=1\n"

    async def cmd_get_variable(self, args: list[str]) -> str:
        value = self.pbx.lookup_variable(self.call.channel, args[0])
        return "200 result=0\n" if value is None else f"200 result=1 ({value})\n"

    async def cmd_get_full_variable(self, args: list[str]) -> str:
        return f"200 result=1 ({self.pbx.substitute(self.call.channel, args[0])})\n"

    async def cmd_database_put(self, args: list[str]) -> str:
        self.pbx.astdb[(args[0], args[1])] = args[2]
        return "200 result=1\n"

    async def cmd_database_get(self, args: list[str]) -> str:
        value = self.pbx.astdb.get((args[0], args[1]))
        return "200 result=0\n" if value is None else f"200 result=1 ({value})\n"

    async def cmd_database_del(self, args: list[str]) -> str:
        return (
            "200 result=1\n"
            if self.pbx.astdb.pop((args[0], args[1]), None) is not None
            else "200 result=0\n"
        )

    async def cmd_set_music(self, args: list[str]) -> str:
        if args[0].lower() == "on":
            self.call.music_on(args[1] if len(args) > 1 else "default")
        else:
            self.call.music_off()
        return "200 result=0\n"

    async def cmd_hangup(self, args: list[str]) -> str:
        if args and args[0] != self.call.channel.name:
            other = self.pbx.channels.get(args[0])
            if other is None:
                return "200 result=-1\n"
            self.pbx.request_hangup(other.name, 16)
            return "200 result=1\n"
        call = self.call
        self.pbx.events.soft_hangup_request(call.channel, 32)
        call.hung_up_by = call.hung_up_by or "controller"
        call.agi_dead = True
        call.controller_hung_up = True
        self.controller_hung_up = True
        call.music_off()
        self._late_hangup = asyncio.get_running_loop().create_task(self._late_hangup_line())
        return "200 result=1\n"

    async def _late_hangup_line(self) -> None:
        await self.pbx.clock.sleep(HANGUP_NOTIFY_DELAY)
        await self.notify_hangup()

    async def _play(
        self, seconds: float, escape: str | None, arm: bool = True
    ) -> tuple[int, float]:
        """Play for `seconds`; returns (ascii of the escape digit or 0 or -1, seconds played)."""
        outcome = await self.call.wait_input(seconds, escape, arm=arm)
        if outcome.kind == "hangup":
            return -1, outcome.elapsed
        if outcome.kind == "digit":
            return ord(outcome.digit), outcome.elapsed
        return 0, seconds

    async def _stream(self, total: int, offset: int, escape: str | None) -> tuple[int, int]:
        """Play a file of `total` samples from `offset` as file.c's waitstream does; returns
        (result, endpos): an escape digit ends it (its ascii), a hang-up too (-1); an AMI
        ControlPlayback `stop`, `pause` or `restart` ends it like the end of the file (0: Asterisk
        hides the control from STREAM FILE), `forward`/`reverse` skip 3 s and it plays on."""
        position, arm = offset, True
        while True:
            remaining = (total - position) / SAMPLES_PER_SECOND
            outcome = await self.call.wait_input(remaining, escape, arm=arm, controls=True)
            arm = False
            if outcome.kind == "timeout":
                return 0, total
            position = min(total, position + int(outcome.elapsed * SAMPLES_PER_SECOND))
            if outcome.kind == "hangup":
                return -1, position
            if outcome.kind == "digit":
                return ord(outcome.digit), position
            if outcome.control is StreamControl.FORWARD:
                if position + SKIP_SAMPLES < total:  # a skip past the end is undone
                    position += SKIP_SAMPLES
            elif outcome.control is StreamControl.REVERSE:
                position = max(0, position - SKIP_SAMPLES)
            else:
                return 0, position

    async def cmd_stream_file(self, args: list[str]) -> str:
        self.call.music_off()
        duration = self.pbx.sounds.duration(args[0])
        if duration is None:
            return "200 result=-1 endpos=0\n"  # Asterisk sets no PLAYBACKSTATUS here
        offset = 0
        if len(args) > 2:
            with contextlib.suppress(ValueError):
                offset = int(args[2])
        total = int(duration * SAMPLES_PER_SECOND)
        if offset >= total:
            # Asterisk seeks past the end and reports the file length
            self.pbx.events.varset(self.call.channel, "PLAYBACKSTATUS", "SUCCESS")
            return f"200 result=0 endpos={total}\n"
        result, endpos = await self._stream(total, offset, args[1])
        self.pbx.events.varset(
            self.call.channel, "PLAYBACKSTATUS", "FAILED" if result == -1 else "SUCCESS"
        )
        return f"200 result={result} endpos={endpos}\n"

    async def cmd_wait_for_digit(self, args: list[str]) -> str:
        try:
            timeout_ms = int(args[0])
        except ValueError:
            return usage_reply("WAIT FOR DIGIT")
        seconds = None if timeout_ms < 0 else timeout_ms / 1000
        outcome = await self.call.wait_input(seconds, None, controls=True)
        if outcome.kind == "hangup":
            return "200 result=-1\n"
        if outcome.kind == "digit":
            return f"200 result={ord(outcome.digit)}\n"
        if outcome.control is not None:
            # channel.c's ast_waitfordigit_full returns the control frame's number as the key
            return f"200 result={int(outcome.control)}\n"
        return "200 result=0\n"

    async def cmd_get_data(self, args: list[str]) -> str:
        self.call.music_off()
        timeout_s = 6.0
        if len(args) > 1:
            with contextlib.suppress(ValueError):
                timeout_s = int(args[1]) / 1000 if int(args[1]) > 0 else 6.0
        max_digits = 1024
        if len(args) > 2:
            with contextlib.suppress(ValueError):
                max_digits = max(1, int(args[2]))
        duration = self.pbx.sounds.duration(args[0]) or 0.0
        digits = ""
        # the prompt: a ControlPlayback stop ends it and the digits are waited for
        first, _ = await self._stream(int(duration * SAMPLES_PER_SECOND), 0, None)
        if first == -1:
            return "200 result=-1\n"
        if first > 0:
            digits = chr(first)
        while len(digits) < max_digits and not digits.endswith("#"):
            outcome = await self.call.wait_input(timeout_s, None, arm=not digits)
            if outcome.kind == "hangup":
                return "200 result=-1\n"
            if outcome.kind == "timeout":
                shown = digits.rstrip("#")
                return f"200 result={shown} (timeout)\n"
            digits += outcome.digit
        return f"200 result={digits.rstrip('#')}\n"

    async def _say(self, text: str, escape: str) -> str:
        spoken = len(text) if text else 1
        result, _ = await self._play(spoken * SAY_DIGIT_SECONDS, escape)
        return f"200 result={result}\n"

    async def cmd_say_digits(self, args: list[str]) -> str:
        self.call.music_off()
        return await self._say(re.sub(r"[^0-9*#]", "", args[0]), args[1])

    async def cmd_say_number(self, args: list[str]) -> str:
        self.call.music_off()
        try:
            number = int(args[0])
        except ValueError:
            return usage_reply("SAY NUMBER")
        # Polish/English number words: roughly one word per digit group
        words = max(1, len(str(abs(number))) - str(abs(number)).count("0"))
        result, _ = await self._play(words * SAY_DIGIT_SECONDS, args[1])
        return f"200 result={result}\n"

    async def cmd_record_file(self, args: list[str]) -> str:
        path, fmt, escape = args[0], args[1], args[2]
        try:
            timeout_ms = int(args[3])
        except ValueError:
            return usage_reply("RECORD FILE")
        rest = [a.upper() for a in args[4:]]
        beep = "BEEP" in rest
        silence = next((int(a[2:]) for a in rest if a.startswith("S=") and a[2:].isdigit()), None)
        self.call.music_off()
        if beep:
            await self.call.wait_input(BEEP_SECONDS, "")
        max_s = None if timeout_ms < 0 else timeout_ms / 1000
        utterance = self.call.script.utterance
        speech = await _audio_seconds(utterance) if utterance is not None else 0.0
        # The caller speaks at once; silence detection ends the take `silence` s after the speech.
        limit = max_s
        if silence is not None and speech > 0:
            limit = speech + silence if max_s is None else min(max_s, speech + silence)
        outcome = await self.call.wait_input(limit, escape or "")
        seconds = outcome.elapsed if outcome.kind != "timeout" else (limit or 0.0)
        target = Path(f"{path}.{fmt}")
        await asyncio.get_running_loop().run_in_executor(
            None, _write_recording, target, fmt, utterance, seconds
        )
        self.call.recordings.append(target)
        endpos = int(seconds * SAMPLES_PER_SECOND)
        if outcome.kind == "hangup":
            return f"200 result=-1 (hangup) endpos={endpos}\n"
        if outcome.kind == "digit":
            return f"200 result={ord(outcome.digit)} (dtmf) endpos={endpos}\n"
        return f"200 result=0 (timeout) endpos={endpos}\n"

    async def cmd_exec(self, args: list[str]) -> str:
        app = args[0]
        app_args = " ".join(args[1:])
        lower = app.lower()
        if lower == "dial":
            result = await run_dial(self.pbx, self.call, app_args)
            return f"200 result={result}\n"
        if self.call.agi_dead:
            return "200 result=-1\n"
        if lower in ("playback", "background"):
            self.call.music_off()
            total = 0.0
            for name in app_args.split(",")[0].split("&"):
                total += self.pbx.sounds.duration(name.strip()) or 0.0
            result, _ = await self._play(total, "" if lower == "playback" else None)
            if lower == "playback":
                self.pbx.events.varset(
                    self.call.channel, "PLAYBACKSTATUS", "FAILED" if result == -1 else "SUCCESS"
                )
            return f"200 result={-1 if result == -1 else 0}\n"
        if lower == "wait":
            try:
                seconds = float(app_args.split(",")[0] or 0)
            except ValueError:
                seconds = 0.0
            result, _ = await self._play(seconds, "")
            return f"200 result={result}\n"
        if lower == "musiconhold":
            parts = app_args.split(",")
            self.call.music_on(parts[0] or "default")
            duration = float(parts[1]) if len(parts) > 1 and parts[1].strip() else None
            outcome = await self.call.wait_input(duration, "")
            self.call.music_off()
            return "200 result=-1\n" if outcome.kind == "hangup" else "200 result=0\n"
        if lower in ("noop", "set", "verbose", "answer", "ringing", "progress", "log"):
            if lower == "set" and "=" in app_args:
                name, _, value = app_args.partition("=")
                self.pbx.events.varset(self.call.channel, name, value)
            return "200 result=0\n"
        if lower == "hangup":
            await self.cmd_hangup([])
            return "200 result=-1\n"
        return "200 result=-2\n"


async def _audio_seconds(path: Path) -> float:
    def measure() -> float:
        try:
            with wave.open(str(path), "rb") as w:
                return w.getnframes() / float(w.getframerate() or SAMPLES_PER_SECOND)
        except (OSError, wave.Error, EOFError):
            try:
                return path.stat().st_size / (2 * SAMPLES_PER_SECOND)
            except OSError:
                return 0.0

    return await asyncio.get_running_loop().run_in_executor(None, measure)


def _write_recording(target: Path, fmt: str, utterance: Path | None, seconds: float) -> None:
    """Write what the caller said (their utterance file) or silence of the recorded length."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if utterance is not None and utterance.exists():
        target.write_bytes(utterance.read_bytes())
        return
    frames = b"\x00\x00" * int(seconds * SAMPLES_PER_SECOND)
    if fmt.lower() == "wav":
        with wave.open(str(target), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SAMPLES_PER_SECOND)
            w.writeframes(frames)
    else:
        target.write_bytes(frames)
