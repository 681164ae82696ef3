"""The call-history writer: stream `queues` into SQL (agent state log and the calls table).

The router (Lua) and the IVR (`kck.call_events`) publish on the same stream; this is the only
writer of those rows, run under a lease by one process at a time (`queues.component`), so a
call's changes are applied in the order they were published.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kck.bus import BusEvent
from kck.call_events import CALL_ARRIVED, CALL_PROGRESS, apply_call_arrived, apply_call_progress
from kck.db.models import AgentStateLog, Call, Role, User
from queues.config import RoutingConfig

log = logging.getLogger(__name__)


def _at(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


class QueueRecorder:
    """Idempotent enough for redelivery: state rows are appended, call rows are overwritten.

    `handle_batch` writes a batch of events in one transaction (one commit per batch, not per
    event: the writer keeps up with a national-scale day on SQLite).
    """

    GROUP = "queues-recorder"
    LEASE = "queues-recorder"

    def __init__(self, sessions: async_sessionmaker[AsyncSession], config: RoutingConfig) -> None:
        self.sessions = sessions
        self.config = config
        self._user_ids: dict[str, int] = {}  # of committed users only
        self._new_user_ids: dict[str, int] = {}

    async def handle(self, event: BusEvent) -> None:
        await self.handle_batch([event])

    async def handle_batch(self, events: list[BusEvent]) -> None:
        self._new_user_ids = {}
        async with self.sessions() as session, session.begin():
            for event in events:
                await self._apply(session, event)
                if len(events) > 1:
                    await session.flush()  # the next event may be about the same call
        self._user_ids.update(self._new_user_ids)

    async def _apply(self, session: AsyncSession, event: BusEvent) -> None:
        data = event.data
        if event.type == CALL_ARRIVED:
            await apply_call_arrived(session, data)
        elif event.type == CALL_PROGRESS:
            await apply_call_progress(session, data)
        elif event.type == "agent_state":
            session.add(
                AgentStateLog(
                    agent_id=await self._user_id(session, str(data["agent"])),
                    state=str(data["state"]),
                    reason=data.get("reason"),
                    call_id=data.get("call_id"),
                    at=_at(data["since"]),
                )
            )
        elif event.type == "call_queued":
            call = await self._call(session, data)
            call.queued_at = _at(data["at"])
            call.queue = str(data["queue"])
        elif event.type == "call_answered":
            call = await self._call(session, data)
            call.answered_at = _at(data["at"])
            call.agent_id = await self._user_id(session, str(data["agent"]))
        elif event.type == "call_ended":
            call = await self._call(session, data)
            call.outcome = str(data["outcome"])
            call.ended_at = _at(data["at"])
            if data.get("outcome") == "abandoned":
                call.hangup_cause = str(data.get("cause"))
            if data.get("kind") == "callback":
                call.outcome = "callback"
                call.hangup_cause = str(data.get("cause"))
            if data.get("agent") and call.agent_id is None and data.get("outcome") != "abandoned":
                call.agent_id = await self._user_id(session, str(data["agent"]))

    async def _call(self, session: AsyncSession, data: dict[str, Any]) -> Call:
        call_id = str(data["call_id"])
        call = await session.get(Call, call_id)
        if call is None:
            # the IVR normally writes the row first; never lose the record if it did not
            request = data.get("request") or {}
            call = Call(
                id=call_id,
                uniqueid=str(data.get("uniqueid") or request.get("uniqueid") or ""),
                channel=request.get("channel"),
                caller_number=request.get("caller"),
                language=str(request.get("language") or "pl"),
                queue=data.get("queue"),
                skills=dict(request.get("skills") or {}),
                priority=int(request.get("priority") or 0),
                ivr_path=list(request.get("ivr_path") or []),
                menu_version=request.get("menu_version"),
                intent=request.get("intent"),
                transcript=request.get("transcript"),
                kb_topic=request.get("kb_topic"),
                ticket_category=request.get("ticket_category"),
            )
            if request.get("arrived_at"):
                call.arrived_at = _at(request["arrived_at"])
            session.add(call)
        return call

    async def _user_id(self, session: AsyncSession, username: str) -> int:
        known = self._user_ids.get(username) or self._new_user_ids.get(username)
        if known is not None:
            return known
        user_id = await session.scalar(select(User.id).where(User.username == username))
        if user_id is None:
            # an agent from agents.yaml the desk has not created yet: a row that cannot log in
            # (no password) so the history keeps its foreign key
            agent = self.config.agents.get(username)
            user = User(
                username=username,
                display_name=agent.name if agent else username,
                password_hash="!",
                role=Role.AGENT.value,
                extension=agent.extension if agent else None,
            )
            session.add(user)
            await session.flush()
            user_id = user.id
        self._new_user_ids[username] = user_id
        return user_id
