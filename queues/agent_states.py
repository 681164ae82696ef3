"""`AgentStates` of the contract: agents' own state changes, over the router."""

from __future__ import annotations

from queues.model import AgentState, AgentStatus, Offer
from queues.router import Router


class AgentStates:
    """`set` is what the desk calls (available / paused(reason) / logged_out, or ending wrap-up
    early); the router's own moves (offered, on_call, wrap_up) are refused."""

    def __init__(self, router: Router) -> None:
        self.router = router

    async def set(self, username: str, state: AgentState, reason: str | None = None) -> list[Offer]:
        return await self.router.set_agent_state(username, state, reason)

    async def get(self, username: str) -> AgentStatus | None:
        return await self.router.agent_status(username)
