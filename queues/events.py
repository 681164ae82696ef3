"""The router's events, typed: what `queues/lua/router.lua` publishes, and the one decoder of them.

The Lua script writes each event as JSON (stream `queues` for what must reach the call history,
stream `offers`, live channels `agents`, `agent:<name>` and `queue_calls`); every reader in
Python — the call-history writer, the desk, the callback dialer, the waiting loops — decodes it
here, once, into one of these values, instead of reading string keys of its own. A field the
script adds later does not break a reader; a field missing or of the wrong type is a
`ValueError` naming the event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from queues.model import AgentState, Offer, RoutingRequest


def _time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


@dataclass(frozen=True)
class AgentStateChanged:
    """`agent_state`: an agent's state changed (`until_ms`: when wrap-up ends by itself)."""

    agent: str
    state: AgentState
    reason: str | None
    since: datetime
    call_id: str | None
    until_ms: int | None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> AgentStateChanged:
        until = data.get("until_ms")
        return cls(
            agent=str(data["agent"]),
            state=AgentState(str(data["state"])),
            reason=_text(data.get("reason")),
            since=_time(data["since"]),
            call_id=_text(data.get("call_id")),
            until_ms=None if until is None else int(until),
        )


@dataclass(frozen=True)
class CallQueued:
    """`call_queued`: a call joined its queue (at `position`, 1 = next)."""

    call_id: str
    queue: str
    at: datetime
    position: int
    uniqueid: str
    request: RoutingRequest

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> CallQueued:
        return cls(
            call_id=str(data["call_id"]),
            queue=str(data["queue"]),
            at=_time(data["at"]),
            position=int(data["position"]),
            uniqueid=str(data.get("uniqueid") or ""),
            request=RoutingRequest.from_dict(dict(data["request"])),
        )


@dataclass(frozen=True)
class CallAnswered:
    """`call_answered` (live: `answered`): the agent answered after `wait_s` in the queue."""

    call_id: str
    agent: str
    at: datetime
    wait_s: float
    kind: str
    queue: str

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> CallAnswered:
        return cls(
            call_id=str(data["call_id"]),
            agent=str(data["agent"]),
            at=_time(data["at"]),
            wait_s=float(data["wait_s"]),
            kind=str(data.get("kind") or "inbound"),
            queue=str(data["queue"]),
        )


@dataclass(frozen=True)
class TransferAnswered(CallAnswered):
    """`transfer_answered`: the agent a transferred call was sent to answered it (the call was
    counted answered once, by the first agent; `wait_s` is the wait since the transfer)."""


@dataclass(frozen=True)
class CallTransferred:
    """`call_transferred` (live: `transferred`): `agent` sent the caller to `to` (`kind`:
    queues.model.TransferKind); `transfers`: every transfer of the call so far, in order."""

    call_id: str
    agent: str
    kind: str
    to: str
    at: datetime
    queue: str
    transfers: tuple[dict[str, str], ...]

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> CallTransferred:
        return cls(
            call_id=str(data["call_id"]),
            agent=str(data["agent"]),
            kind=str(data["kind"]),
            to=str(data["to"]),
            at=_time(data["at"]),
            queue=str(data["queue"]),
            transfers=tuple(
                {str(k): str(v) for k, v in dict(t).items()} for t in data.get("transfers") or ()
            ),
        )


@dataclass(frozen=True)
class CallEnded:
    """`call_ended` (live: `ended`): the call left the router (`outcome` as counted,
    `cause` as reported: queues.model.EndCause; `why` a failed callback's last reason)."""

    call_id: str
    outcome: str
    cause: str
    at: datetime
    wait_s: float
    agent: str | None
    queue: str
    kind: str
    why: str | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> CallEnded:
        return cls(
            call_id=str(data["call_id"]),
            outcome=str(data["outcome"]),
            cause=str(data["cause"]),
            at=_time(data["at"]),
            wait_s=float(data.get("wait_s") or 0),
            agent=_text(data.get("agent")),
            queue=str(data["queue"]),
            kind=str(data.get("kind") or "inbound"),
            why=_text(data.get("why")),
        )


@dataclass(frozen=True)
class CallbackRequested:
    """`callback_requested`: a waiting caller asked to be called back at `number`."""

    call_id: str
    number: str
    at: datetime
    queue: str

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> CallbackRequested:
        return cls(str(data["call_id"]), str(data["number"]), _time(data["at"]), str(data["queue"]))


