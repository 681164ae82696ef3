"""Business days in Europe/Warsaw: weekends and Polish public holidays are skipped (11 November,
and 24 December, a holiday since 2025)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from kck.business_days import BusinessCalendar, public_holiday

CALENDAR = BusinessCalendar()


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (date(2026, 11, 9), 3, date(2026, 11, 13)),  # Mon + 3: Tue, (Wed 11 Nov), Thu, Fri
        (date(2026, 11, 13), 1, date(2026, 11, 16)),  # Fri + 1: the weekend skipped
        (date(2026, 12, 21), 3, date(2026, 12, 28)),  # Mon + 3: Tue, Wed, (24–27 Dec), Mon
        (date(2024, 12, 23), 1, date(2024, 12, 24)),  # before 2025 Christmas Eve was a workday
        (date(2026, 12, 31), 1, date(2027, 1, 4)),  # New Year's Day, then the weekend
        (date(2026, 11, 9), 0, date(2026, 11, 9)),
    ],
)
def test_adding_business_days_skips_weekends_and_polish_holidays(
    start: date, count: int, expected: date
) -> None:
    assert CALENDAR.add_business_days(start, count) == expected


def test_christmas_eve_is_a_holiday_since_2025() -> None:
    assert public_holiday("PL", date(2026, 12, 24)) == "Christmas Eve"
    assert public_holiday("PL", date(2024, 12, 24)) is None
    assert not CALENDAR.is_business_day(date(2026, 11, 11))


def test_business_days_after_a_day_count_only_working_days() -> None:
    assert CALENDAR.business_days_after(date(2026, 12, 23), date(2026, 12, 27)) == 0
    assert CALENDAR.business_days_after(date(2026, 12, 23), date(2026, 12, 28)) == 1
    assert CALENDAR.business_days_after(date(2026, 11, 10), date(2026, 11, 16)) == 3
    assert CALENDAR.business_days_after(date(2026, 11, 16), date(2026, 11, 10)) == 0


def test_the_local_date_is_warsaws() -> None:
    # 23:30 UTC on 10 November is already 11 November in Warsaw
    assert CALENDAR.local_date(datetime(2026, 11, 10, 23, 30, tzinfo=UTC)) == date(2026, 11, 11)
    with pytest.raises(ValueError, match="aware"):
        CALENDAR.local_date(datetime(2026, 11, 10, 23, 30))
