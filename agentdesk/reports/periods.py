"""Report periods in local time: calendar days and clock hours, correct across DST changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class PeriodError(ValueError):
    """A report range the user asked for that cannot be used (the message says why)."""


@dataclass(frozen=True)
class Period:
    """A half-open span [start, end) in UTC with the label a supervisor reads."""

    start: datetime
    end: datetime
    label: str

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """Local midnight of `day`, in UTC."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def day_period(day: date, tz: ZoneInfo) -> Period:
    return Period(day_start(day, tz), day_start(day + timedelta(days=1), tz), day.isoformat())


def days(first: date, last: date, tz: ZoneInfo) -> list[Period]:
    """Each local day from `first` to `last` inclusive."""
    if last < first:
        raise PeriodError(f"range ends ({last}) before it starts ({first})")
    return [day_period(first + timedelta(days=n), tz) for n in range((last - first).days + 1)]


def hours(first: date, last: date, tz: ZoneInfo) -> list[Period]:
    """Each clock hour of the local days `first`..`last`: 23 on the spring change, 25 in autumn.

    Hours are stepped in UTC so the repeated autumn hour appears twice, told apart by its zone
    name (02:00 CEST, then 02:00 CET).
    """
    span_start = day_start(first, tz)
    span_end = day_start(last + timedelta(days=1), tz)
    periods = []
    moment = span_start
    while moment < span_end:
        local = moment.astimezone(tz)
        label = f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
        periods.append(Period(moment, moment + timedelta(hours=1), label))
        moment += timedelta(hours=1)
    return periods


def locate(moment: datetime, periods: list[Period]) -> int | None:
    """Index of the period holding `moment` (periods sorted, contiguous), or None."""
    if not periods or moment < periods[0].start or moment >= periods[-1].end:
        return None
    low, high = 0, len(periods) - 1
    while low <= high:
        middle = (low + high) // 2
        period = periods[middle]
        if moment < period.start:
            high = middle - 1
        elif moment >= period.end:
            low = middle + 1
        else:
            return middle
    return None


def parse_range(
    first: str | None, last: str | None, today: date, max_days: int = 366
) -> tuple[date, date]:
    """The `from`/`to` query fields (YYYY-MM-DD); missing → today. Errors name the field."""

    def one(name: str, value: str | None) -> date:
        if not value:
            return today
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise PeriodError(f"field {name!r}: {value!r} is not a date (YYYY-MM-DD)") from None

    start, end = one("from", first), one("to", last)
    if end < start:
        raise PeriodError(f"field 'to': {end} is before 'from' {start}")
    if (end - start).days + 1 > max_days:
        raise PeriodError(f"range {start}..{end} is longer than {max_days} days")
    return start, end
