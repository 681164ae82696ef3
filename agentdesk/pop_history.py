"""The caller's recent calls for screen-pops, read for many pops in one query.

Pops built at the same moment (a burst of offers) each want their caller's last calls. Asked one
by one, that is one query per pop, in a row on the one event loop and the one database
connection; here the callers asked while a query runs are read together by the next query (a
window function keeps each caller's newest rows only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentdesk.newest_rows import newest_per_caller
from agentdesk.shared_results import Batcher
from kck.db.models import Call

CALLS_SHOWN = 10


@dataclass(frozen=True)
class PastCall:
    id: str
    arrived_at: datetime
    outcome: str
    wrapup_outcome: str | None
    queue: str | None


@dataclass(frozen=True)
class HistoryKey:
    caller: str
    since: datetime
    call_id: str  # the call being offered: not part of its own history


class CallHistory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._batcher: Batcher[HistoryKey, list[PastCall]] = Batcher(self._fetch)

    async def recent(self, caller: str, since: datetime, call_id: str) -> list[PastCall]:
        """The caller's calls since `since`, newest first, at most CALLS_SHOWN, `call_id` left out."""
        return await self._batcher.get(HistoryKey(caller, since, call_id))

    async def _fetch(self, keys: list[HistoryKey]) -> dict[HistoryKey, list[PastCall]]:
        ranked = newest_per_caller(
            (
                Call.id,
                Call.caller_number,
                Call.arrived_at,
                Call.outcome,
                Call.wrapup_outcome,
                Call.queue,
            ),
            Call.caller_number,
            (Call.arrived_at.desc(),),
            {key.caller for key in keys},
            Call.arrived_at,
            min(key.since for key in keys),
        )
        # one more than shown: the offered call itself may be among the newest
        query = (
            select(ranked)
            .where(ranked.c.newest <= CALLS_SHOWN + 1)
            .order_by(ranked.c.caller_number, ranked.c.newest)
        )
        by_caller: dict[str, list[PastCall]] = {}
        async with self._sessions() as session:
            for row in (await session.execute(query)).all():
                by_caller.setdefault(row.caller_number, []).append(
                    PastCall(row.id, row.arrived_at, row.outcome, row.wrapup_outcome, row.queue)
                )
        return {
            key: [
                call
                for call in by_caller.get(key.caller, [])
                if call.arrived_at >= key.since and call.id != key.call_id
            ][:CALLS_SHOWN]
            for key in keys
        }
