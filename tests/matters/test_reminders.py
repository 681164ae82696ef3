"""Late units on SQLite and PostgreSQL with a fixed clock: the deadline counted in business days
(Europe/Warsaw, weekends and Polish holidays skipped — 11 November, 24–26 December), a reminder
the first business day after it, an escalation `escalate_after` business days later, each once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from agentdesk.tickets.deadlines import ESCALATED, REMINDED, late_parts
from agentdesk.tickets.matters import UNIT_INBOX, UnitAction
from agentdesk.tickets.reminders import Reminders, RoundResult
from agentdesk.tickets.units import BY_ACCOUNT, CityUnits, UnitDeadline
from kck.business_days import BusinessCalendar
from kck.clock import ManualClock
from kck.db import session_factory
from matters.links import UnitGrant
from matters.models import MatterEvent, OutboxMessage
from tests.matters.world import MAIL, SIGNER, UNITS, WARSAW, matter_service, new_matter

CALENDAR = BusinessCalendar(WARSAW)
ZZM = UNITS.get("ZZM")
assert ZZM is not None
# ZZM answers in 3 business days (2 for greenery) and is escalated 2 business days after that
FAST = UnitDeadline(3, (("greenery", 2),), 2, ("nadzor@krakow.example",))
QUICK_UNITS = CityUnits(tuple(replace(u, deadline=FAST) if u is ZZM else u for u in UNITS.units))


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=WARSAW).astimezone(UTC)


async def forwarded_matter(engine: AsyncEngine, clock: ManualClock, category: str) -> str:
    number = await new_matter(engine, clock, units=["ZZM"], category=category)
    await matter_service(engine, clock).forward(number, "agent:anowak")
    return number


def reminders(engine: AsyncEngine, clock: ManualClock) -> Reminders:
    return Reminders(session_factory(engine), QUICK_UNITS, SIGNER, MAIL, clock, CALENDAR)


async def late_mail(engine: AsyncEngine) -> list[OutboxMessage]:
    async with session_factory(engine)() as db:
        query = select(OutboxMessage).where(~OutboxMessage.key.startswith("unit:"))
        return list(await db.scalars(query.order_by(OutboxMessage.id)))


async def audit(engine: AsyncEngine) -> list[tuple[str, str | None]]:
    async with session_factory(engine)() as db:
        rows = await db.execute(
            select(MatterEvent.action, MatterEvent.detail)
            .where(MatterEvent.action.in_([REMINDED, ESCALATED]))
            .order_by(MatterEvent.id)
        )
        return [(action, detail) for action, detail in rows]


async def test_a_late_unit_is_reminded_after_a_holiday_and_a_weekend_then_escalated(
    engine: AsyncEngine,
) -> None:
    # forwarded Monday 9 November 2026; 3 business days: Tue 10, (Wed 11 is Independence Day),
    # Thu 12, Fri 13 — the deadline day; the weekend; late from Monday 16
    clock = ManualClock(at(date(2026, 11, 9), 10))
    number = await forwarded_matter(engine, clock, "other")
    job = reminders(engine, clock)
    for quiet in (at(date(2026, 11, 13), 23), at(date(2026, 11, 15), 12)):
        clock.advance((quiet - clock.now()).total_seconds())
        assert await late_parts(session_factory(engine), QUICK_UNITS, CALENDAR, clock.now()) == []
        assert (await job.run()).reminded == 0

    clock.advance((at(date(2026, 11, 16), 6) - clock.now()).total_seconds())
    [late] = await late_parts(session_factory(engine), QUICK_UNITS, CALENDAR, clock.now())
    assert (late.number, late.unit_code, late.deadline_day, late.days_late) == (
        number,
        "ZZM",
        date(2026, 11, 13),
        1,
    )
    assert (await job.run()).reminded == 1
    assert (await job.run()).reminded == 0  # once
    [reminder] = await late_mail(engine)
    assert reminder.recipient == "kck-zzm@krakow.example"
    assert reminder.subject == (
        f"[{number}] Przypomnienie: sprawa {number} czeka na odpowiedź / "
        f"Reminder: matter {number} awaits your answer"
    )
    assert "minął 2026-11-13; dziś to 1 dni roboczych po terminie" in reminder.body
    assert "http://kck.test/unit/matter/" in reminder.body
    assert reminder.key.startswith(f"remind:{number}:ZZM:kck-zzm@krakow.example:")
    assert reminder.key.endswith(":1")

    clock.advance(24 * 3600)  # Tuesday 17: 2 business days late, not yet escalated
    assert await job.run() == RoundResult(0, 0)
    clock.advance(24 * 3600)  # Wednesday 18: 3 = 1 + escalate_after
    result = await job.run()
    assert (result.reminded, result.escalated) == (0, 1)
    assert (await job.run()).escalated == 0
    escalation = (await late_mail(engine))[-1]
    assert escalation.recipient == "nadzor@krakow.example"
    assert f"Eskalacja: Zarząd Zieleni Miejskiej nie odpowiada na sprawę {number}" in (
        escalation.subject
    )
    assert [a for a, _ in await audit(engine)] == [REMINDED, ESCALATED]
    [late] = await late_parts(session_factory(engine), QUICK_UNITS, CALENDAR, clock.now())
    assert (late.days_late, late.reminders, late.escalated) == (3, 1, True)

    # the unit answers: no longer late
    grant = UnitGrant(number, "ZZM", clock.now())
    await matter_service(engine, clock).unit_act(grant, UnitAction.ANSWER, "Zrobione.")
    assert await late_parts(session_factory(engine), QUICK_UNITS, CALENDAR, clock.now()) == []


async def test_christmas_eve_counts_as_a_holiday_and_a_late_round_does_both_steps_once(
    engine: AsyncEngine,
) -> None:
    # forwarded Monday 21 December 2026, greenery: 2 business days, Tue 22 and Wed 23; then
    # 24 (Christmas Eve, a holiday since 2025), 25, 26 and the weekend: late from Monday 28
    clock = ManualClock(at(date(2026, 12, 21)))
    number = await forwarded_matter(engine, clock, "greenery")
    job = reminders(engine, clock)
    clock.advance((at(date(2026, 12, 27), 20) - clock.now()).total_seconds())
    assert (await job.run()).reminded == 0
    # nobody ran a round until Thursday 31: 4 business days late, past the escalation too
    clock.advance((at(date(2026, 12, 31)) - clock.now()).total_seconds())
    results = await asyncio.gather(job.run(), reminders(engine, clock).run())
    assert sum(r.reminded for r in results) == 1
    assert sum(r.escalated for r in results) == 1
    assert [m.recipient for m in await late_mail(engine)] == [
        "kck-zzm@krakow.example",
        "nadzor@krakow.example",
    ]
    details = [detail for _, detail in await audit(engine)]
    assert details == ["4 business day(s) past the deadline 2026-12-23"] * 2
    [late] = await late_parts(session_factory(engine), QUICK_UNITS, CALENDAR, clock.now())
    assert (late.number, late.days_late, late.escalated) == (number, 4, True)


async def test_a_unit_working_by_account_is_reminded_with_its_inbox_and_no_key(
    engine: AsyncEngine,
) -> None:
    """Its officers sign in: the reminder points to the inbox, like the notice of the matter."""
    clock = ManualClock(at(date(2026, 11, 9), 10))
    await forwarded_matter(engine, clock, "other")
    by_account = CityUnits(
        tuple(replace(u, works_by=BY_ACCOUNT) if u.code == "ZZM" else u for u in QUICK_UNITS.units)
    )
    job = Reminders(session_factory(engine), by_account, SIGNER, MAIL, clock, CALENDAR)
    clock.advance((at(date(2026, 11, 16), 6) - clock.now()).total_seconds())
    assert (await job.run()).reminded == 1
    [reminder] = await late_mail(engine)
    assert f"{MAIL.public_url}{UNIT_INBOX}" in reminder.body
    assert "/unit/matter/" not in reminder.body
