"""A report over a range of local days: per-day and per-hour rows, IVR branches, tickets, waits."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from agentdesk.reports.metrics import (
    CallFacts,
    CallSummary,
    CountingRules,
    summarize,
    wait_bin_labels,
    wait_distribution,
)
from agentdesk.reports.periods import Period, day_start, days, hours, locate
from agentdesk.reports.records import TicketCounts, load_calls, load_ticket_counts

Cell = str | int | float | None


class CodeKind:
    """What kind of code a column holds (`ReportTable.kinds`); None = a number or a plain label."""

    PERIOD = "period"  # a day or an hour label, or "total"
    IVR_BRANCH = "ivr_branch"
    CATEGORY = "category"
    UNIT = "unit"


TOTAL = "total"


@dataclass(frozen=True)
class PeriodRow:
    period: Period
    summary: CallSummary


@dataclass(frozen=True)
class ReportTable:
    """One table of the report as shown and as exported to CSV (same rows, same order).

    `headers`: the machine column names (the CSV's header row; the page shows them in words,
    `agentdesk.reports.names`); `kinds`: per column, the kind of code it holds (None: numbers)."""

    name: str
    headers: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    kinds: tuple[str | None, ...] = ()
    tickets_missing: bool = False

    def kind(self, column: int) -> str | None:
        return self.kinds[column] if column < len(self.kinds) else None


@dataclass(frozen=True)
class Report:
    first: date
    last: date
    queue: str | None
    timezone: str
    total: CallSummary
    daily: list[PeriodRow]
    hourly: list[PeriodRow]
    ivr_branches: list[tuple[str, int]]
    waits: dict[str, list[int]]
    tickets: TicketCounts = field(default_factory=lambda: TicketCounts(available=False))

    def tables(self) -> list[ReportTable]:
        """Every table, in page order; CSV export offers each by `name`."""
        metric_headers = (
            "offered",
            "answered",
            "abandoned",
            "short_abandoned",
            "service_level_pct",
            "target_pct",
            "asa_s",
            "aht_s",
            "abandon_rate_pct",
            "fcr_pct",
        )
        labels = wait_bin_labels()
        no_tickets = not self.tickets.available
        return [
            ReportTable(
                "daily",
                ("day", *metric_headers),
                [(row.period.label, *_metric_cells(row.summary)) for row in self.daily]
                + [(TOTAL, *_metric_cells(self.total))],
                (CodeKind.PERIOD,),
            ),
            ReportTable(
                "hourly",
                ("hour", *metric_headers),
                [(row.period.label, *_metric_cells(row.summary)) for row in self.hourly],
            ),
            ReportTable(
                "ivr",
                ("ivr_branch", "calls"),
                [(branch, count) for branch, count in self.ivr_branches],
                (CodeKind.IVR_BRANCH,),
            ),
            ReportTable(
                "waits",
                ("wait", "answered", "abandoned"),
                [
                    (label, self.waits["answered"][i], self.waits["abandoned"][i])
                    for i, label in enumerate(labels)
                ],
            ),
            ReportTable(
                "ticket_categories",
                ("category", "tickets"),
                [(c, n) for c, n in self.tickets.by_category],
                (CodeKind.CATEGORY,),
                no_tickets,
            ),
            ReportTable(
                "ticket_units",
                ("unit", "tickets"),
                [(u, n) for u, n in self.tickets.by_unit],
                (CodeKind.UNIT,),
                no_tickets,
            ),
        ]

    def table(self, name: str) -> ReportTable | None:
        return next((t for t in self.tables() if t.name == name), None)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _metric_cells(summary: CallSummary) -> tuple[Cell, ...]:
    return (
        summary.offered,
        summary.answered,
        summary.abandoned,
        summary.short_abandoned,
        _round(summary.service_level_pct),
        summary.target.target_pct,
        _round(summary.asa_s),
        _round(summary.aht_s),
        _round(summary.abandon_rate_pct),
        _round(summary.fcr_pct),
    )


def _grouped(calls: Sequence[CallFacts], periods: list[Period]) -> list[list[CallFacts]]:
    groups: list[list[CallFacts]] = [[] for _ in periods]
    for call in calls:
        index = locate(call.counted_at, periods)
        if index is not None:
            groups[index].append(call)
    return groups


def build_report(
    calls: Sequence[CallFacts],
    first: date,
    last: date,
    tz: ZoneInfo,
    rules: CountingRules,
    *,
    queue: str | None = None,
    tickets: TicketCounts | None = None,
) -> Report:
    """Count `calls` (each belongs to the local day and hour it entered a queue, or arrived in
    if it never did) — pure."""
    day_periods = days(first, last, tz)
    hour_periods = hours(first, last, tz)
    in_range = [c for c in calls if locate(c.counted_at, day_periods) is not None]
    if queue:
        in_range = [c for c in in_range if c.queue == queue]
    target = rules.target_for(queue)
    daily = [
        PeriodRow(p, summarize(group, rules, target))
        for p, group in zip(day_periods, _grouped(in_range, day_periods), strict=True)
    ]
    hourly = [
        PeriodRow(p, summarize(group, rules, target))
        for p, group in zip(hour_periods, _grouped(in_range, hour_periods), strict=True)
    ]
    branches = Counter(c.ivr_branch or "" for c in in_range)
    return Report(
        first=first,
        last=last,
        queue=queue,
        timezone=str(tz),
        total=summarize(in_range, rules, target),
        daily=daily,
        hourly=hourly,
        ivr_branches=sorted(branches.items(), key=lambda item: (-item[1], item[0])),
        waits=wait_distribution(in_range),
        tickets=tickets or TicketCounts(available=False),
    )


async def make_report(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    first: date,
    last: date,
    tz: ZoneInfo,
    rules: CountingRules,
    *,
    queue: str | None = None,
) -> Report:
    """Read the range from the database and count it."""
    start: datetime = day_start(first, tz)
    end: datetime = days(last, last, tz)[0].end
    calls = await load_calls(sessions, start, end, queue=queue)
    tickets = await load_ticket_counts(engine, start, end)
    return build_report(calls, first, last, tz, rules, queue=queue, tickets=tickets)
