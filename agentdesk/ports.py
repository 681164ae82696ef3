"""What the desk needs from the router (queues), the knowledge base (kb) and the IVR, as small protocols."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

# The router's agent states are the desk's: one enum, re-exported here for the desk's code.
from queues.events import AgentStateChanged
from queues.model import AgentState as AgentState
from queues.model import Offer as Offer


class PauseReason(enum.StrEnum):
    """Why an agent is not taking calls; the first four are chosen by the agent."""

    BREAK = "break"
    TRAINING = "training"
    BACK_OFFICE = "back_office"
    MEETING = "meeting"
    LOGIN = "login"
    NO_ANSWER = "no_answer"


AGENT_PAUSE_REASONS = (
    PauseReason.BREAK,
    PauseReason.TRAINING,
    PauseReason.BACK_OFFICE,
    PauseReason.MEETING,
)


@dataclass(frozen=True)
class AgentStatus:
    """An agent's state as the desk shows it: since when, and (in wrap-up) until when; both on
    the router's clock."""

    agent: str
    state: AgentState
    since: datetime
    reason: str | None = None
    until: datetime | None = None

    @classmethod
    def from_change(cls, change: AgentStateChanged) -> AgentStatus:
        """From the router's `agent_state` event (`until_ms`: when wrap-up ends by itself)."""
        until = change.until_ms
        return cls(
            agent=change.agent,
            state=change.state,
            since=change.since,
            reason=change.reason,
            until=None if until is None else datetime.fromtimestamp(until / 1000, UTC),
        )

    def as_json(self, now: datetime) -> dict[str, Any]:
        """`server_now` is the same clock's reading as `since`/`until`: the page counts from the
        difference, never against its own clock (see desk.js)."""
        return {
            "agent": self.agent,
            "state": self.state.value,
            "reason": self.reason,
            "since": self.since.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            "server_now": now.isoformat(),
        }


class StateRefused(Exception):
    """The router would not make this state change (e.g. 'available' while on a call); `busy`
    is the agent's state that stands in the way (`offered`, `on_call`) when that is the reason;
    `why` (`not_configured`, `wrong_extension`, `no_desk`) with `params` names other reasons.
    The message is the operator's (English, with codes); the desk shows `refusal_text`."""

    def __init__(
        self, message: str, busy: str | None = None, why: str | None = None, **params: str
    ) -> None:
        super().__init__(message)
        self.busy = busy
        self.why = why  # another reason the desk has words for: `state.refused.<why>`
        self.params = params


class TransferNotDone(Exception):
    """The router would not transfer the call; `reason` names why for the desk's words
    (`not_on_call`, `agent_unavailable`, `same_agent`, `unknown_target`, `bad_target`)."""

    def __init__(self, reason: str, message: str, state: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.state = state


@dataclass(frozen=True)
class TransferOption:
    """One entry of the desk's transfer chooser: `target` as the desk sends it back
    (`agent:pkowalski`, `queue:vehicles`, `skill:taxes`, `number:+48…`), the words to show."""

    target: str
    kind: str
    label: str
    detail: str = ""


class QueueNames(Protocol):
    """What the desk shows for a queue id: its name in queues.yaml, in the agent's language."""

    def queue_name(self, queue: str, language: str) -> str: ...


class DeskBackend(QueueNames, Protocol):
    """The part of the queues contract the desk calls; its agent's offers and state changes arrive
    on live channel agent:<name>."""

    async def login(self, agent: str, extension: str) -> AgentStatus: ...
    async def logout(self, agent: str) -> None: ...
    async def status(self, agent: str) -> AgentStatus: ...
    async def set_state(
        self, agent: str, state: AgentState, reason: str | None = None
    ) -> AgentStatus: ...
    async def current_offer(self, agent: str) -> Offer | None: ...
    async def desk_open(self, agent: str, ttl_s: float) -> None:
        """The agent's desk is open (renewed within `ttl_s`): offers wait for its pop."""

    async def desk_closed(self, agent: str) -> None: ...
    async def pop_shown(self, offer: Offer) -> None:
        """The desk shows the pop of `offer`: the caller's side may ring the phone."""

    async def transfer(
        self, agent: str, call_id: str, target: str, handover: dict[str, Any]
    ) -> None:
        """`agent` sends the caller of `call_id` to `target`; raises `TransferNotDone`."""

    async def consult(
        self, agent: str, call_id: str, target: str, handover: dict[str, Any], step: str
    ) -> None:
        """Consult `target` with the caller on hold (`step` start), then hand the caller over
        (complete) or go back to them (cancel); raises `TransferNotDone`."""

    async def transfer_options(self, agent: str, language: str) -> list[TransferOption]:
        """Where `agent` may transfer a caller now: available agents, queues, skills, numbers."""


@dataclass(frozen=True)
class CardSuggestion:
    """A KB card proposed on the screen-pop, with the reason in words."""

    slug: str
    title: str
    reason: str
    score: float
    summary: str = ""
    reason_code: str = ""  # the matcher's own terms ('intent fallen-tree'): a tooltip only


@dataclass(frozen=True)
class CardHit:
    """One live-search result; `snippet_html` is already escaped with <mark> highlights."""

    slug: str
    title: str
    snippet_html: str
    score: float


class KnowledgePort(Protocol):
    """The kb contract the desk uses: suggestions for a call and live search."""

    async def suggest(self, request: dict[str, Any], language: str) -> list[CardSuggestion]: ...
    async def search(self, query: str, language: str, limit: int) -> list[CardHit]: ...
    async def card(self, slug: str, language: str) -> dict[str, Any] | None:
        """The whole card (its translation into `language` where there is one); None if none."""
        ...


class StepLabels(Protocol):
    """The IVR steps in people's words (the live menu's labels): step id → {language: label}.

    The IVR owns the menu (`ivr.step_labels.LiveStepLabels`); the reports name the callers'
    branches with it."""

    async def step_labels(self) -> Mapping[str, Mapping[str, str]]: ...
