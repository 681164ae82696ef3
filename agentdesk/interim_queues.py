"""The slice of the queues contract the desk uses, on Redis, until queues/ lands on main.

It keeps agent states and the current offer in Redis, logs every transition to
`agent_state_log`, broadcasts on the live channels of the contract (`agents`, `agent:<name>`)
and ends wrap-ups when their time is up. It also plays the router's side (make an offer, answer,
hang up) for `kck demo` and the tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from agentdesk.ports import AgentState, AgentStatus, Offer, PauseReason, StateRefused
from kck.db.models import AgentStateLog, User
from kck.services import Services

log = logging.getLogger(__name__)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


# States the agent may leave by their own choice (not while the phone rings or a call is up).
_AGENT_MAY_LEAVE = {AgentState.AVAILABLE, AgentState.PAUSED, AgentState.WRAP_UP}


class InterimQueues:
    """A Redis-backed `DeskBackend` plus the router calls the desk reacts to."""

    def __init__(self, services: Services, wrap_up_s: float = 30.0) -> None:
        self.services = services
        self.redis = services.redis
        self.bus = services.bus
        self.clock = services.clock
        self.wrap_up_s = wrap_up_s
        self._prefix = f"{services.settings.redis.key_prefix}:deskq"
        self._sweeper: asyncio.Task[None] | None = None

    # -- keys -------------------------------------------------------------------------------
    def _agent_key(self, agent: str) -> str:
        return f"{self._prefix}:agent:{agent}"

    def _offer_key(self, agent: str) -> str:
        return f"{self._prefix}:offer:{agent}"

    def _offer_owner_key(self, offer_id: str) -> str:
        return f"{self._prefix}:offer-owner:{offer_id}"

    def _call_agent_key(self, call_id: str) -> str:
        return f"{self._prefix}:call-agent:{call_id}"

    @property
    def _wrap_up_deadlines(self) -> str:
        return f"{self._prefix}:wrap-up-deadlines"

    # -- DeskBackend ------------------------------------------------------------------------
    async def login(self, agent: str, extension: str) -> AgentStatus:
        await self.redis.hset(self._agent_key(agent), "extension", extension)
        return await self._transition(agent, AgentState.PAUSED, PauseReason.LOGIN.value)

    async def logout(self, agent: str) -> None:
        await self.redis.zrem(self._wrap_up_deadlines, agent)
        await self._transition(agent, AgentState.LOGGED_OUT, None)

    async def status(self, agent: str) -> AgentStatus:
        raw: dict[bytes, bytes] = await self.redis.hgetall(self._agent_key(agent))  # type: ignore[assignment]
        if not raw or b"state" not in raw:
            return AgentStatus(agent, AgentState.LOGGED_OUT, self.clock.now())
        until = raw.get(b"until", b"").decode()
        return AgentStatus(
            agent=agent,
            state=AgentState(raw[b"state"].decode()),
            since=datetime.fromisoformat(raw[b"since"].decode()),
            reason=raw.get(b"reason", b"").decode() or None,
            until=datetime.fromisoformat(until) if until else None,
        )

    async def set_state(
        self, agent: str, state: AgentState, reason: str | None = None
    ) -> AgentStatus:
        current = await self.status(agent)
        if current.state == AgentState.LOGGED_OUT:
            raise StateRefused(f"agent {agent!r} is not logged in")
        if current.state not in _AGENT_MAY_LEAVE and state != current.state:
            raise StateRefused(f"agent {agent!r} is {current.state.value}; cannot become {state}")
        if state not in (AgentState.AVAILABLE, AgentState.PAUSED):
            raise StateRefused(f"an agent cannot set state {state.value!r} by hand")
        if state == AgentState.PAUSED and not reason:
            raise StateRefused("a pause needs a reason")
        await self.redis.zrem(self._wrap_up_deadlines, agent)
        return await self._transition(agent, state, reason if state == AgentState.PAUSED else None)

    async def current_offer(self, agent: str) -> Offer | None:
        raw = await self.redis.get(self._offer_key(agent))
        return Offer.from_json(json.loads(raw)) if raw else None

    # -- the router's side ------------------------------------------------------------------
    async def make_offer(self, offer: Offer) -> None:
        """Offer a call to an available agent: state `offered`, current offer, live broadcast."""
        current = await self.status(offer.agent)
        if current.state != AgentState.AVAILABLE:
            raise StateRefused(f"agent {offer.agent!r} is {current.state.value}, not available")
        body = json.dumps(offer.as_json(), ensure_ascii=False)
        await self.redis.set(self._offer_key(offer.agent), body)
        await self.redis.set(self._offer_owner_key(offer.offer_id), offer.agent)
        await self.redis.set(self._call_agent_key(offer.call_id), offer.agent)
        await self._transition(offer.agent, AgentState.OFFERED, None, offer.call_id)
        await self.bus.publish("offers", "offer", offer.as_json())
        await self.bus.broadcast(f"agent:{offer.agent}", "offer", offer.as_json())

    async def offer_answered(self, offer_id: str) -> None:
        agent = await self._owner(offer_id)
        offer = await self.current_offer(agent)
        await self._transition(agent, AgentState.ON_CALL, None, offer.call_id if offer else None)

    async def offer_not_answered(self, offer_id: str) -> None:
        agent = await self._owner(offer_id)
        await self.bus.broadcast(f"agent:{agent}", "offer_withdrawn", {"offer_id": offer_id})
        await self._transition(agent, AgentState.PAUSED, PauseReason.NO_ANSWER.value)

    async def call_ended(self, call_id: str, cause: str = "normal") -> None:
        raw = await self.redis.get(self._call_agent_key(call_id))
        if raw is None:
            return
        agent = _text(raw)
        offer = await self.current_offer(agent)
        if offer is None or offer.call_id != call_id:
            return
        until = self.clock.now() + timedelta(seconds=self.wrap_up_s)
        await self.redis.zadd(self._wrap_up_deadlines, {agent: until.timestamp()})
        await self.bus.broadcast(
            f"agent:{agent}", "call_ended", {"call_id": call_id, "cause": cause}
        )
        await self._transition(agent, AgentState.WRAP_UP, None, call_id, until=until)

    async def end_expired_wrap_ups(self) -> list[str]:
        """Agents whose wrap-up time is over become available; returns their names."""
        now = self.clock.now().timestamp()
        due: list[bytes] = await self.redis.zrangebyscore(self._wrap_up_deadlines, 0, now)  # type: ignore[assignment]
        ended = []
        for raw in due:
            agent = raw.decode()
            # zrem succeeds for one process only: two sweepers never end the same wrap-up twice.
            if (
                await self.redis.zrem(self._wrap_up_deadlines, agent)
                and (await self.status(agent)).state == AgentState.WRAP_UP
            ):
                await self._transition(agent, AgentState.AVAILABLE, None)
                ended.append(agent)
        return ended

    async def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep(), name="wrap-up sweeper")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None

    async def _sweep(self) -> None:
        while True:
            try:
                await self.end_expired_wrap_ups()
            except Exception:  # a Redis hiccup must not end the sweeper for good
                log.exception("ending expired wrap-ups failed")
            await asyncio.sleep(0.25)

    # -- inside -----------------------------------------------------------------------------
    async def _owner(self, offer_id: str) -> str:
        raw = await self.redis.get(self._offer_owner_key(offer_id))
        if raw is None:
            raise StateRefused(f"unknown offer {offer_id!r}")
        return _text(raw)

    async def _transition(
        self,
        agent: str,
        state: AgentState,
        reason: str | None,
        call_id: str | None = None,
        until: datetime | None = None,
    ) -> AgentStatus:
        status = AgentStatus(agent, state, self.clock.now(), reason, until)
        if state in (AgentState.AVAILABLE, AgentState.PAUSED, AgentState.LOGGED_OUT):
            # The offer stays readable through the call and wrap-up (a reload shows it again).
            await self.redis.delete(self._offer_key(agent))
        mapping: dict[str | bytes, str] = {
            "state": state.value,
            "reason": reason or "",
            "since": status.since.isoformat(),
            "until": until.isoformat() if until else "",
        }
        await self.redis.hset(self._agent_key(agent), mapping=mapping)  # type: ignore[arg-type]
        async with self.services.sessions.begin() as session:
            user_id = await session.scalar(select(User.id).where(User.username == agent))
            if user_id is not None:
                session.add(
                    AgentStateLog(
                        agent_id=user_id,
                        state=state.value,
                        reason=reason,
                        call_id=call_id,
                        at=status.since,
                    )
                )
        await self.bus.broadcast("agents", "agent_state", status.as_json())
        return status
