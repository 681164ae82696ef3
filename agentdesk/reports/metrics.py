"""Contact-centre metric definitions (pure): the one place the board and the reports count from.

Every number on the wall board and in the reports is computed here from plain values
(`CallFacts`, `StateInterval`), so the two can never disagree. Definitions, in words, are in
docs/supervisor.md ("Definitions"); the functions below are the normative version.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from queues.stats import COUNTERS as COUNTER_NAMES
from queues.stats import derive

# The wrap-up outcome the desk records for a call closed at the first line (desk's WrapUpOutcome).
RESOLVED_FIRST_LINE = "resolved_first_line"
ABANDONED = "abandoned"

# Agent states that count as working a call, and as being at the agent's disposal.
BUSY_STATES = frozenset({"offered", "on_call", "wrap_up"})
STAFFED_STATES = BUSY_STATES | {"available"}

# Upper bounds (seconds) of the waiting-time distribution; the last bin is open-ended.
WAIT_BINS_S: tuple[int, ...] = (10, 20, 30, 60, 120, 300)


@dataclass(frozen=True)
class CallFacts:
    """What the metrics need to know about one call (a row of `calls`, plus its wrap-up time)."""

    call_id: str
    arrived_at: datetime
    queue: str | None = None
    queued_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: str = "in_progress"
    wrapup_outcome: str | None = None
    ivr_branch: str | None = None
    wrap_up_s: float = 0.0

    @property
    def counted_at(self) -> datetime:
        """The moment that files the call under a day and hour: entry to the queue (as the
        router's counters do), else arrival (calls that never reached a queue)."""
        return self.queued_at or self.arrived_at


@dataclass(frozen=True)
class ServiceLevelTarget:
    """`target_pct` % of calls answered within `within_s` seconds of queueing."""

    target_pct: float = 80.0
    within_s: float = 20.0


@dataclass(frozen=True)
class CountingRules:
    """The knobs of the definitions: per-queue service-level targets and the short-abandon limit."""

    default_target: ServiceLevelTarget = ServiceLevelTarget()
    targets: tuple[tuple[str, ServiceLevelTarget], ...] = ()
    short_abandon_s: float = 5.0

    def target_for(self, queue: str | None) -> ServiceLevelTarget:
        for name, target in self.targets:
            if name == queue:
                return target
        return self.default_target


# --- one call -------------------------------------------------------------------------------


def is_offered(call: CallFacts) -> bool:
    """Offered: the call reached a queue (IVR-only calls are not offered to agents)."""
    return call.queued_at is not None


def is_answered(call: CallFacts) -> bool:
    """Answered: an agent picked it up."""
    return call.queued_at is not None and call.answered_at is not None


def is_waiting(call: CallFacts) -> bool:
    """Waiting: queued, not answered, not ended."""
    return call.queued_at is not None and call.answered_at is None and call.ended_at is None


def is_abandoned(call: CallFacts) -> bool:
    """Abandoned: queued and the caller hung up before any agent answered."""
    return is_offered(call) and call.answered_at is None and call.outcome == ABANDONED


def wait_s(call: CallFacts, now: datetime | None = None) -> float | None:
    """Seconds in the queue: to the answer, to the end, or (still waiting) to `now`."""
    if call.queued_at is None:
        return None
    end = call.answered_at or call.ended_at or now
    if end is None:
        return None
    return max(0.0, (end - call.queued_at).total_seconds())


def is_handled(call: CallFacts) -> bool:
    """Handled: answered and the conversation has ended (FCR and AHT count these)."""
    return is_answered(call) and call.ended_at is not None


def wait_bin(seconds: float) -> int:
    """Index into `WAIT_BINS_S` (len(WAIT_BINS_S) = the open last bin)."""
    for index, upper in enumerate(WAIT_BINS_S):
        if seconds < upper:
            return index
    return len(WAIT_BINS_S)


def wait_bin_labels() -> list[str]:
    labels = []
    lower = 0
    for upper in WAIT_BINS_S:
        labels.append(f"{lower}–{upper} s")
        lower = upper
    labels.append(f"≥ {lower} s")
    return labels


# --- a set of calls ---------------------------------------------------------------------------


def percent(part: float, whole: float) -> float | None:
    """`part` of `whole` in %, None when there is nothing to divide (shown as "—", not 0 %)."""
    return None if whole <= 0 else 100.0 * part / whole


def mean(values: Sequence[float]) -> float | None:
    return None if not values else sum(values) / len(values)


@dataclass(frozen=True)
class CallSummary:
    """The call metrics of one set of calls (a queue, a day, an hour, the whole centre)."""

    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    waiting: int
    answered_within_target: int
    handled: int
    resolved_first_line: int
    service_level_pct: float | None
    asa_s: float | None
    aht_s: float | None
    abandon_rate_pct: float | None
    fcr_pct: float | None
    longest_wait_s: float | None
    oldest_waiting_since: datetime | None
    target: ServiceLevelTarget

    @property
    def below_target(self) -> bool:
        return (
            self.service_level_pct is not None and self.service_level_pct < self.target.target_pct
        )

    def as_json(self) -> dict[str, object]:
        return {
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "short_abandoned": self.short_abandoned,
            "waiting": self.waiting,
            "handled": self.handled,
            "service_level_pct": self.service_level_pct,
            "asa_s": self.asa_s,
            "aht_s": self.aht_s,
            "abandon_rate_pct": self.abandon_rate_pct,
            "fcr_pct": self.fcr_pct,
            "longest_wait_s": self.longest_wait_s,
            "oldest_waiting_since": (
                self.oldest_waiting_since.isoformat() if self.oldest_waiting_since else None
            ),
            "target_pct": self.target.target_pct,
            "target_within_s": self.target.within_s,
            "below_target": self.below_target,
        }


def _pct(ratio: float | None) -> float | None:
    return None if ratio is None else 100.0 * ratio


def summary_from_counters(
    counters: Mapping[str, float],
    target: ServiceLevelTarget,
    *,
    waiting: int = 0,
    oldest_waiting_since: datetime | None = None,
    longest_wait_s: float | None = None,
    resolved_first_line: int = 0,
) -> CallSummary:
    """The ratios of a period's counters, by the router's own arithmetic (`queues.stats.derive`).

    Service level here is the router's `service_level_with_abandons`: answered within the
    target / (answered + abandoned − short abandons); calls still waiting and calls sent to
    voicemail or a callback are not in it.
    """
    counts = {k: int(v) for k, v in counters.items()}
    ratios = derive(counts)
    handled = counts.get("handled", 0)
    return CallSummary(
        offered=counts.get("entered", 0),
        answered=counts.get("answered", 0),
        abandoned=counts.get("abandoned", 0),
        short_abandoned=counts.get("abandoned_short", 0),
        waiting=waiting,
        answered_within_target=counts.get("answered_in_sl", 0),
        handled=handled,
        resolved_first_line=resolved_first_line,
        service_level_pct=_pct(ratios["service_level_with_abandons"]),
        asa_s=ratios["asa_s"],
        aht_s=ratios["aht_s"],
        abandon_rate_pct=_pct(ratios["abandon_rate"]),
        fcr_pct=percent(resolved_first_line, handled),
        longest_wait_s=longest_wait_s,
        oldest_waiting_since=oldest_waiting_since,
        target=target,
    )


def call_counters(
    calls: Iterable[CallFacts], rules: CountingRules, target: ServiceLevelTarget
) -> tuple[dict[str, int], list[CallFacts]]:
    """The router's counters (same names, same rules as its Lua script) for calls from SQL,
    and the calls still waiting."""
    counters = dict.fromkeys(COUNTER_NAMES, 0)
    waiting: list[CallFacts] = []
    for call in calls:
        if not is_offered(call):
            continue
        counters["entered"] += 1
        if is_waiting(call):
            waiting.append(call)
            continue
        waited = wait_s(call) or 0.0
        if is_answered(call):
            counters["answered"] += 1
            counters["wait_answered_ms"] += round(waited * 1000)
            if waited <= target.within_s:
                counters["answered_in_sl"] += 1
        elif is_abandoned(call):
            counters["abandoned"] += 1
            counters["wait_abandoned_ms"] += round(waited * 1000)
            if waited < rules.short_abandon_s:
                counters["abandoned_short"] += 1
            if waited <= target.within_s:
                counters["abandoned_in_sl"] += 1
        if is_handled(call) and call.answered_at is not None and call.ended_at is not None:
            counters["handled"] += 1
            counters["talk_ms"] += round((call.ended_at - call.answered_at).total_seconds() * 1000)
            counters["wrap_ms"] += round(call.wrap_up_s * 1000)
    return counters, waiting


def summarize(
    calls: Iterable[CallFacts],
    rules: CountingRules,
    target: ServiceLevelTarget | None = None,
    now: datetime | None = None,
) -> CallSummary:
    """Count one set of calls: the router's counters, its ratios, plus first-contact resolution.

    ASA = mean wait of answered calls. AHT = (talk + wrap-up) / handled calls. Abandon rate =
    (abandoned − short) / (offered − short). FCR = handled calls marked resolved at the first
    line / handled calls.
    """
    target = target or rules.default_target
    calls = list(calls)
    counters, waiting = call_counters(calls, rules, target)
    resolved = sum(1 for c in calls if is_handled(c) and c.wrapup_outcome == RESOLVED_FIRST_LINE)
    oldest = min((c.queued_at for c in waiting if c.queued_at is not None), default=None)
    longest = (now - oldest).total_seconds() if oldest is not None and now is not None else None
    return summary_from_counters(
        counters,
        target,
        waiting=len(waiting),
        oldest_waiting_since=oldest,
        longest_wait_s=max(0.0, longest) if longest is not None else None,
        resolved_first_line=resolved,
    )


def wait_distribution(calls: Iterable[CallFacts]) -> dict[str, list[int]]:
    """Counts per waiting-time bin, separately for answered and abandoned calls."""
    answered = [0] * (len(WAIT_BINS_S) + 1)
    abandoned = [0] * (len(WAIT_BINS_S) + 1)
    for call in calls:
        waited = wait_s(call)
        if waited is None:
            continue
        if is_answered(call):
            answered[wait_bin(waited)] += 1
        elif is_abandoned(call):
            abandoned[wait_bin(waited)] += 1
    return {"answered": answered, "abandoned": abandoned}


# --- agents -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateRecord:
    """One row of `agent_state_log`: from `at` the agent was in `state` (until their next row)."""

    agent: str
    state: str
    at: datetime
    reason: str | None = None
    call_id: str | None = None


@dataclass(frozen=True)
class StateInterval:
    agent: str
    state: str
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return max(0.0, (self.end - self.start).total_seconds())


def state_intervals(
    records: Iterable[StateRecord], window_start: datetime, window_end: datetime
) -> list[StateInterval]:
    """Turn state-log rows into intervals clipped to the window (the last state runs to its end).

    Rows before the window matter: an agent who logged in at 07:50 is available from 08:00.
    """
    by_agent: dict[str, list[StateRecord]] = {}
    for record in records:
        by_agent.setdefault(record.agent, []).append(record)
    intervals: list[StateInterval] = []
    for agent, rows in by_agent.items():
        rows.sort(key=lambda r: r.at)
        for index, row in enumerate(rows):
            end = rows[index + 1].at if index + 1 < len(rows) else window_end
            start = max(row.at, window_start)
            end = min(end, window_end)
            if end > start:
                intervals.append(StateInterval(agent, row.state, start, end))
    return intervals


def occupancy_pct(intervals: Iterable[StateInterval]) -> float | None:
    """Occupancy = time working calls (offered, on call, wrap-up) / time staffed (those + available).

    Paused and logged-out time is neither.
    """
    busy = staffed = 0.0
    for interval in intervals:
        if interval.state in BUSY_STATES:
            busy += interval.seconds
        if interval.state in STAFFED_STATES:
            staffed += interval.seconds
    return percent(busy, staffed)


def wrap_up_seconds(records: Sequence[StateRecord]) -> dict[str, float]:
    """Wrap-up time per call id: each `wrap_up` row carrying a call id lasts until that agent's next row."""
    by_agent: dict[str, list[StateRecord]] = {}
    for record in records:
        by_agent.setdefault(record.agent, []).append(record)
    totals: dict[str, float] = {}
    for rows in by_agent.values():
        rows.sort(key=lambda r: r.at)
        for index, row in enumerate(rows):
            if row.state != "wrap_up" or row.call_id is None or index + 1 >= len(rows):
                continue
            seconds = max(0.0, (rows[index + 1].at - row.at).total_seconds())
            totals[row.call_id] = totals.get(row.call_id, 0.0) + seconds
    return totals
