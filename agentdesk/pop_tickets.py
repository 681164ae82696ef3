"""The caller's recent matters for screen-pops, read for many pops in one query.

As `agentdesk.pop_history` does for calls: the callers of the pops built at the same moment (a
burst of offers) are read together, a window function keeping each caller's newest matters, so
a burst costs one query instead of one per pop, in a row on the one event loop. The rows are
those `TicketStore.for_caller` gives one caller (newest first, at most `limit`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from agentdesk.newest_rows import newest_per_caller
from agentdesk.shared_results import Batcher
from agentdesk.tickets.models import Ticket
from agentdesk.tickets.store import TicketView, ticket_view

TICKETS_SHOWN = 10


@dataclass(frozen=True)
class TicketsKey:
    caller: str
    since: datetime


class TicketHistory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._batcher: Batcher[TicketsKey, list[TicketView]] = Batcher(self._fetch)

    async def for_caller(self, caller: str, since: datetime) -> list[TicketView]:
        """The caller's matters created since `since`, newest first, at most TICKETS_SHOWN."""
        return await self._batcher.get(TicketsKey(caller, since))

    async def _fetch(self, keys: list[TicketsKey]) -> dict[TicketsKey, list[TicketView]]:
        ranked = newest_per_caller(
            (Ticket.id,),
            Ticket.caller_number,
            (Ticket.created_at.desc(), Ticket.id.desc()),
            {key.caller for key in keys},
            Ticket.created_at,
            min(key.since for key in keys),
        )
        query = (
            select(Ticket)
            .join(ranked, ranked.c.id == Ticket.id)
            .where(ranked.c.newest <= TICKETS_SHOWN)
            .order_by(Ticket.caller_number, ranked.c.newest)
            .options(selectinload(Ticket.units))
        )
        by_caller: dict[str | None, list[TicketView]] = {}
        async with self._sessions() as session:
            for ticket in await session.scalars(query):
                by_caller.setdefault(ticket.caller_number, []).append(ticket_view(ticket))
        # newest first: a pop asking from a later `since` keeps the head of the same rows
        return {
            key: [t for t in by_caller.get(key.caller, []) if t.created_at >= key.since][
                :TICKETS_SHOWN
            ]
            for key in keys
        }
