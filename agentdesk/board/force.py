"""A supervisor forces an agent's state (e.g. logs out an agent who left); always audited."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select

from agentdesk.ports import AGENT_PAUSE_REASONS
from kck.db.models import AgentStateLog, AuditEntry, Role, User
from kck.services import Services
from queues.model import AgentState
from queues.router import AgentStateRefused, Router, UnknownAgent

AUDIT_ACTION = "agent.force_state"


class ForcedState(enum.StrEnum):
    """States a supervisor may put an agent in (calls in progress are never cut from here)."""

    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    PAUSED = "paused"


# As the board offers them (none chosen beforehand: the supervisor picks one and confirms it).
FORCE_CHOICES = (ForcedState.AVAILABLE, ForcedState.PAUSED, ForcedState.LOGGED_OUT)
PAUSE_REASONS = frozenset(r.value for r in AGENT_PAUSE_REASONS)


class ForceStateError(ValueError):
    """The request cannot be carried out; the message (English, for the log) names the agent or
    field, `key` and `params` are the supervisor's words in the catalogue (`force.refused.*`).

    `status`: the HTTP status that says why (400 bad field, 404 no such agent, 409 the agent's
    current state does not allow it)."""

    def __init__(self, message: str, key: str, status: int = 400, **params: str) -> None:
        super().__init__(message)
        self.key = key
        self.status = status
        self.params = params


class AgentStateWriter(Protocol):
    """Whoever owns agent state (the router: `RouterStateWriter`): writes the log and broadcasts."""

    async def set(self, username: str, state: str, reason: str | None = None) -> None: ...


class LoggedStateWriter:
    """Until the router's agent states are mounted: a state-log row and a broadcast on `agents`
    and on `agent:<username>`, shaped as the router sends them ({agent, state, reason, since})."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def set(self, username: str, state: str, reason: str | None = None) -> None:
        now = self.services.clock.now()
        async with self.services.sessions.begin() as session:
            user_id = await session.scalar(select(User.id).where(User.username == username))
            if user_id is None:
                raise ForceStateError(
                    f"no agent {username!r}", "force.refused.no_agent", 404, agent=username
                )
            session.add(AgentStateLog(agent_id=user_id, state=state, reason=reason, at=now))
        event = {"agent": username, "state": state, "reason": reason, "since": now.isoformat()}
        await self.services.bus.broadcast("agents", "agent_state", event)
        # the agent's own desk listens on its own channel only, as with the router
        await self.services.bus.broadcast(f"agent:{username}", "agent_state", event)


class RouterStateWriter:
    """The router's agent states (`queues.router.Router.set_agent_state`) as a state writer."""

    def __init__(self, router: Router) -> None:
        self.router = router

    async def set(self, username: str, state: str, reason: str | None = None) -> None:
        try:
            await self.router.set_agent_state(username, AgentState(state), reason)
        except UnknownAgent as exc:
            raise ForceStateError(
                f"agent {username!r}: {exc}", "force.refused.not_in_queues", 409, agent=username
            ) from None
        except AgentStateRefused as exc:
            if exc.busy:
                raise ForceStateError(
                    str(exc), "force.refused.busy", 409, agent=username, state=exc.busy
                ) from None
            raise ForceStateError(str(exc), "force.refused.router", 409, agent=username) from None


@dataclass(frozen=True)
class ForceRequest:
    agent: str
    state: ForcedState
    reason: str | None

    @classmethod
    def parse(cls, agent: str, body: object) -> ForceRequest:
        if not isinstance(body, dict):
            raise ForceStateError(
                "request body: expected a JSON object {state, reason}", "force.refused.bad_request"
            )
        raw_state = body.get("state")
        try:
            state = ForcedState(str(raw_state))
        except ValueError:
            allowed = ", ".join(s.value for s in ForcedState)
            raise ForceStateError(
                f"field 'state': {raw_state!r} is not one of {allowed}", "force.refused.bad_state"
            ) from None
        reason = body.get("reason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > 64):
            raise ForceStateError(
                "field 'reason': expected text up to 64 characters", "force.refused.bad_reason"
            )
        if state is ForcedState.PAUSED and reason not in PAUSE_REASONS:
            # the agent's desk shows the reason in words: one of those it knows
            allowed = ", ".join(r.value for r in AGENT_PAUSE_REASONS)
            raise ForceStateError(
                f"field 'reason': a pause needs a reason, one of {allowed} (got {reason!r})",
                "force.reason_needed",
            )
        return cls(agent, state, reason or None)


async def force_state(
    services: Services,
    writer: AgentStateWriter,
    request: ForceRequest,
    *,
    actor: str,
    address: str | None,
) -> None:
    """Change the state, then record who did it (an audit row only for a change that happened;
    the writer refuses agents it does not know)."""
    previous: str | None = None
    async with services.sessions() as session:
        user = await session.scalar(select(User).where(User.username == request.agent))
        if user is not None and user.role != Role.AGENT.value:
            raise ForceStateError(
                f"no agent {request.agent!r} ({user.role})",
                "force.refused.not_an_agent",
                404,
                agent=request.agent,
            )
        if user is not None:
            previous = await session.scalar(
                select(AgentStateLog.state)
                .where(AgentStateLog.agent_id == user.id)
                .order_by(AgentStateLog.id.desc())
                .limit(1)
            )
    await writer.set(request.agent, request.state.value, request.reason)
    async with services.sessions.begin() as session:
        session.add(
            AuditEntry(
                at=services.clock.now(),
                actor=actor,
                action=AUDIT_ACTION,
                target=request.agent,
                details={
                    "from": previous or "logged_out",
                    "to": request.state.value,
                    "reason": request.reason,
                },
                address=address,
            )
        )
