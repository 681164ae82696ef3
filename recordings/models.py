"""The recordings table: one row per recorded call, its file and what is known of it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kck.db.models import Base, utcnow


class RecordingState(enum.StrEnum):
    RECORDING = "recording"  # MixMonitor runs on the caller's channel
    DONE = "done"  # the file is closed, measured and checked
    MISSING = "missing"  # the call ended but Asterisk left no (complete) file
    FAILED = "failed"  # Asterisk refused MixMonitor


class Recording(Base):
    """A call's recording: `path` is relative to `recordings.folder` (kck's view)."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(32), unique=True)
    uniqueid: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(128))
    agent: Mapped[str | None] = mapped_column(String(64), index=True)
    queue: Mapped[str | None] = mapped_column(String(64), index=True)
    consent: Mapped[bool] = mapped_column(Boolean)
    path: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default=RecordingState.RECORDING.value)
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ended_at: Mapped[datetime | None]
    duration_s: Mapped[float | None] = mapped_column(Float)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    pauses: Mapped[int] = mapped_column(Integer, default=0)
    problem: Mapped[str | None] = mapped_column(Text)
    # kept past its retention while a matter about the call is disputed
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_reason: Mapped[str | None] = mapped_column(Text)
