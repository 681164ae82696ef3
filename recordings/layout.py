"""Where a call's recording lives in the shared folder: by local date, then the call."""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePosixPath
from zoneinfo import ZoneInfo


def recording_path(call_id: str, started_at: datetime, tz: ZoneInfo) -> PurePosixPath:
    """`2026/12/07/<call id>.wav` (the centre's date: a night call files under its own day)."""
    if not call_id or "/" in call_id or call_id.startswith("."):
        raise ValueError(f"call id {call_id!r} cannot name a recording file")
    day = started_at.astimezone(tz)
    return PurePosixPath(f"{day:%Y}", f"{day:%m}", f"{day:%d}", f"{call_id}.wav")
