"""Reads what the metrics count from SQL: calls, agent state log, tickets (when that table exists)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, column, func, inspect, or_, select, table
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from agentdesk.reports.metrics import CallFacts, StateRecord, is_waiting, wrap_up_seconds
from kck.db.models import AgentStateLog, Call, User
from kck.db.types import UTCDateTime

NO_IVR = ""  # the branch of a call that never went through the IVR
BRANCH_JOIN = " → "
IVR_SLACK = timedelta(hours=1)

# The desk owns these tables; reports read them without importing the desk's models.
_tickets = table("tickets", column("id"), column("category"), column("created_at", UTCDateTime()))
_ticket_units = table("ticket_units", column("ticket_id"), column("unit_code"))


def ivr_branch(path: Any) -> str:
    """The branch a caller took: the ids of their IVR steps (the report names them from the
    menu's labels in the reader's language, `agentdesk.reports.names`)."""
    if not isinstance(path, list) or not path:
        return NO_IVR
    ids = []
    for step in path:
        if isinstance(step, dict):
            step_id = step.get("step_id") or step.get("label")
            if step_id:
                ids.append(str(step_id))
    return BRANCH_JOIN.join(ids)


async def load_calls(
    sessions: async_sessionmaker[AsyncSession],
    start: datetime,
    end: datetime,
    *,
    queue: str | None = None,
    include_waiting_since: datetime | None = None,
) -> list[CallFacts]:
    """Calls counted in [start, end) (entered a queue then, or arrived then if never queued),
    with their wrap-up times.

    `include_waiting_since`: also calls that arrived earlier (from that moment) and are still
    waiting — the board shows a caller who has waited since before midnight.
    """
    # Arrival comes before queue entry by the IVR time; read a little earlier, filter below.
    condition: ColumnElement[bool] = (Call.arrived_at >= start - IVR_SLACK) & (
        Call.arrived_at < end
    )
    if include_waiting_since is not None:
        condition = or_(
            condition,
            (Call.arrived_at >= include_waiting_since)
            & Call.queued_at.is_not(None)
            & Call.answered_at.is_(None)
            & Call.ended_at.is_(None),
        )
    query = select(
        Call.id,
        Call.arrived_at,
        Call.queue,
        Call.queued_at,
        Call.answered_at,
        Call.ended_at,
        Call.outcome,
        Call.wrapup_outcome,
        Call.ivr_path,
    ).where(condition)
    if queue:
        query = query.where(Call.queue == queue)
    async with sessions() as session:
        rows = (await session.execute(query)).all()
        states = await load_state_records(
            session, start - timedelta(hours=1), end + timedelta(days=1), wrap_up_only=True
        )
    wraps = wrap_up_seconds(states)
    calls = [
        CallFacts(
            call_id=row.id,
            arrived_at=row.arrived_at,
            queue=row.queue,
            queued_at=row.queued_at,
            answered_at=row.answered_at,
            ended_at=row.ended_at,
            outcome=row.outcome,
            wrapup_outcome=row.wrapup_outcome,
            ivr_branch=ivr_branch(row.ivr_path),
            wrap_up_s=wraps.get(row.id, 0.0),
        )
        for row in rows
    ]
    return [
        c
        for c in calls
        if start <= c.counted_at < end or (include_waiting_since is not None and is_waiting(c))
    ]


async def load_state_records(
    session: AsyncSession, start: datetime, end: datetime, *, wrap_up_only: bool = False
) -> list[StateRecord]:
    """State-log rows in [start, end) plus, per agent, the row in force at `start`.

    With `wrap_up_only` the rows still include every state (a wrap-up ends at the next row), but
    only agents who had a wrap-up in the span are read.
    """
    in_span = (AgentStateLog.at >= start) & (AgentStateLog.at < end)
    agents_query = select(AgentStateLog.agent_id).where(in_span)
    if wrap_up_only:
        agents_query = agents_query.where(AgentStateLog.state == "wrap_up")
    last_before = (
        select(AgentStateLog.agent_id, func.max(AgentStateLog.at).label("at"))
        .where(AgentStateLog.at < start)
        .group_by(AgentStateLog.agent_id)
        .subquery()
    )
    query = (
        select(
            User.username,
            AgentStateLog.state,
            AgentStateLog.at,
            AgentStateLog.reason,
            AgentStateLog.call_id,
        )
        .join(User, User.id == AgentStateLog.agent_id)
        .outerjoin(
            last_before,
            (last_before.c.agent_id == AgentStateLog.agent_id)
            & (last_before.c.at == AgentStateLog.at),
        )
        .where(in_span | last_before.c.at.is_not(None))
        .order_by(AgentStateLog.agent_id, AgentStateLog.at, AgentStateLog.id)
    )
    if wrap_up_only:
        query = query.where(AgentStateLog.agent_id.in_(agents_query.scalar_subquery()))
    rows = (await session.execute(query)).all()
    return [StateRecord(r.username, r.state, r.at, r.reason, r.call_id) for r in rows]


@dataclass(frozen=True)
class TicketCounts:
    """Tickets created in a span, per category and per city unit; `available` False = no table."""

    available: bool
    by_category: Sequence[tuple[str, int]] = ()
    by_unit: Sequence[tuple[str, int]] = ()


def _has_tickets(connection: Connection) -> bool:
    names = set(inspect(connection).get_table_names())
    return "tickets" in names


async def load_ticket_counts(engine: AsyncEngine, start: datetime, end: datetime) -> TicketCounts:
    async with engine.connect() as connection:
        if not await connection.run_sync(_has_tickets):
            return TicketCounts(available=False)
        in_span = (_tickets.c.created_at >= start) & (_tickets.c.created_at < end)
        per_category = (
            await connection.execute(
                select(_tickets.c.category, func.count())
                .where(in_span)
                .group_by(_tickets.c.category)
                .order_by(func.count().desc(), _tickets.c.category)
            )
        ).all()
        has_units = await connection.run_sync(
            lambda sync: "ticket_units" in inspect(sync).get_table_names()
        )
        per_unit: list[Any] = []
        if has_units:
            per_unit = list(
                (
                    await connection.execute(
                        select(_ticket_units.c.unit_code, func.count())
                        .join(_tickets, _tickets.c.id == _ticket_units.c.ticket_id)
                        .where(in_span)
                        .group_by(_ticket_units.c.unit_code)
                        .order_by(func.count().desc(), _ticket_units.c.unit_code)
                    )
                ).all()
            )
    return TicketCounts(
        available=True,
        by_category=[(str(c), int(n)) for c, n in per_category],
        by_unit=[(str(u), int(n)) for u, n in per_unit],
    )
