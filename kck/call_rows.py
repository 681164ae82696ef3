"""Writing call rows from events: one cached statement per event shape, executed in call order.

The call-history writer turns each event into `RowWrite`s (a statement built once per shape, and
its parameters), then runs a batch of them with as few round trips as the order allows:
a call's writes keep their stream order, writes of different calls commute, so the batch runs
in generations (each call's first write, then each call's second...) and within a generation
every statement runs once as an executemany.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import String, bindparam, func, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from kck.call_events import decode_times
from kck.db.models import Call, CallOutcome
from kck.edge_values import fit_row, without_nul

_CALLS: Any = Call.__table__


@dataclass(frozen=True)
class RowWrite:
    """One statement to run for one event; `order_key` names what its order matters for."""

    order_key: Hashable
    statement: Any
    params: dict[str, Any]


def upsert_write(
    dialect: str,
    call_id: str,
    changes: Mapping[str, Any],
    *,
    if_new: Mapping[str, Any] | None = None,
    keep: Iterable[str] = (),
) -> RowWrite:
    """Set `changes` on the call's row, creating it (with `if_new`) if absent.

    A row normally exists (the arrival is first in the stream); it may not when an event was
    lost or the call never went through our IVR: the record is never lost. Columns in `keep`
    are only filled in where the row has none yet (NULL or empty).
    """
    row: dict[str, Any] = {"uniqueid": call_id, "outcome": CallOutcome.IN_PROGRESS.value}
    row.update(if_new or {})
    row.update(changes)
    row["id"] = call_id
    row = fit_row(_CALLS, row)
    statement = _upsert_statement(dialect, tuple(row), tuple(changes), tuple(keep))
    return RowWrite(("call", call_id), statement, row)


@lru_cache(maxsize=256)
def _upsert_statement(
    dialect: str, columns: tuple[str, ...], changed: tuple[str, ...], kept: tuple[str, ...]
) -> Any:
    """INSERT ... ON CONFLICT (id) DO UPDATE, built once per shape and bound per event.

    Building a statement costs far more than executing a cached one; an event type always has
    the same shape, so a writer builds a handful of these in its life.
    """
    if dialect == "postgresql":
        statement: Any = postgresql_insert(Call)
    elif dialect == "sqlite":
        statement = sqlite_insert(Call)
    else:
        raise NotImplementedError(f"call history needs SQLite or PostgreSQL, not {dialect!r}")
    # column defaults (JSON lists, arrival time) apply to an inserted row as with any INSERT
    statement = statement.values({name: bindparam(name) for name in columns})
    excluded = statement.excluded
    updates: dict[str, Any] = {name: excluded[name] for name in changed}
    for name in kept:
        existing: Any = getattr(Call, name)
        if isinstance(existing.type, String):
            existing = func.nullif(existing, "")  # a stub row's empty uniqueid is "none"
        updates[name] = func.coalesce(existing, excluded[name])
    if not updates:
        return statement.on_conflict_do_nothing(index_elements=[Call.id])
    return statement.on_conflict_do_update(index_elements=[Call.id], set_=updates)


_ARRIVAL_COLUMNS = (
    "uniqueid",
    "channel",
    "caller_number",
    "caller_name",
    "dialled_number",
    "language",
    "menu_version",
)

# an abandon the IVR saw in the wait applies only while nobody has said how the call ended
_ABANDON_IF_IN_PROGRESS = (
    update(Call)
    .where(Call.id == bindparam("row_id"), Call.outcome == CallOutcome.IN_PROGRESS.value)
    .values(outcome=bindparam("ended_outcome"), ended_at=bindparam("ended_time"))
)


def call_arrived_writes(dialect: str, data: dict[str, Any]) -> list[RowWrite]:
    """Insert the row; if an event about the call created it first, fill in what it lacks."""
    values = decode_times(data)
    arrival = {name: values.get(name) for name in _ARRIVAL_COLUMNS}
    changes = {"arrived_at": values["arrived_at"]}
    call_id = str(values["call_id"])
    return [upsert_write(dialect, call_id, changes, if_new=arrival, keep=_ARRIVAL_COLUMNS)]


def call_progress_writes(dialect: str, data: dict[str, Any]) -> list[RowWrite]:
    """Set the IVR's columns and, when the call ended in the IVR, its outcome.

    An abandon the IVR saw in the wait (`ended`) applies only while the row is still in
    progress: the router's `call_ended`, earlier in the stream, has the last word on a queued call.
    """
    call_id = str(data["call_id"])
    values = decode_times(dict(data.get("values") or {}))
    ended = decode_times(dict(data.get("ended") or {}))
    if_new = {"uniqueid": str(data.get("uniqueid") or "")}  # "" = unknown until the arrival
    writes = [upsert_write(dialect, call_id, values, if_new=if_new)]
    if ended:
        params = {
            "row_id": call_id,
            "ended_outcome": str(ended["outcome"]),
            "ended_time": ended["ended_at"],
        }
        writes.append(RowWrite(("call", call_id), _ABANDON_IF_IN_PROGRESS, params))
    return writes


async def execute_in_call_order(session: AsyncSession, writes: Iterable[RowWrite]) -> int:
    """Run the writes keeping each `order_key`'s order; returns the number of round trips.

    Generation n holds each key's n-th write; a generation's writes run grouped by statement
    (one executemany each, in first-seen order), so a batch of events costs a few round trips
    instead of one per event.
    """
    generations: list[dict[int, tuple[Any, list[dict[str, Any]]]]] = []
    seen: dict[Hashable, int] = {}
    for write in writes:
        n = seen.get(write.order_key, 0)
        seen[write.order_key] = n + 1
        if n == len(generations):
            generations.append({})
        group = generations[n].setdefault(id(write.statement), (write.statement, []))
        group[1].append(without_nul(write.params))  # PostgreSQL refuses NUL in any text
    trips = 0
    connection = await session.connection()  # Core executemany, not the ORM's bulk operations
    for generation in generations:
        for statement, params in generation.values():
            await connection.execute(statement, params)
            trips += 1
    return trips


# what the fallback queue did to a call that kck lost, or whose row nobody closed: each may
# replace only what came before it (a late duplicate from another node changes nothing)
_FALLBACK_REPLACES = {
    CallOutcome.FALLBACK: (
        CallOutcome.IN_PROGRESS,
        CallOutcome.TRANSFERRED,
        CallOutcome.INTERRUPTED,
        CallOutcome.FAILED,
    ),
    CallOutcome.FALLBACK_ANSWERED: (
        CallOutcome.IN_PROGRESS,
        CallOutcome.TRANSFERRED,
        CallOutcome.INTERRUPTED,
        CallOutcome.FAILED,
        CallOutcome.FALLBACK,
    ),
}
_FALLBACK_REPLACES[CallOutcome.FALLBACK_ABANDONED] = _FALLBACK_REPLACES[
    CallOutcome.FALLBACK_ANSWERED
]
FALLBACK_STAGES = {
    "joined": CallOutcome.FALLBACK,
    "answered": CallOutcome.FALLBACK_ANSWERED,
    "abandoned": CallOutcome.FALLBACK_ABANDONED,
}


@lru_cache(maxsize=8)
def _fallback_statement(outcome: CallOutcome) -> Any:
    values: dict[str, Any] = {
        "outcome": outcome.value,
        "hangup_cause": "fallback",
        # it left kck's queue when the fallback took it: from then on it is not waiting
        "ended_at": func.coalesce(Call.ended_at, bindparam("at")),
    }
    if outcome is CallOutcome.FALLBACK_ANSWERED:
        values["agent_id"] = func.coalesce(bindparam("agent_id"), Call.agent_id)
    allowed = [o.value for o in _FALLBACK_REPLACES[outcome]]
    return (
        update(Call)
        .where(Call.uniqueid == bindparam("uid"), Call.outcome.in_(allowed))
        .values(values)
    )


def call_fallback_write(
    call_id: str | None, uniqueid: str, stage: str, at: datetime, agent_id: int | None
) -> RowWrite:
    """The fallback queue took (`joined`), connected (`answered`) or lost (`abandoned`) the
    caller of channel `uniqueid`: the row's outcome says so (never an abandon of kck's)."""
    outcome = FALLBACK_STAGES[stage]
    params: dict[str, Any] = {"uid": uniqueid, "at": at}
    if outcome is CallOutcome.FALLBACK_ANSWERED:
        params["agent_id"] = agent_id
    key = ("call", call_id) if call_id else ("uniqueid", uniqueid)
    return RowWrite(key, _fallback_statement(outcome), params)


_INTERRUPTED = (
    update(Call)
    .where(Call.id == bindparam("row_id"), Call.outcome == CallOutcome.IN_PROGRESS.value)
    .values(
        outcome=CallOutcome.INTERRUPTED.value,
        hangup_cause="controller_lost",
        ended_at=func.coalesce(Call.ended_at, bindparam("at")),
    )
)


def call_interrupted_write(call_id: str, at: datetime) -> RowWrite:
    """A row still `in_progress` whose channel is gone and which no controller holds: kck
    stopped while the call was in its hands (the resync after a restart finds these)."""
    return RowWrite(("call", call_id), _INTERRUPTED, {"row_id": call_id, "at": at})
