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
        if event.type == CALL_ARRIVED:
            self._batch_uniqueids[str(data.get("uniqueid"))] = str(data["call_id"])
            return call_arrived_writes(dialect, data)
        if event.type == CALL_PROGRESS:
            return call_progress_writes(dialect, data)
        if event.type == "agent_state":
            agent = str(data["agent"])
            state = {
                "agent_id": await self._user_id(session, agent),
                "state": str(data["state"]),
                "reason": data.get("reason"),
                "call_id": data.get("call_id"),
                "at": _at(data["since"]),
            }
            return [RowWrite(("agent", agent), _STATE_INSERT, state)]
        if event.type == "call_queued":
            changes = {"queued_at": _at(data["at"]), "queue": str(data["queue"])}
            return [self._change_call(dialect, data, changes)]
        if event.type == "call_answered":
            agent_id = await self._user_id(session, str(data["agent"]))
            changes = {"answered_at": _at(data["at"]), "agent_id": agent_id}
            return [self._change_call(dialect, data, changes)]
        if event.type == "call_ended":
            ending = await self._ending(session, data)
            # the agent who answered stays; the one named at the end only fills a row without
            keep = ("agent_id",) if "agent_id" in ending else ()
            return [self._change_call(dialect, data, ending, keep=keep)]
        if event.type == "call_fallback":
            uniqueid = str(data["uniqueid"])
            # keyed by the call so it keeps its place among the call's other writes
            call_id = data.get("call_id") or await self._call_of(session, uniqueid)
            member = None
            if data.get("agent"):
                member = await self._user_id(session, str(data["agent"]))
            return [
                call_fallback_write(call_id, uniqueid, str(data["stage"]), _at(data["at"]), member)
            ]
        if event.type == CALL_INTERRUPTED:
            return [call_interrupted_write(str(data["call_id"]), _at(data["at"]))]
        return []  # events for other readers (callback_requested...)

    async def _call_of(self, session: AsyncSession, uniqueid: str) -> str | None:
        if uniqueid in self._batch_uniqueids:
            return self._batch_uniqueids[uniqueid]
        found = await session.scalar(select(Call.id).where(Call.uniqueid == uniqueid).limit(1))
        return None if found is None else str(found)

    async def _ending(self, session: AsyncSession, data: dict[str, Any]) -> dict[str, Any]:
        changes: dict[str, Any] = {"outcome": str(data["outcome"]), "ended_at": _at(data["at"])}
        if data.get("outcome") == "abandoned":
            changes["hangup_cause"] = str(data.get("cause"))
        if data.get("kind") == "callback":
            failed = data.get("outcome") == "callback_failed"
            changes["outcome"] = "callback_failed" if failed else "callback"
            # a failed callback says why its last attempt failed (BUSY, NOANSWER…)
            why = data.get("why") if failed else None
            changes["hangup_cause"] = str(why or data.get("cause"))
        if data.get("agent") and data.get("outcome") != "abandoned":
            changes["agent_id"] = await self._user_id(session, str(data["agent"]))
        return changes

    def _change_call(
        self,
        dialect: str,
        data: dict[str, Any],
        changes: dict[str, Any],
        keep: tuple[str, ...] = (),
    ) -> RowWrite:
        """The router's change; a call the IVR did not record gets a row from the request."""
        request = data.get("request") or {}
        if_new: dict[str, Any] = {
            "uniqueid": str(data.get("uniqueid") or request.get("uniqueid") or ""),
            "channel": request.get("channel"),
            "caller_number": request.get("caller"),
            "language": str(request.get("language") or "pl"),
            "queue": data.get("queue"),
            "skills": dict(request.get("skills") or {}),
            "priority": int(request.get("priority") or 0),
            "ivr_path": list(request.get("ivr_path") or []),
            "menu_version": request.get("menu_version"),
            "intent": request.get("intent"),
            "transcript": request.get("transcript"),
            "kb_topic": request.get("kb_topic"),
            "ticket_category": request.get("ticket_category"),
        }
        if request.get("arrived_at"):
            if_new["arrived_at"] = _at(request["arrived_at"])
        call_id = str(data["call_id"])
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
