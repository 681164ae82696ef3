"""The history tables of the core: users (agents and staff), calls, agent state log, audit log."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, MetaData, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from kck.db.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    """Declarative base for every kck table (other packages import it for theirs)."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class Role(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    EDITOR = "editor"
    ADMIN = "admin"
    UNIT = "unit"  # an officer of a city unit: the inbox of their units' matters


class CallOutcome(enum.StrEnum):
    """How a call ended for the centre (not the agent's wrap-up outcome)."""

    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    SELF_SERVICE = "self_service"
    CALLBACK = "callback"
    CALLBACK_FAILED = "callback_failed"  # no attempt reached the citizen; hangup_cause says why
    VOICEMAIL = "voicemail"
    TRANSFERRED = "transferred"
    CLOSED_HOURS = "closed_hours"
    HUNG_UP_IN_IVR = "hung_up_in_ivr"
    FAILED = "failed"
    # kck could not serve the caller (down, restarting, failed): the dialplan's fallback queue
    # took them (`fallback`), and an agent's phone answered there or the caller hung up there
    FALLBACK = "fallback"
    FALLBACK_ANSWERED = "fallback_answered"
    FALLBACK_ABANDONED = "fallback_abandoned"
    # the controller stopped while the call was in its hands; how it ended is not known
    INTERRUPTED = "interrupted"


class User(Base):
    """A person who logs in: agent, supervisor, IVR editor or administrator."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default=Role.AGENT.value)
    extension: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8), default="pl")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # an editor limited to the service cards of these units (KB unit keys); None: every unit
    kb_units: Mapped[list[str] | None] = mapped_column(JSON)
    # a unit officer's city units (codes of config/units.yaml); None for every other role
    unit_codes: Mapped[list[str] | None] = mapped_column(JSON)


class Call(Base):
    """One row per call: Asterisk ids, caller, times, IVR path, routing, agent and outcome."""

    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    uniqueid: Mapped[str] = mapped_column(String(64), index=True)
    linkedid: Mapped[str | None] = mapped_column(String(64), index=True)
    channel: Mapped[str | None] = mapped_column(String(128))
    caller_number: Mapped[str | None] = mapped_column(String(32), index=True)
    caller_name: Mapped[str | None] = mapped_column(String(200))
    dialled_number: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8), default="pl")
    arrived_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    queued_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    menu_version: Mapped[str | None] = mapped_column(String(64))
    ivr_path: Mapped[list[Any]] = mapped_column(default=list)
    queue: Mapped[str | None] = mapped_column(String(64))
    skills: Mapped[dict[str, Any]] = mapped_column(default=dict)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    intent: Mapped[str | None] = mapped_column(String(64))
    transcript: Mapped[str | None] = mapped_column(Text)
    kb_topic: Mapped[str | None] = mapped_column(String(64))
    ticket_category: Mapped[str | None] = mapped_column(String(64))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str] = mapped_column(
        String(32), default=CallOutcome.IN_PROGRESS.value, index=True
    )
    wrapup_outcome: Mapped[str | None] = mapped_column(String(32))
    hangup_cause: Mapped[str | None] = mapped_column(String(64))
    # the caller's answer to the recording announcement; NULL: not asked (never recorded)
    recording_consent: Mapped[bool | None]
    # every transfer of the call, in order: {"from": agent, "kind", "to", "at"} (docs/desk.md);
    # agent_id is then the agent who had the call last
    transfers: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))

    agent: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_calls_caller_arrived", "caller_number", "arrived_at"),)


class AgentStateLog(Base):
    """Every agent state transition, for occupancy and reports (time in state = next.at - at)."""

    __tablename__ = "agent_state_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    call_id: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AuditEntry(Base):
    """Who did what to what: logins, forced state changes, config reloads, recording access."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    address: Mapped[str | None] = mapped_column(String(64))
