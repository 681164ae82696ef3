"""The values queues/ exchanges with ivr/ and the desk: routing requests, offers, agent states."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Language = Literal["pl", "en", "uk"]


class AgentState(enum.StrEnum):
    """Where an agent is; `paused` always carries a reason code."""

    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    OFFERED = "offered"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


class CallState(enum.StrEnum):
    """Where a queued call is in Redis (it leaves Redis once it has ended)."""

    WAITING = "waiting"
    OFFERED = "offered"
    ON_CALL = "on_call"


class OfferKind(enum.StrEnum):
    INBOUND = "inbound"
    CALLBACK = "callback"


class EndCause(enum.StrEnum):
    """Why a queued call ended, as reported to `Router.call_ended`."""

    COMPLETED = "completed"  # talked to an agent, then someone hung up
    CALLER_HANGUP = "caller_hangup"  # gone before an agent answered (abandon)
    CHANNEL_GONE = "channel_gone"  # found missing by the AMI resync (abandon)
    VOICEMAIL = "voicemail"  # diverted to voicemail after the maximum wait
    CALLBACK_DONE = "callback_done"  # an outbound callback ended
    CALLBACK_FAILED = "callback_failed"  # no attempt reached the citizen (queue's policy)
    FALLBACK = "fallback"  # our code failed: the dialplan's plain Queue() takes the caller


@dataclass(frozen=True)
class IVRStep:
    """One menu step the caller went through."""

    step_id: str
    label: str
    digits: str | None
    at: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IVRStep:
        return cls(
            step_id=str(data["step_id"]),
            label=str(data["label"]),
            digits=None if data.get("digits") is None else str(data["digits"]),
            at=str(data["at"]),
        )


@dataclass(frozen=True)
class RoutingRequest:
    """What the IVR hands to the router; `skills` is ordered: the first one is the primary skill."""

    call_id: str
    uniqueid: str
    channel: str
    caller: str | None
    language: Language
    queue: str
    skills: dict[str, int]
    priority: int
    arrived_at: str
    ivr_path: tuple[IVRStep, ...] = ()
    ivr_path_text: str = ""
    intent: str | None = None
    transcript: str | None = None
    kb_topic: str | None = None
    ticket_category: str | None = None
    menu_version: str = ""

    @property
    def primary_skill(self) -> str | None:
        return next(iter(self.skills), None)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ivr_path"] = [asdict(step) for step in self.ivr_path]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoutingRequest:
        try:
            return cls(
                call_id=str(data["call_id"]),
                uniqueid=str(data["uniqueid"]),
                channel=str(data["channel"]),
                caller=None if data.get("caller") is None else str(data["caller"]),
                language=data.get("language", "pl"),
                queue=str(data["queue"]),
                skills={str(k): int(v) for k, v in dict(data.get("skills") or {}).items()},
                priority=int(data.get("priority", 0)),
                arrived_at=str(data["arrived_at"]),
                ivr_path=tuple(IVRStep.from_dict(s) for s in data.get("ivr_path") or ()),
                ivr_path_text=str(data.get("ivr_path_text") or ""),
                intent=data.get("intent"),
                transcript=data.get("transcript"),
                kb_topic=data.get("kb_topic"),
                ticket_category=data.get("ticket_category"),
                menu_version=str(data.get("menu_version") or ""),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"routing request: bad or missing field ({exc!r})") from None


@dataclass(frozen=True)
class Offer:
    """A call offered to an agent; the AGI session holding the caller dials `dial`."""

    offer_id: str
    call_id: str
    agent: str
    extension: str
    dial: str
    ring_timeout_s: int
    offered_at: str
    kind: OfferKind
    request: dict[str, Any] = field(default_factory=dict)
    # the agent's desk was open when the offer was made: the phone rings once the pop is shown
    desk: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Offer:
        return cls(
            offer_id=str(data["offer_id"]),
            call_id=str(data["call_id"]),
            agent=str(data["agent"]),
            extension=str(data["extension"]),
            dial=str(data["dial"]),
            ring_timeout_s=int(data["ring_timeout_s"]),
            offered_at=str(data["offered_at"]),
            kind=OfferKind(data.get("kind", "inbound")),
            request=dict(data.get("request") or {}),
            desk=bool(data.get("desk", False)),
        )


@dataclass(frozen=True)
class AgentStatus:
    """An agent's live state as kept in Redis."""

    username: str
    state: AgentState
    reason: str | None
    since: str
    extension: str
    device_state: str
    call_id: str | None
    offer_id: str | None
