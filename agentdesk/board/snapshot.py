"""The wall board's numbers for today, counted from the tables with the shared metric definitions.

The router's live snapshot (`queues.stats`, channel `stats`) is truer for what lives only in
Redis (calls waiting, longest wait); `merge_live` lays those fields over the counted board.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentdesk.reports.metrics import (
    COUNTER_NAMES,
    CallFacts,
    CountingRules,
    ServiceLevelTarget,
    occupancy_pct,
    state_intervals,
    summarize,
    summary_from_counters,
)
from agentdesk.reports.periods import day_start
from agentdesk.reports.records import load_calls, load_state_records
from agentdesk.reports.rules import QueueNames
from kck import phone
from kck.db.models import AgentStateLog, Call, CallOutcome, Role, User

RECENT = timedelta(minutes=30)
# A caller still waiting from before midnight is still on today's board (but not a week back).
WAITING_LOOKBACK = timedelta(days=1)
AGENT_STATES = ("available", "offered", "on_call", "wrap_up", "paused", "logged_out")
# Board fields the router's day counters can replace.
COUNTED_FIELDS = (
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "handled",
    "service_level_pct",
    "asa_s",
    "aht_s",
    "abandon_rate_pct",
)


@dataclass(frozen=True)
class AgentRow:
    agent: str
    name: str
    state: str
    reason: str | None
    since: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "name": self.name,
            "state": self.state,
            "reason": self.reason,
            "since": self.since.isoformat() if self.since else None,
        }


async def load_agents(session: AsyncSession) -> list[AgentRow]:
    """Every active agent with the state of their latest state-log row (none: logged out)."""
    latest = (
        select(AgentStateLog.agent_id, func.max(AgentStateLog.id).label("last_id"))
        .group_by(AgentStateLog.agent_id)
        .subquery()
    )
    query = (
        select(
            User.username,
            User.display_name,
            AgentStateLog.state,
            AgentStateLog.reason,
            AgentStateLog.at,
        )
        .outerjoin(latest, latest.c.agent_id == User.id)
        .outerjoin(AgentStateLog, AgentStateLog.id == latest.c.last_id)
        .where(User.role == Role.AGENT.value, User.active.is_(True))
        .order_by(User.username)
    )
    rows = (await session.execute(query)).all()
    return [
        AgentRow(r.username, r.display_name, r.state or "logged_out", r.reason, r.at) for r in rows
    ]


def _queue_block(
    queue_id: str | None,
    name: str,
    calls: list[CallFacts],
    rules: CountingRules,
    now: datetime,
) -> dict[str, Any]:
    target = rules.target_for(queue_id)
    today = summarize(calls, rules, target, now)
    recent = summarize([c for c in calls if c.counted_at >= now - RECENT], rules, target, now)
    block: dict[str, Any] = {"id": queue_id, "name": name, **today.as_json()}
    block["service_level_30min_pct"] = recent.service_level_pct
    block["below_target_30min"] = recent.below_target
    return block


async def build_board(
    sessions: async_sessionmaker[AsyncSession],
    rules: CountingRules,
    names: QueueNames,
    tz: ZoneInfo,
    now: datetime,
    language: str = "pl",
) -> dict[str, Any]:
    """Today's board (local day of `now`): per queue, the total, agents and their states."""
    start = day_start(now.astimezone(tz).date(), tz)
    calls = await load_calls(
        sessions, start, now + timedelta(seconds=1), include_waiting_since=start - WAITING_LOOKBACK
    )
    async with sessions() as session:
        agents = await load_agents(session)
        records = await load_state_records(session, start, now)
        failed = await load_failed_callbacks(session, start, tz, names, language)
    queue_ids = list(names.ids)
    for call in calls:
        if call.queue and call.queue not in queue_ids:
            queue_ids.append(call.queue)
    queues = [
        _queue_block(q, names.name(q, language), [c for c in calls if c.queue == q], rules, now)
        for q in queue_ids
    ]
    total = _queue_block(None, "Razem / Total", calls, rules, now)
    by_state = Counter(agent.state for agent in agents)
    total["agents_by_state"] = {state: by_state.get(state, 0) for state in AGENT_STATES}
    total["occupancy_pct"] = occupancy_pct(state_intervals(records, start, now))
    return {
        "at": now.isoformat(),
        "day": now.astimezone(tz).date().isoformat(),
        "timezone": str(tz),
        "total": total,
        "queues": queues,
        "agents": [agent.as_json() for agent in agents],
        "failed_callbacks": failed,
    }


# `why` of a failed callback is the code of its last attempt: the dial status of the citizen's leg
# or ours; the board's script shows it in the reader's words (the catalogue's
# `callback.why.<code in lower case>`), an unknown code as it is
CALLBACK_FAILURES = (
    "BUSY",
    "NOANSWER",
    "CHANUNAVAIL",
    "CONGESTION",
    "CANCEL",
    "originate_failed",  # queues/callbacks.py
    "not_dialled",  # queues/ami_events.py
)
FAILED_CALLBACKS_SHOWN = 50


