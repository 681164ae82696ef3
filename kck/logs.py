"""Structured logging: plain or JSON lines; every line of a call carries its ids, ours and
Asterisk's (`call_context`); repeated warnings and errors are rate-limited (`RepeatedLinesFilter`);
phone numbers never reach the log whole (`mask_phone_numbers`, docs/privacy.md)."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(slots=True)
class CallIds:
    """The ids every log line of one call carries: ours (`call_id`, the calls table's) and
    Asterisk's channel `uniqueid`. One object per call, shared by the tasks the call starts:
    an id learnt later is added to it, so the lines of a task started before (the AGI session's
    reader) carry it from then on."""

    call_id: str | None = None
    uniqueid: str | None = None

    def same_call(self, call_id: str | None, uniqueid: str | None) -> bool:
        """True when these ids may be the same call (neither differs from one known)."""
        return (call_id is None or self.call_id in (None, call_id)) and (
            uniqueid is None or self.uniqueid in (None, uniqueid)
        )


_call_ids: contextvars.ContextVar[CallIds | None] = contextvars.ContextVar(
    "kck_call_ids", default=None
)


class call_context:
    """Every log line written inside, and in tasks started inside, carries the call's ids.

    Inside the context of the same call (the FastAGI server's, which knows the uniqueid, when the
    IVR route names our call id), the ids given are added to that call's `CallIds` and stay on
    it for the rest of the call; otherwise this is a context of its own until the block ends.
    A class with slots, not a generator: a live call keeps three of these open for its whole
    length (issue 20, point 1: ≈ 0.9 KiB per call as generators).
    """

    __slots__ = ("_call_id", "_token", "_uniqueid")

    def __init__(self, call_id: str | None = None, *, uniqueid: str | None = None) -> None:
        self._call_id = call_id
        self._uniqueid = uniqueid
        self._token: contextvars.Token[CallIds | None] | None = None

    def __enter__(self) -> CallIds:
        call_id, uniqueid = self._call_id, self._uniqueid
        current = _call_ids.get()
        if current is not None and current.same_call(call_id, uniqueid):
            current.call_id = call_id or current.call_id
            current.uniqueid = uniqueid or current.uniqueid
            return current
        ids = CallIds(call_id, uniqueid)
        self._token = _call_ids.set(ids)
        return ids

    def __exit__(self, *exc: object) -> None:
        token, self._token = self._token, None
        if token is not None:
            _call_ids.reset(token)


class CallIdsFilter(logging.Filter):
    """Puts the current call's `call_id` and `uniqueid` on each record (unless it has them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = _call_ids.get()
        if not hasattr(record, "call_id"):
            record.call_id = ids.call_id if ids else None
        if not hasattr(record, "uniqueid"):
            record.uniqueid = ids.uniqueid if ids else None
        return True


@dataclass
class _Seen:
    since: float  # when the line last passed
    suppressed: int = 0  # like lines dropped since


class RepeatedLinesFilter(logging.Filter):
    """One line per kind of warning or error per `interval_s`, with a count of the rest.

    A kind is the logging call site and its message template (not its arguments: the same failure
    for 1,000 calls is one kind) and the exception type. The first line of a kind passes; like
    lines within `interval_s` are counted, not written; the first one after the interval passes
    with `repeated` = that count (plain: "[N more like this in the last S s]", JSON: `repeated`,
    `repeated_in_s`). A count whose kind never comes back is not written. INFO and DEBUG pass
    untouched.
    """

    MAX_KINDS = 1000  # beyond this many kinds, those quiet for an interval are forgotten

    def __init__(
        self,
        interval_s: float = 30.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        level: int = logging.WARNING,
    ) -> None:
        super().__init__()
        self.interval_s = interval_s
        self.level = level
        self._clock = clock
        self._seen: dict[tuple[object, ...], _Seen] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < self.level or self.interval_s <= 0:
            return True
        exc_type = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else None
        kind = (
            record.name,
            record.levelno,
            record.pathname,
            record.lineno,
            str(record.msg),
            exc_type,
        )
        now = self._clock()
        seen = self._seen.get(kind)
        if seen is not None and now - seen.since < self.interval_s:
            seen.suppressed += 1
            return False
        if seen is not None and seen.suppressed:
            record.repeated = seen.suppressed
            record.repeated_in_s = round(now - seen.since, 1)
        if len(self._seen) >= self.MAX_KINDS:
            self._forget_quiet(now)
        self._seen[kind] = _Seen(now)
        return True

    def _forget_quiet(self, now: float) -> None:
        for kind in [k for k, s in self._seen.items() if now - s.since >= self.interval_s]:
            del self._seen[kind]


# A phone number in a line: E.164 (+48600100200) or a run of 9 to 15 digits that is no part of a
# longer token (a hex id, Asterisk's uniqueid 1733312345.12, a time); its last 3 digits stay.
_PHONE_NUMBER = re.compile(r"(?<![\w.])(\+\d{4,12}|\d{6,12})(\d{3})(?!\w|\.\d)")


def _masked(match: re.Match[str]) -> str:
    return ("+" if match.group(1).startswith("+") else "") + "***" + match.group(2)


def mask_phone_numbers(text: str) -> str:
    """`text` with every phone number in it cut to its last 3 digits (`+48600100200` →
    `+***200`): whatever a message, an argument or a traceback carries (a database error quotes
    its parameters), callers' numbers are not written to the log."""
    return _PHONE_NUMBER.sub(_masked, text)


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO), level, logger, message, call_id, uniqueid,
    extras."""

    _STANDARD = frozenset(vars(logging.makeLogRecord({})).keys()) | {
        "message",
        "asctime",
        "call_id",
        "uniqueid",
    }

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in ("call_id", "uniqueid"):
            if value := getattr(record, field, None):
                payload[field] = value
        for key, value in vars(record).items():
            if key not in self._STANDARD and not key.startswith("_"):
                payload[key] = (
                    value if isinstance(value, str | int | float | bool | None) else repr(value)
                )
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return mask_phone_numbers(json.dumps(payload, ensure_ascii=False))


class PlainFormatter(logging.Formatter):
    """`<time> <level> <logger> [call=<our id> uniqueid=<Asterisk's>]: <message>`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s%(call)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = [
            f"{label}={value}"
            for label, value in (
                ("call", getattr(record, "call_id", None)),
                ("uniqueid", getattr(record, "uniqueid", None)),
            )
            if value
        ]
        record.call = f" [{' '.join(ids)}]" if ids else ""
        line = super().format(record)
        if repeated := getattr(record, "repeated", None):
            first, newline, rest = line.partition("\n")  # after the message, before a traceback
            within = getattr(record, "repeated_in_s", 0.0)
            more = f" [{repeated} more like this in the last {within:g} s]"
            line = first + more + newline + rest
        return mask_phone_numbers(line)


def configure_logging(
    level: str = "INFO", json_lines: bool = False, repeat_interval_s: float = 30.0
) -> None:
    """Install one stderr handler on the root logger (idempotent); repeated warnings and errors
    are written once per `repeat_interval_s` with a count (`RepeatedLinesFilter`; 0 = all)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_kck", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter() if json_lines else PlainFormatter())
    handler.addFilter(CallIdsFilter())
    handler.addFilter(RepeatedLinesFilter(repeat_interval_s))
    handler._kck = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("aiohttp.access", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
