"""Business hours in Europe/Warsaw: weekly schedule, Polish public holidays, exceptions, DST."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ivr.hours import opening_state
from ivr.model import Calendar
from tests.ivr.support import local

OFFICE = Calendar.model_validate(
    {
        "weekly": {day: ["08:00-16:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
        "exceptions": [{"date": "2026-12-31", "hours": ["08:00-12:00"], "note": "Sylwester"}],
    }
)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        ("2026-11-24 08:00", True),  # Tuesday, opening minute
        ("2026-11-24 15:59", True),
        ("2026-11-24 16:00", False),  # closing time is closed
        ("2026-11-24 07:59", False),
        ("2026-11-28 10:00", False),  # Saturday
    ],
)
def test_weekly_schedule(moment: str, is_open: bool) -> None:
    assert opening_state(OFFICE, local(moment)).open is is_open


@pytest.mark.parametrize(
    "day", ["2026-12-24", "2026-12-25", "2026-11-11", "2026-01-06", "2026-06-04"]
)
def test_polish_public_holidays_on_weekdays_are_closed(day: str) -> None:
    state = opening_state(OFFICE, local(f"{day} 10:00"))
    assert not state.open and state.reason.startswith("public holiday")


def test_christmas_eve_2026_is_a_holiday_by_law() -> None:
    assert "Christmas Eve" in opening_state(OFFICE, local("2026-12-24 10:00")).reason


def test_exception_shortens_a_day() -> None:
    assert opening_state(OFFICE, local("2026-12-31 11:59")).open
    late = opening_state(OFFICE, local("2026-12-31 12:30"))
    assert not late.open and "Sylwester" in late.reason


def test_calendar_without_public_holidays_opens_on_a_holiday() -> None:
    always = OFFICE.model_copy(update={"public_holidays": None})
    assert opening_state(always, local("2026-11-11 10:00")).open


def test_dst_spring_forward_keeps_wall_clock_hours() -> None:
    # 2026-03-29: clocks jump 02:00 → 03:00 CET→CEST; the Monday after still opens at 08:00 local.
    assert not opening_state(OFFICE, datetime(2026, 3, 30, 5, 59, tzinfo=UTC)).open  # 07:59 CEST
    assert opening_state(OFFICE, datetime(2026, 3, 30, 6, 0, tzinfo=UTC)).open  # 08:00 CEST
    # the Friday before, 08:00 local is 07:00 UTC (CET)
    assert not opening_state(OFFICE, datetime(2026, 3, 27, 6, 30, tzinfo=UTC)).open
    assert opening_state(OFFICE, datetime(2026, 3, 27, 7, 0, tzinfo=UTC)).open


def test_dst_autumn_back_keeps_wall_clock_hours() -> None:
    # 2026-10-25: clocks go back 03:00 → 02:00; Monday 26th opens at 08:00 CET = 07:00 UTC.
    assert not opening_state(OFFICE, datetime(2026, 10, 26, 6, 59, tzinfo=UTC)).open
    assert opening_state(OFFICE, datetime(2026, 10, 26, 7, 0, tzinfo=UTC)).open
    assert opening_state(OFFICE, datetime(2026, 10, 23, 6, 0, tzinfo=UTC)).open  # 08:00 CEST


def test_night_shift_until_midnight() -> None:
    late = Calendar.model_validate({"weekly": {"fri": ["20:00-00:00"]}, "public_holidays": None})
    assert opening_state(late, local("2026-11-27 23:59")).open
    assert not opening_state(late, local("2026-11-28 00:00")).open


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        opening_state(OFFICE, datetime(2026, 11, 24, 10, 0))