async def load_failed_callbacks(
    session: AsyncSession, start: datetime, tz: ZoneInfo, names: QueueNames, language: str
) -> list[dict[str, Any]]:
    """Today's callbacks that reached nobody after every attempt, newest first: supervisors
    decide what to do with them (a citizen waits for a call that will not come by itself)."""
    rows = await session.scalars(
        select(Call)
        .where(Call.outcome == CallOutcome.CALLBACK_FAILED.value, Call.ended_at >= start)
        .order_by(Call.ended_at.desc())
        .limit(FAILED_CALLBACKS_SHOWN)
    )
    return [
        {
            "call_id": row.id,
            "number": phone.display(row.caller_number, "—"),
            "queue": names.name(row.queue, language) if row.queue else "",
            "at": row.ended_at.astimezone(tz).strftime("%H:%M") if row.ended_at else "",
            "why": row.hangup_cause or "",
        }
        for row in rows
    ]


def _live_queues(stats: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The router's per-queue entries, whether sent as a mapping or as a list of objects."""
    raw = stats.get("queues")
    if isinstance(raw, dict):
        return {str(k): v for k, v in raw.items() if isinstance(v, dict)}
    if isinstance(raw, list):
        return {
            str(entry.get("id") or entry.get("queue")): entry
            for entry in raw
            if isinstance(entry, dict) and (entry.get("id") or entry.get("queue"))
        }
    return {}


def _counters(entry: dict[str, Any]) -> dict[str, int] | None:
    if "entered" not in entry:
        return None
    return {name: int(entry.get(name) or 0) for name in COUNTER_NAMES}


def _overlay(
    block: dict[str, Any],
    counters: dict[str, int] | None,
    waiting: int | None,
    longest_wait_s: float | None,
    at: datetime | None,
    target: ServiceLevelTarget,
) -> None:
    """Replace the counted fields of `block` with the router's (FCR and the 30-minute service
    level stay counted from SQL: the router has no such counters)."""
    if counters is not None:
        live = summary_from_counters(counters, target).as_json()
        for key in (*COUNTED_FIELDS, "below_target"):
            block[key] = live[key]
    if waiting is not None:
        block["waiting"] = waiting
        block["longest_wait_s"] = longest_wait_s if waiting else None
        block["oldest_waiting_since"] = (
            (at - timedelta(seconds=longest_wait_s)).isoformat()
            if waiting and at is not None and longest_wait_s is not None
            else None
        )


def merge_live(
    board: dict[str, Any], stats: dict[str, Any] | None, rules: CountingRules | None = None
) -> dict[str, Any]:
    """Lay the router's live snapshot (`queues.stats`) over the counted board.

    Waiting calls and agents' states live only in Redis; the day's counters are the router's
    too and run ahead of the SQL recorder, so where the router sent them they win. The
    arithmetic is the same (`summary_from_counters` → `queues.stats.derive`).
    """
    if not stats:
        return board
    rules = rules or CountingRules()
    at = _parse_time(stats.get("at"))
    live = _live_queues(stats)
    totals = dict.fromkeys(COUNTER_NAMES, 0)
    have_totals = False
    waiting_total, longest_total = 0, 0.0
    known = {str(block["id"]) for block in board["queues"]}
    for queue_id, live_entry in live.items():
        if queue_id not in known:  # a queue the router has that no counted call named yet
            target = rules.target_for(queue_id)
            name = str(live_entry.get("name_pl") or queue_id)
            board["queues"].append(
                {
                    "id": queue_id,
                    "name": name,
                    **summarize([], rules, target).as_json(),
                    "service_level_30min_pct": None,
                    "below_target_30min": False,
                }
            )
    for block in board["queues"]:
        entry = live.get(str(block["id"]))
        if not entry:
            continue
        counters = _counters(entry)
        if counters is not None:
            have_totals = True
            for name, value in counters.items():
                totals[name] += value
        waiting = int(entry["waiting"]) if "waiting" in entry else None
        longest = float(entry.get("longest_wait_s") or 0.0)
        waiting_total += waiting or 0
        if waiting:
            longest_total = max(longest_total, longest)
        _overlay(block, counters, waiting, longest, at, rules.target_for(str(block["id"])))
    if live:
        _overlay(
            board["total"],
            totals if have_totals else None,
            waiting_total,
            longest_total,
            at,
            rules.default_target,
        )
    agents = stats.get("agents")
    if isinstance(agents, dict):
        for row in agents.get("list") or []:
            if isinstance(row, dict):
                apply_agent_event(board, row)
        occupancy = agents.get("occupancy")
        if isinstance(occupancy, int | float):
            board["total"]["occupancy_pct"] = 100.0 * occupancy
    return board


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def apply_agent_event(board: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """Update one agent's row (and the per-state counts) from an `agents` broadcast."""
    agent = str(event.get("agent", ""))
    if not agent:
        return board
    row = next((r for r in board["agents"] if r["agent"] == agent), None)
    if row is None:
        row = {"agent": agent, "name": agent, "state": "logged_out", "reason": None, "since": None}
        board["agents"].append(row)
    row.update(
        state=str(event.get("state", row["state"])),
        reason=event.get("reason") or None,
        since=event.get("since") or row["since"],
    )
    counts = Counter(r["state"] for r in board["agents"])
    board["total"]["agents_by_state"] = {s: counts.get(s, 0) for s in AGENT_STATES}
    return board