@dataclass(frozen=True)
class CallbackAttemptFailed:
    """`callback_retry` / `callback_failed`: attempt `attempt` of `attempts` did not reach the
    citizen (`why`); `final` when none is left."""

    call_id: str
    number: str
    attempt: int
    attempts: int
    why: str
    agent: str | None
    at: datetime
    queue: str
    final: bool

    @classmethod
    def parser(cls, final: bool) -> Callable[[Mapping[str, Any]], CallbackAttemptFailed]:
        def parse(data: Mapping[str, Any]) -> CallbackAttemptFailed:
            return cls(
                call_id=str(data["call_id"]),
                number=str(data["number"]),
                attempt=int(data["attempt"]),
                attempts=int(data["attempts"]),
                why=str(data.get("why") or ""),
                agent=_text(data.get("agent")),
                at=_time(data["at"]),
                queue=str(data["queue"]),
                final=final,
            )

        return parse


@dataclass(frozen=True)
class OfferExpired:
    """`offer_expired`: nobody acted on the offer; the router took it back."""

    call_id: str
    offer_id: str
    agent: str
    at: datetime

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> OfferExpired:
        return cls(
            str(data["call_id"]), str(data["offer_id"]), str(data["agent"]), _time(data["at"])
        )


@dataclass(frozen=True)
class CallFallback:
    """`call_fallback`: the dialplan's fallback queue took (`joined`), connected (`answered`)
    or lost (`abandoned`) the caller of channel `uniqueid`."""

    uniqueid: str
    stage: str
    at: datetime
    call_id: str | None
    queue: str | None
    agent: str | None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> CallFallback:
        return cls(
            uniqueid=str(data["uniqueid"]),
            stage=str(data["stage"]),
            at=_time(data["at"]),
            call_id=_text(data.get("call_id")),
            queue=_text(data.get("queue")),
            agent=_text(data.get("agent")),
        )


@dataclass(frozen=True)
class CallSignal:
    """A live message of `queue_calls` that only wakes the loop holding the call: `requeued`
    (back to the head), `callback` (a callback request was made), `shown` (the agent's desk
    shows the pop of `offer_id`)."""

    kind: str
    call_id: str
    offer_id: str | None = None

    @classmethod
    def parser(cls, kind: str) -> Callable[[Mapping[str, Any]], CallSignal]:
        def parse(data: Mapping[str, Any]) -> CallSignal:
            return cls(kind, str(data["call_id"]), _text(data.get("offer_id")))

        return parse


@dataclass(frozen=True)
class UnknownEvent:
    """An event this version does not know (a newer router's): readers pass it by."""

    kind: str
    data: Mapping[str, Any]


RouterEvent = (
    AgentStateChanged
    | CallQueued
    | CallAnswered
    | CallTransferred
    | CallEnded
    | CallbackRequested
    | CallbackAttemptFailed
    | OfferExpired
    | CallFallback
    | CallSignal
    | Offer
    | UnknownEvent
)

_PARSERS: dict[str, Callable[[Mapping[str, Any]], RouterEvent]] = {
    "agent_state": AgentStateChanged.from_data,
    "call_queued": CallQueued.from_data,
    "call_answered": CallAnswered.from_data,
    "answered": CallAnswered.from_data,
    "transfer_answered": lambda data: TransferAnswered(**vars(CallAnswered.from_data(data))),
    "call_transferred": CallTransferred.from_data,
    "transferred": CallTransferred.from_data,
    "call_ended": CallEnded.from_data,
    "ended": CallEnded.from_data,
    "callback_requested": CallbackRequested.from_data,
    "callback_retry": CallbackAttemptFailed.parser(final=False),
    "callback_failed": CallbackAttemptFailed.parser(final=True),
    "offer_expired": OfferExpired.from_data,
    "call_fallback": CallFallback.from_data,
    "offer": lambda data: Offer.from_dict(dict(data)),
    "requeued": CallSignal.parser("requeued"),
    "callback": CallSignal.parser("callback"),
    "shown": CallSignal.parser("shown"),
}


def decode_event(kind: str, data: Mapping[str, Any]) -> RouterEvent:
    """The one decoder of the router's events (stream entries and live messages alike)."""
    parse = _PARSERS.get(kind)
    if parse is None:
        return UnknownEvent(kind, data)
    try:
        return parse(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"router event {kind!r}: bad or missing field ({exc!r})") from None
