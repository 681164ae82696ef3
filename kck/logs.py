"""Structured logging: plain or JSON lines, with the call id of the current call on every line."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

call_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "kck_call_id", default=None
)


@contextmanager
def call_context(call_id: str) -> Iterator[None]:
    """Every log line written inside carries `call_id` (tasks started inside inherit it)."""
    token = call_id_var.set(call_id)
    try:
        yield
    finally:
        call_id_var.reset(token)


class _CallIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "call_id"):
            record.call_id = call_id_var.get()
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO), level, logger, message, call_id, extras."""

    _STANDARD = frozenset(vars(logging.makeLogRecord({})).keys()) | {
        "message",
        "asctime",
        "call_id",
    }

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        call_id = getattr(record, "call_id", None)
        if call_id:
            payload["call_id"] = call_id
        for key, value in vars(record).items():
            if key not in self._STANDARD and not key.startswith("_"):
                payload[key] = (
                    value if isinstance(value, str | int | float | bool | None) else repr(value)
                )
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s%(call)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        call_id = getattr(record, "call_id", None)
        record.call = f" [{call_id}]" if call_id else ""
        return super().format(record)


def configure_logging(level: str = "INFO", json_lines: bool = False) -> None:
    """Install one stderr handler on the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_kck", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter() if json_lines else PlainFormatter())
    handler.addFilter(_CallIdFilter())
    handler._kck = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("aiohttp.access", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
