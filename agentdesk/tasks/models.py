"""The agents' task table: one row per callback to make or voicemail to hear, audited by state."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kck.db.models import Base, utcnow


class TaskKind(enum.StrEnum):
    CALLBACK = "callback"  # call the resident back (from wrap-up or a voicemail)
    VOICEMAIL = "voicemail"  # a message a caller left in a box


class TaskState(enum.StrEnum):
    OPEN = "open"  # waiting for an agent (a voicemail)
    CLAIMED = "claimed"  # one agent works on it
    SCHEDULED = "scheduled"  # a callback waiting for its window to open
    QUEUED = "queued"  # a callback handed to the router (offered like the IVR's)
    CLOSED = "closed"


class AgentTask(Base):
    """`call_id` is the call the task comes from: one task of each kind per call (idempotent)."""

    __tablename__ = "agent_tasks"
    __table_args__ = (UniqueConstraint("kind", "call_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    call_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), index=True)
    skill: Mapped[str | None] = mapped_column(String(32))  # who may see it (the box's skill)
    queue: Mapped[str | None] = mapped_column(String(64))
    number: Mapped[str | None] = mapped_column(String(32))  # E.164, the resident's
    recording: Mapped[str | None] = mapped_column(String(300))  # under the recordings folder
    note: Mapped[str | None] = mapped_column(Text)
    window_from: Mapped[datetime | None]
    window_until: Mapped[datetime | None]
    router_call_id: Mapped[str | None] = mapped_column(String(80))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))
    closed_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None]
