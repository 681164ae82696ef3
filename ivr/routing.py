"""What the IVR hands to the queues: the RoutingRequest (contract with `queues`) and the gateway port."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from ivr.channel import Channel


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


@dataclass(frozen=True)
class RoutingRequest:
    """Everything the router and the agent's screen need about a call leaving the IVR.

    The shape agreed in the team contract (RoutingRequest for `queues.model`); JSON-serialisable.
    """

    call_id: str
    uniqueid: str
    channel: str
    caller: str | None
    language: str
    queue: str
    skills: dict[str, int]
    priority: int
    ivr_path: list[IVRStep]
    ivr_path_text: str
    intent: str | None
    transcript: str | None
    kb_topic: str | None
    ticket_category: str | None
    menu_version: str
    arrived_at: str
    variables: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoutingRequest:
        values = dict(data)
        values["ivr_path"] = [IVRStep(**s) for s in values.get("ivr_path", [])]
        return cls(**values)


@dataclass(frozen=True)
class CallbackRequest:
    """A caller asked to be called back on `number`; the routing fields say who should call."""

    request: RoutingRequest
    number: str
    confirmed_caller_id: bool


class QueueOutcome(enum.StrEnum):
    """How waiting in the queue ended for the caller's IVR session."""

    ANSWERED = "answered"  # an agent took the call (the session bridged it)
    NO_AGENT = "no_agent"  # nobody can take it now (queue closed / timed out): use `no_agent:`
    ABANDONED = "abandoned"  # the caller hung up while waiting
    DIALPLAN = "dialplan"  # handed back to the dialplan's own Queue() (no router in this process)
    CALLBACK = "callback"  # the caller asked for a callback while waiting (queue hung up)
    VOICEMAIL = "voicemail"  # the queue sent the caller to voicemail after the maximum wait


class QueueGateway(Protocol):
    """The port the `queue` and `callback` steps use; `queues` implements it over its Router."""

    async def enqueue(self, request: RoutingRequest) -> None: ...

    async def wait(self, request: RoutingRequest, channel: Channel) -> QueueOutcome:
        """Hold the caller (music, announcements, offers, dialling) until the wait ends."""
        ...

    async def request_callback(self, callback: CallbackRequest) -> None: ...
