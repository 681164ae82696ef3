"""The queues router behind the desk's `DeskBackend` (agent states, offers, the current call)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agentdesk.ports import (
    AgentState,
    AgentStatus,
    Offer,
    PauseReason,
    StateRefused,
    TransferNotDone,
    TransferOption,
)
from kck.clock import Clock
from queues.consult import ConsultCalls
from queues.model import AgentState as RouterState
from queues.model import OfferKind, TransferTarget
from queues.router import AgentStateRefused, Router, TransferRefused, UnknownAgent


class ExtensionMismatch(StateRefused):
    """The agent gave an extension other than theirs in agents.yaml (the router dials that one)."""


class RouterDeskBackend:
    """`consults`: the consult over AMI (None without AMI: consulting is refused)."""

    def __init__(self, router: Router, clock: Clock, consults: ConsultCalls | None = None) -> None:
        self.router = router
        self.clock = clock
        self.consults = consults

    def queue_name(self, queue: str, language: str) -> str:
        """The name in queues.yaml (English for "en", else Polish); the id itself for a queue that
        is not configured (any more), e.g. in an old call of the caller's history."""
        configured = self.router.config.queues.get(queue)
        if configured is None:
            return queue
        return configured.name_en if language == "en" else configured.name_pl

    def configured_extension(self, agent: str) -> str | None:
        configured = self.router.config.agents.get(agent)
        return configured.extension if configured else None

    async def login(self, agent: str, extension: str) -> AgentStatus:
        expected = self.configured_extension(agent)
        if expected is None:
            raise StateRefused(
                f"agent {agent!r} is not in agents.yaml: the router cannot offer calls",
                why="not_configured",
            )
        if extension != expected:
            raise ExtensionMismatch(
                f"agent {agent!r} works at extension {expected} (agents.yaml), not {extension}",
                why="wrong_extension",
                expected=expected,
            )
        try:
            await self.router.agent_login(agent, paused=True)
            await self.router.set_agent_state(agent, RouterState.PAUSED, PauseReason.LOGIN.value)
        except (AgentStateRefused, UnknownAgent) as refused:
            raise StateRefused(str(refused), getattr(refused, "busy", None)) from None
        return await self.status(agent)

    async def logout(self, agent: str) -> None:
        try:
            await self.router.set_agent_state(agent, RouterState.LOGGED_OUT)
        except UnknownAgent:
            pass  # already gone
        except AgentStateRefused as refused:
            raise StateRefused(str(refused), refused.busy) from None

    async def status(self, agent: str) -> AgentStatus:
        status = await self.router.agent_status(agent)
        if status is None:
            return AgentStatus(agent, AgentState.LOGGED_OUT, self.clock.now())
        since = datetime.fromisoformat(status.since) if status.since else self.clock.now()
        # After a reload the state on load must say when wrap-up ends, as the live event does.
        until = None
        if status.state is RouterState.WRAP_UP:
            until = await self.router.wrap_up_ends_at(agent)
        return AgentStatus(agent, AgentState(status.state.value), since, status.reason, until)

    async def set_state(
        self, agent: str, state: AgentState, reason: str | None = None
    ) -> AgentStatus:
        try:
            await self.router.set_agent_state(agent, RouterState(state.value), reason)
        except (AgentStateRefused, UnknownAgent) as refused:
            raise StateRefused(str(refused), getattr(refused, "busy", None)) from None
        return await self.status(agent)

    async def current_offer(self, agent: str) -> Offer | None:
        """The ringing offer, else the call the agent talks on or wraps up (after a reload)."""
        offer = await self.router.current_offer(agent)
        if offer is not None:
            return offer
        status = await self.router.agent_status(agent)
        call = await self.router.current_call(agent)
        if status is None or call is None or not call.get("request"):
            return None
        return Offer(
            offer_id=status.offer_id or f"call-{call['call_id']}",
            call_id=str(call["call_id"]),
            agent=agent,
            extension=status.extension,
            dial="",
            ring_timeout_s=0,
            offered_at="",
            kind=OfferKind(call.get("kind") or "inbound"),
            request=dict(call["request"]),
        )

    async def desk_open(self, agent: str, ttl_s: float) -> None:
        await self.router.desk_open(agent, ttl_s)

    async def desk_closed(self, agent: str) -> None:
        await self.router.desk_closed(agent)

    async def pop_shown(self, offer: Offer) -> None:
        await self.router.pop_shown(offer.agent, offer.offer_id, offer.call_id)

    async def transfer(
        self, agent: str, call_id: str, target: str, handover: dict[str, Any]
    ) -> None:
        try:
            parsed = TransferTarget.parse(target)
        except ValueError as bad:
            raise TransferNotDone("bad_target", str(bad)) from None
        try:
            await self.router.transfer(call_id, agent, parsed, handover)
        except TransferRefused as refused:
            raise TransferNotDone(refused.reason, str(refused), refused.state) from None

    async def consult(
        self, agent: str, call_id: str, target: str, handover: dict[str, Any], step: str
    ) -> None:
        """`step`: start (with `target`, an agent), complete or cancel."""
        if self.consults is None:
            raise TransferNotDone("no_pbx", "consult: no AMI connection in this controller")
        try:
            if step == "start":
                parsed = TransferTarget.parse(target)
                if parsed.kind.value != "agent":
                    raise TransferNotDone("bad_target", f"consult {target!r}: agents only")
                await self.consults.start(call_id, agent, parsed.to, handover)
            elif step == "complete":
                await self.consults.complete(call_id, agent)
            elif step == "cancel":
                await self.consults.cancel(call_id, agent)
            else:
                raise TransferNotDone("bad_target", f"consult: unknown step {step!r}")
        except ValueError as bad:
            raise TransferNotDone("bad_target", str(bad)) from None
        except TransferRefused as refused:
            raise TransferNotDone(refused.reason, str(refused), refused.state) from None

    async def transfer_options(self, agent: str, language: str) -> list[TransferOption]:
        english = language == "en"
        config = self.router.config
        options: list[TransferOption] = []
        for name, configured in config.agents.items():
            if name == agent:
                continue
            status = await self.router.agent_status(name)
            if status is not None and status.state is RouterState.AVAILABLE:
                options.append(
                    TransferOption(f"agent:{name}", "agent", configured.name, configured.extension)
                )
        for queue in config.queues.values():
            label = queue.name_en if english else queue.name_pl
            options.append(TransferOption(f"queue:{queue.id}", "queue", label))
        for skill in config.skills.values():
            label = skill.name_en if english else skill.name_pl
            options.append(TransferOption(f"skill:{skill.id}", "skill", label))
        for number in config.second_line.values():
            label = number.name_en if english else number.name_pl
            options.append(
                TransferOption(f"number:{number.number}", "number", label, number.number)
            )
        return options
