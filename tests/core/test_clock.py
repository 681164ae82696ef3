"""The demo's business-day clock lands on a Polish working day, inside office hours."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from kck.clock import business_day_offset

WARSAW = ZoneInfo("Europe/Warsaw")


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WARSAW)


def test_inside_office_hours_the_clock_is_not_moved() -> None:
    assert business_day_offset(local(2026, 11, 24, 11, 0), WARSAW).total_seconds() == 0


def test_evening_moves_to_ten_next_morning() -> None:
    now = local(2026, 11, 24, 18, 30)
    moved = (now + business_day_offset(now, WARSAW)).astimezone(WARSAW)
    assert (moved.date().isoformat(), moved.hour) == ("2026-11-25", 10)


def test_friday_evening_skips_the_weekend_and_a_holiday() -> None:
    now = local(2026, 11, 6, 19, 0)  # Friday; Monday 9th is a working day
    assert (now + business_day_offset(now, WARSAW)).astimezone(
        WARSAW
    ).date().isoformat() == "2026-11-09"
    eve = local(2026, 11, 10, 17, 0)  # 11 November is Independence Day
    assert (eve + business_day_offset(eve, WARSAW)).astimezone(
        WARSAW
    ).date().isoformat() == "2026-11-12"


def test_christmas_lands_after_the_holidays() -> None:
    now = local(2026, 12, 23, 20, 0)  # 24, 25, 26 December are public holidays in Poland
    moved = (now + business_day_offset(now, WARSAW)).astimezone(WARSAW)
    assert moved.date().isoformat() == "2026-12-28" and moved.tzinfo is not None
    assert moved.astimezone(UTC).hour == 9  # 10:00 in Warsaw winter time
