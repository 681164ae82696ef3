"""A simulated two-day stretch (with the autumn DST change) replayed into the database: the report
must equal a count made independently from the generator's ground truth."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from agentdesk.reports.metrics import CountingRules, ServiceLevelTarget
from agentdesk.reports.report import make_report
from kck.db import Call, session_factory
from tests.board.simulated_day import WARSAW, SimCall, generate, store

DAYS = [date(2026, 10, 24), date(2026, 10, 25)]  # the 25th has 25 hours in Warsaw
RULES = CountingRules(default_target=ServiceLevelTarget(80, 20), short_abandon_s=5)


def truth(calls: list[SimCall]) -> dict[str, float | int]:
    """What a supervisor would count by hand from the generator's own account of each call."""
    queued = [c for c in calls if c.queue is not None]
    answered = [c for c in queued if c.fate == "answered"]
    abandoned = [c for c in queued if c.fate == "abandoned"]
    short = [c for c in abandoned if c.wait_s < 5]
    decided = len(answered) + len(abandoned) - len(short)
    return {
        "offered": len(queued),
        "answered": len(answered),
        "abandoned": len(abandoned),
        "short": len(short),
        "sl": 100 * sum(1 for c in answered if c.wait_s <= 20) / decided,
        "asa": sum(c.wait_s for c in answered) / len(answered),
        "aht": sum(c.talk_s + c.wrap_s for c in answered) / len(answered),
        "abandon_rate": 100 * (len(abandoned) - len(short)) / (len(queued) - len(short)),
        "fcr": 100 * sum(1 for c in answered if c.wrapup == "resolved_first_line") / len(answered),
    }


def counted_at(call: SimCall) -> datetime:
    """Calls are filed under the moment they entered the queue (the router's rule)."""
    return call.queued_at or call.arrived_at


def local_hour_label(call: SimCall) -> str:
    local = counted_at(call).astimezone(WARSAW)
    return f"{local:%Y-%m-%d %H}:00 {local.tzname()}"


@pytest.fixture
async def replayed(engine: AsyncEngine) -> list[SimCall]:
    calls = generate(DAYS, calls_per_day=200)
    await store(session_factory(engine), calls)
    return calls


async def test_report_of_a_simulated_day_equals_an_independent_count(
    engine: AsyncEngine, replayed: list[SimCall]
) -> None:
    report = await make_report(engine, session_factory(engine), DAYS[0], DAYS[1], WARSAW, RULES)

    expected = truth(replayed)
    total = report.total
    assert (total.offered, total.answered, total.abandoned, total.short_abandoned) == (
        expected["offered"],
        expected["answered"],
        expected["abandoned"],
        expected["short"],
    )
    assert total.service_level_pct == pytest.approx(expected["sl"], abs=1e-6)
    assert total.asa_s == pytest.approx(expected["asa"], abs=1e-3)
    assert total.aht_s == pytest.approx(expected["aht"], abs=1e-3)
    assert total.abandon_rate_pct == pytest.approx(expected["abandon_rate"], abs=1e-6)
    assert total.fcr_pct == pytest.approx(expected["fcr"], abs=1e-6)

    for row, day in zip(report.daily, DAYS, strict=True):
        own = [c for c in replayed if counted_at(c).astimezone(WARSAW).date() == day]
        day_truth = truth(own)
        assert row.summary.offered == day_truth["offered"]
        assert row.summary.answered == day_truth["answered"]
        assert row.summary.service_level_pct == pytest.approx(day_truth["sl"], abs=1e-6)
        assert row.summary.aht_s == pytest.approx(day_truth["aht"], abs=1e-3)


async def test_hourly_rows_follow_warsaw_clock_hours_across_the_dst_change(
    engine: AsyncEngine, replayed: list[SimCall]
) -> None:
    report = await make_report(engine, session_factory(engine), DAYS[0], DAYS[1], WARSAW, RULES)

    assert len(report.hourly) == 24 + 25
    labels = [row.period.label for row in report.hourly]
    assert "2026-10-25 02:00 CEST" in labels and "2026-10-25 02:00 CET" in labels
    offered_by_hour: Counter[str] = Counter(local_hour_label(c) for c in replayed if c.queue)
    answered_by_hour: Counter[str] = Counter(
        local_hour_label(c) for c in replayed if c.fate == "answered"
    )
    for row in report.hourly:
        assert row.summary.offered == offered_by_hour.get(row.period.label, 0), row.period.label
        assert row.summary.answered == answered_by_hour.get(row.period.label, 0), row.period.label


async def test_calls_per_ivr_branch_count_every_call_including_self_service(
    engine: AsyncEngine, replayed: list[SimCall]
) -> None:
    report = await make_report(engine, session_factory(engine), DAYS[0], DAYS[1], WARSAW, RULES)

    assert dict(report.ivr_branches) == dict(Counter(c.branch for c in replayed))
    assert sum(n for _, n in report.ivr_branches) == len(replayed)


async def test_daily_counts_equal_a_plain_sql_count_of_the_calls_table(
    engine: AsyncEngine, replayed: list[SimCall]
) -> None:
    report = await make_report(engine, session_factory(engine), DAYS[0], DAYS[1], WARSAW, RULES)

    async with session_factory(engine)() as session:
        rows = (
            await session.execute(
                select(Call.queued_at, Call.outcome).where(Call.queued_at.is_not(None))
            )
        ).all()
        in_table = await session.scalar(select(func.count()).select_from(Call))
    assert in_table == len(replayed)
    by_day: dict[date, Counter[str]] = defaultdict(Counter)
    for queued_at, outcome in rows:
        assert queued_at is not None  # selected where not null
        by_day[queued_at.astimezone(WARSAW).date()][outcome] += 1
    for row, day in zip(report.daily, DAYS, strict=True):
        assert row.summary.offered == sum(by_day[day].values())
        assert row.summary.answered == by_day[day]["answered"]
        assert row.summary.abandoned == by_day[day]["abandoned"]


async def test_queue_filter_counts_only_that_queue(
    engine: AsyncEngine, replayed: list[SimCall]
) -> None:
    report = await make_report(
        engine, session_factory(engine), DAYS[0], DAYS[1], WARSAW, RULES, queue="vehicles"
    )

    own = [c for c in replayed if c.queue == "vehicles"]
    assert report.total.offered == len(own)
    assert report.total.answered == sum(1 for c in own if c.fate == "answered")


async def test_tickets_are_counted_per_category_and_per_unit(engine: AsyncEngine) -> None:
    from agentdesk.tickets.models import Ticket, TicketUnit

    async with session_factory(engine).begin() as session:
        for n, (category, units) in enumerate(
            [("greenery", ["ZZM"]), ("greenery", ["ZZM", "ZDMK"]), ("waste", ["MPO"])]
        ):
            ticket = Ticket(
                number=f"KCK/2026/{n + 1}",
                category=category,
                description="opis",
                created_at=datetime(2026, 10, 24, 9 + n, tzinfo=UTC),
                units=[TicketUnit(unit_code=u) for u in units],
            )
            session.add(ticket)
        session.add(
            Ticket(
                number="KCK/2026/99",
                category="roads_pavements",
                description="poza zakresem dat",
                created_at=datetime(2026, 10, 26, 12, tzinfo=UTC),
            )
        )
    report = await make_report(engine, session_factory(engine), DAYS[0], DAYS[1], WARSAW, RULES)

    assert report.tickets.available
    assert dict(report.tickets.by_category) == {"greenery": 2, "waste": 1}
    assert dict(report.tickets.by_unit) == {"ZZM": 2, "ZDMK": 1, "MPO": 1}
