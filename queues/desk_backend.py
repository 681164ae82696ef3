"""The router behind the desk's `DeskBackend` port (agentdesk.ports), replacing InterimQueues."""

from __future__ import annotations

from datetime import datetime

from agentdesk.ports import AgentState as DeskState
from agentdesk.ports import AgentStatus as DeskStatus
from agentdesk.ports import Offer as DeskOffer
from agentdesk.ports import StateRefused
from queues.model import AgentState
from queues.router import AgentStateRefused, Router, UnknownAgent


class RouterDeskBackend:
    """Agents log in paused (reason `login`) and choose when to become available."""

    def __init__(self, router: Router) -> None:
        self.router = router

    async def login(self, agent: str, extension: str) -> DeskStatus:
        try:
            await self.router.agent_login(agent, paused=True, extension=extension)
        except UnknownAgent as exc:
            raise StateRefused(str(exc)) from None
        return await self.status(agent)

    async def logout(self, agent: str) -> None:
        try:
            await self.router.set_agent_state(agent, AgentState.LOGGED_OUT)
        except (AgentStateRefused, UnknownAgent) as exc:
            raise StateRefused(str(exc)) from None

    async def status(self, agent: str) -> DeskStatus:
        status = await self.router.agent_status(agent)
        if status is None:
            return DeskStatus(agent, DeskState.LOGGED_OUT, self.router.clock.now())
        until = None
        if status.state is AgentState.WRAP_UP:
            until = await self.router.wrap_up_ends_at(agent)
        return DeskStatus(
            agent=agent,
            state=DeskState(status.state.value),
            since=datetime.fromisoformat(status.since),
            reason=status.reason,
            until=until,
        )

    async def set_state(
        self, agent: str, state: DeskState, reason: str | None = None
    ) -> DeskStatus:
        try:
            await self.router.set_agent_state(agent, AgentState(state.value), reason)
        except (AgentStateRefused, UnknownAgent) as exc:
            raise StateRefused(str(exc)) from None
        return await self.status(agent)

    async def current_offer(self, agent: str) -> DeskOffer | None:
        offer = await self.router.current_offer(agent)
        return None if offer is None else DeskOffer.from_json(offer.to_dict())
