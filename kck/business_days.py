"""Public holidays and business days: the one holiday calendar of kck (the IVR's opening hours
and the units' deadlines both read it), in the installation's time zone.

A business day is a weekday (Monday to Friday) that is not a public holiday of the country
(Poland: `holidays`' calendar, with Christmas Eve a holiday since 2025).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

# A holiday's name is for operators' logs and the desk, in English like the rest of them; without
# a language the holidays package names a holiday in the machine's locale.
HOLIDAY_NAMES_LANGUAGE = "en_US"
WARSAW = ZoneInfo("Europe/Warsaw")


@functools.lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> dict[date, str]:
    days = holidays.country_holidays(country, years=year, language=HOLIDAY_NAMES_LANGUAGE)
    return dict(days.items())


def public_holiday(country: str, day: date) -> str | None:
    """The holiday's name, or None on a working day."""
    return _holidays(country, day.year).get(day)


def supported_country(country: str) -> bool:
    try:
        holidays.country_holidays(country)
    except NotImplementedError:
        return False
    return True


@dataclass(frozen=True)
class BusinessCalendar:
    """Business days in a zone and a country's holidays (Europe/Warsaw and PL by default)."""

    tz: ZoneInfo = WARSAW
    country: str = "PL"

    def local_date(self, moment: datetime) -> date:
        if moment.tzinfo is None:
            raise ValueError("BusinessCalendar needs an aware datetime")
        return moment.astimezone(self.tz).date()

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and public_holiday(self.country, day) is None

    def add_business_days(self, day: date, count: int) -> date:
        """The `count`-th business day after `day` (`day` itself not counted; 0: `day`)."""
        if count < 0:
            raise ValueError(f"add_business_days: {count} is negative")
        while count:
            day += timedelta(days=1)
            if self.is_business_day(day):
                count -= 1
        return day

    def business_days_after(self, day: date, until: date) -> int:
        """How many business days lie after `day` up to and including `until` (0 if none)."""
        count = 0
        while day < until:
            day += timedelta(days=1)
            count += self.is_business_day(day)
        return count
