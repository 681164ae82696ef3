"""Time, injected: wall time for records (aware, UTC) and a monotonic clock for timeouts."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime: ...
    def monotonic(self) -> float: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock tests move by hand: `advance(seconds)`."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
        self._mono = 1000.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds


class ShiftedClock:
    """The real clock moved by a fixed offset (the demo's business-day clock); monotonic is real."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def monotonic(self) -> float:
        return time.monotonic()


def business_day_offset(
    now: datetime, tz: ZoneInfo, *, opens: int = 8, closes: int = 15
) -> timedelta:
    """How far to move `now` so that it falls on a Polish working day between `opens` and `closes`
    (local hours); zero when it already does. Used by `kck demo` so callers find the offices open."""
    import holidays

    local = now.astimezone(tz)
    pl_holidays = holidays.country_holidays("PL", years=range(local.year, local.year + 2))

    def working(day: datetime) -> bool:
        return day.weekday() < 5 and day.date() not in pl_holidays

    if working(local) and opens <= local.hour < closes:
        return timedelta(0)
    day = local if local.hour < opens else local + timedelta(days=1)
    while not working(day):
        day += timedelta(days=1)
    target = datetime(day.year, day.month, day.day, 10, 0, tzinfo=tz)
    return target.astimezone(UTC) - now.astimezone(UTC)
