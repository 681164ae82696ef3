"""The call-history writer: stream `queues` into SQL (agent state log and the calls table).

The router (Lua) and the IVR (`kck.call_events`) publish on the same stream; this is the only
writer of those rows, run under a lease by one process at a time (`queues.component`), so a
call's changes are applied in the order they were published.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kck.bus import BusEvent
from kck.call_events import CALL_ARRIVED, CALL_INTERRUPTED, CALL_PROGRESS
from kck.call_rows import (
    RowWrite,
    call_arrived_writes,
    call_fallback_write,
    call_interrupted_write,
    call_progress_writes,
    execute_in_call_order,
    upsert_write,
)
from kck.db.models import AgentStateLog, Call, Role, User
from queues.config import RoutingConfig
from queues.events import (
    AgentStateChanged,
    CallAnswered,
    CallEnded,
    CallFallback,
    CallQueued,
    CallTransferred,
    TransferAnswered,
    decode_event,
)
from queues.model import RoutingRequest

log = logging.getLogger(__name__)


_STATE_INSERT = insert(AgentStateLog)  # built once: bound per event


def _at(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


class QueueRecorder:
    """Idempotent enough for redelivery: state rows are appended, call rows are overwritten.

    `handle_batch` writes a batch of events in one transaction (one commit per batch, not per
    event: the writer keeps up with a national-scale day on SQLite).
    """

    GROUP = "queues-recorder"
    LEASE = "queues-recorder"
    LINGER_MS = 50  # rows reach SQL within ~50 ms; one transaction per ~50 ms at any volume

    def __init__(self, sessions: async_sessionmaker[AsyncSession], config: RoutingConfig) -> None:
        self.sessions = sessions
        self.config = config
        self._user_ids: dict[str, int] = {}  # of committed users only
        self._new_user_ids: dict[str, int] = {}
        self._batch_uniqueids: dict[str, str] = {}  # channel → call id, this batch's arrivals

    async def handle(self, event: BusEvent) -> None:
        await self.handle_batch([event])

    async def handle_batch(self, events: list[BusEvent]) -> None:
        self._new_user_ids = {}
        self._batch_uniqueids = {}
        async with self.sessions() as session, session.begin():
            dialect = session.get_bind().dialect.name
            writes: list[RowWrite] = []
            for event in events:
                writes.extend(await self._writes(session, dialect, event))
            await execute_in_call_order(session, writes)
        self._user_ids.update(self._new_user_ids)

    async def _writes(self, session: AsyncSession, dialect: str, event: BusEvent) -> list[RowWrite]:
        data = event.data
        # the IVR's events (kck.call_events) and the controller's resync
        if event.type == CALL_ARRIVED:
            self._batch_uniqueids[str(data.get("uniqueid"))] = str(data["call_id"])
            return call_arrived_writes(dialect, data)
        if event.type == CALL_PROGRESS:
            return call_progress_writes(dialect, data)
        if event.type == CALL_INTERRUPTED:
            return [call_interrupted_write(str(data["call_id"]), _at(data["at"]))]
        # the router's (queues.events)
        routed = decode_event(event.type, data)
        if isinstance(routed, AgentStateChanged):
            state = {
                "agent_id": await self._user_id(session, routed.agent),
                "state": routed.state.value,
                "reason": routed.reason,
                "call_id": routed.call_id,
                "at": routed.since,
            }
            return [RowWrite(("agent", routed.agent), _STATE_INSERT, state)]
        if isinstance(routed, CallQueued):
            changes = {"queued_at": routed.at, "queue": routed.queue}
            return [
                self._change_call(
                    dialect, routed.call_id, routed.queue, changes, routed.request, routed.uniqueid
                )
            ]
        if isinstance(routed, TransferAnswered):
            # answered once already (answered_at stays the first answer): the call's agent is
            # now the one it was transferred to
            agent_id = await self._user_id(session, routed.agent)
            changes = {"agent_id": agent_id}
            return [self._change_call(dialect, routed.call_id, routed.queue, changes)]
        if isinstance(routed, CallTransferred):
            changes = {"transfers": [dict(t) for t in routed.transfers]}
            return [self._change_call(dialect, routed.call_id, routed.queue, changes)]
        if isinstance(routed, CallAnswered):
            agent_id = await self._user_id(session, routed.agent)
            changes = {"answered_at": routed.at, "agent_id": agent_id}
            return [self._change_call(dialect, routed.call_id, routed.queue, changes)]
        if isinstance(routed, CallEnded):
            ending = await self._ending(session, routed)
            # the agent who answered stays; the one named at the end only fills a row without
            keep = ("agent_id",) if "agent_id" in ending else ()
            return [self._change_call(dialect, routed.call_id, routed.queue, ending, keep=keep)]
        if isinstance(routed, CallFallback):
            # keyed by the call so it keeps its place among the call's other writes
            call_id = routed.call_id or await self._call_of(session, routed.uniqueid)
            member = None
            if routed.agent:
                member = await self._user_id(session, routed.agent)
            return [call_fallback_write(call_id, routed.uniqueid, routed.stage, routed.at, member)]
        return []  # events for other readers (offers, callback attempts…)

    async def _call_of(self, session: AsyncSession, uniqueid: str) -> str | None:
        if uniqueid in self._batch_uniqueids:
            return self._batch_uniqueids[uniqueid]
        found = await session.scalar(select(Call.id).where(Call.uniqueid == uniqueid).limit(1))
        return None if found is None else str(found)

    async def _ending(self, session: AsyncSession, ended: CallEnded) -> dict[str, Any]:
        changes: dict[str, Any] = {"outcome": ended.outcome, "ended_at": ended.at}
        if ended.outcome == "abandoned":
            changes["hangup_cause"] = ended.cause
        if ended.kind == "callback":
            failed = ended.outcome == "callback_failed"
            changes["outcome"] = "callback_failed" if failed else "callback"
            # a failed callback says why its last attempt failed (BUSY, NOANSWER…)
            changes["hangup_cause"] = (ended.why if failed else None) or ended.cause
        if ended.agent and ended.outcome != "abandoned":
            changes["agent_id"] = await self._user_id(session, ended.agent)
        return changes

    def _change_call(
        self,
        dialect: str,
        call_id: str,
        queue: str,
        changes: dict[str, Any],
        request: RoutingRequest | None = None,
        uniqueid: str = "",
        keep: tuple[str, ...] = (),
    ) -> RowWrite:
        """The router's change; a call the IVR did not record gets a row from the request."""
        if_new: dict[str, Any] = {"uniqueid": uniqueid, "queue": queue, "language": "pl"}
        if request is not None:
            if_new.update(
                uniqueid=uniqueid or request.uniqueid,
                channel=request.channel,
                caller_number=request.caller,
                language=request.language or "pl",
                skills=dict(request.skills),
                priority=request.priority,
                ivr_path=[step.as_dict() for step in request.ivr_path],
                menu_version=request.menu_version or None,
                intent=request.intent,
                transcript=request.transcript,
                kb_topic=request.kb_topic,
                ticket_category=request.ticket_category,
            )
            if request.arrived_at:
                if_new["arrived_at"] = _at(request.arrived_at)
        return upsert_write(dialect, call_id, changes, if_new=if_new, keep=keep)

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
