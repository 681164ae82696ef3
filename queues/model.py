"""The values queues/ exchanges with ivr/ and the desk: routing requests, offers, agent states.

Their one home: the IVR builds `RoutingRequest`s and reads `QueueOutcome`s, the desk shows
`Offer`s, all from here (`queues` re-exports them).
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


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
    TRANSFERRED_OUT = "transferred_out"  # an agent sent the caller to a second-line number


class TransferKind(enum.StrEnum):
    """Where an agent sends a caller they talk to (docs/desk.md, "Transferring a call")."""

    AGENT = "agent"  # another agent, offered only when available
    QUEUE = "queue"  # another queue: any agent may take the call there; priority kept
    SKILL = "skill"  # the same queue, needing this skill from now on
    NUMBER = "number"  # a second-line number (queues.yaml `second_line`), through the trunk


@dataclass(frozen=True)
class TransferTarget:
    kind: TransferKind
    to: str

    @classmethod
    def parse(cls, text: str) -> TransferTarget:
        """`agent:pkowalski`, `queue:vehicles`, `skill:taxes`, `number:+48126161234`."""
        kind, sep, to = text.partition(":")
        try:
            parsed = TransferKind(kind)
        except ValueError:
            raise ValueError(f"transfer target {text!r}: unknown kind {kind!r}") from None
        if not sep or not to:
            raise ValueError(f"transfer target {text!r}: nothing after '{kind}:'")
        return cls(parsed, to)

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.to}"


@dataclass(frozen=True)
class IVRStep:
    """One step of the caller's path: which step, how it reads, the keys pressed, when (ISO UTC)."""

    step_id: str
    label: str
    digits: str | None
    at: str

    def as_dict(self) -> dict[str, str | None]:
        """As stored in `calls.ivr_path` (cheaper than `dataclasses.asdict`, once per step)."""
        return {"step_id": self.step_id, "label": self.label, "digits": self.digits, "at": self.at}

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
    """Everything the router and the agent's screen need about a call leaving the IVR; `skills`
    is ordered: the first one is the primary skill. Built by the IVR, kept by the router as JSON
    (`to_dict`), shown on the desk's pop. `variables`: what the IVR's steps set (language, typed
    digits…), put on the channel when the dialplan's own queue takes the call."""

    call_id: str
    uniqueid: str
    channel: str
    caller: str | None
    language: str
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
    variables: dict[str, str] = field(default_factory=dict)
    # the caller's answer to the recording announcement (None: not asked, not recorded)
    recording_consent: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """As the router keeps it (JSON); field by field, as `dataclasses.asdict` would give it
        but without its deep copy of every value (once per call enqueued: a burst of 200 calls
        spent 0.08 s of the loop in `asdict`)."""
        return {
            "call_id": self.call_id,
            "uniqueid": self.uniqueid,
            "channel": self.channel,
            "caller": self.caller,
            "language": self.language,
            "queue": self.queue,
            "skills": dict(self.skills),
            "priority": self.priority,
            "arrived_at": self.arrived_at,
            "ivr_path": [step.as_dict() for step in self.ivr_path],
            "ivr_path_text": self.ivr_path_text,
            "intent": self.intent,
            "transcript": self.transcript,
            "kb_topic": self.kb_topic,
            "ticket_category": self.ticket_category,
            "menu_version": self.menu_version,
            "variables": dict(self.variables),
            "recording_consent": self.recording_consent,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoutingRequest:
        try:
            return cls(
                call_id=str(data["call_id"]),
                uniqueid=str(data["uniqueid"]),
                channel=str(data["channel"]),
                caller=None if data.get("caller") is None else str(data["caller"]),
                language=str(data.get("language") or "pl"),
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
                variables={str(k): str(v) for k, v in dict(data.get("variables") or {}).items()},
                recording_consent=_optional_bool(data.get("recording_consent")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"routing request: bad or missing field ({exc!r})") from None


def _optional_bool(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"recording_consent must be true, false or null, not {value!r}")


@dataclass(frozen=True)
class CallbackRequest:
    """A caller asked to be called back on `number`; the routing fields say who should call."""

    request: RoutingRequest
    number: str
    confirmed_caller_id: bool


class QueueOutcome(enum.StrEnum):
    """How waiting in a queue ended for the caller's IVR session."""

    ANSWERED = "answered"  # an agent took the call (the session bridged it)
    ABANDONED = "abandoned"  # the caller hung up while waiting
    CALLBACK = "callback"  # the caller asked for a callback while waiting (the queue hung up)
    VOICEMAIL = "voicemail"  # sent to voicemail after the maximum wait
    CLOSED = "closed"  # ended by someone else (the resync found the channel gone or in fallback)
    NO_AGENT = "no_agent"  # nobody can take it now (queue closed / timed out): the step's no_agent
    DIALPLAN = "dialplan"  # handed to the dialplan's own Queue() (no router in this process)


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
        """The one decoder of an offer (router JSON, live messages, the `offers` stream)."""
        try:
            return cls(
                offer_id=str(data["offer_id"]),
                call_id=str(data["call_id"]),
                agent=str(data["agent"]),
                extension=str(data.get("extension") or ""),
                dial=str(data.get("dial") or ""),
                ring_timeout_s=int(data.get("ring_timeout_s") or 0),
                offered_at=str(data.get("offered_at") or ""),
                kind=OfferKind(data.get("kind") or "inbound"),
                request=dict(data.get("request") or {}),
                desk=bool(data.get("desk", False)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"offer: bad or missing field ({exc!r})") from None


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
