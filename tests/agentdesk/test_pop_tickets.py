"""The callers' recent matters of pops built at once (issue 20, point 4): one query for all, and
for each caller the matters `TicketStore.for_caller` gives, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from agentdesk.pop_tickets import TICKETS_SHOWN, TicketHistory
from agentdesk.tickets.models import Ticket, TicketUnit
from agentdesk.tickets.store import TicketStore


async def test_matters_of_many_callers_in_one_query_as_each_callers_own_read(
    engine: AsyncEngine,
) -> None:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    now = datetime.now(UTC).replace(microsecond=0)
    callers = [f"+4860013{n:04d}" for n in range(8)]
    async with sessions.begin() as db:
        number = 0
        for n, caller in enumerate(callers):
            for days in range(2 * n):  # up to 14 matters: more than a pop shows
                number += 1
                ticket = Ticket(
                    number=f"2026/{number:05d}",
                    category="roads" if days % 2 else "waste",
                    description=f"matter {number}",
                    caller_number=caller,
                    created_at=now - timedelta(days=days * 8, hours=n),  # some beyond 90 days
                    status="new" if days % 3 else "forwarded",
                )
                if days % 4 == 1:
                    ticket.units = [TicketUnit(unit_code="ZDM"), TicketUnit(unit_code="MPO")]
                db.add(ticket)
        db.add(  # another caller's matter, and one without a number
            Ticket(number="2026/99999", category="roads", description="x", caller_number=None)
        )
    store = TicketStore(sessions, ZoneInfo("Europe/Warsaw"))
    history = TicketHistory(sessions)
    # each pop its own moment, as pops built in the same burst have
    asked = [(caller, now - timedelta(days=90, seconds=n)) for n, caller in enumerate(callers)]
    asked.append(("+48600139999", now - timedelta(days=90)))  # a caller with no matters
    ticket_queries: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM tickets" in statement:
            ticket_queries.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        together = await asyncio.gather(*(history.for_caller(c, since) for c, since in asked))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert len(ticket_queries) == 1  # was one per pop

    for (caller, since), got in zip(asked, together, strict=True):
        assert got == await store.for_caller(caller, since)
    shown = [len(tickets) for tickets in together]
    assert max(shown) == TICKETS_SHOWN and min(shown) == 0 and 0 < shown[3] < TICKETS_SHOWN
    assert any(ticket.units for tickets in together for ticket in tickets)
