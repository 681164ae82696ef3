"""Business hours: weekly schedule, dated exceptions and public holidays, in the calendar's zone.

The instant is converted to local wall time with zoneinfo, so the DST changes (last Sundays of
March and October in Europe/Warsaw) need no special cases: 08:00 is 08:00 on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from ivr.model import WEEKDAYS, Calendar, TimeRange
from kck.business_days import public_holiday, supported_country

__all__ = ["OpeningState", "opening_state", "public_holiday", "supported_country"]


@dataclass(frozen=True)
class OpeningState:
    open: bool
    reason: str  # "weekly hours", "public holiday: Christmas Day", "exception: …"
    local_time: datetime


def _within(ranges: tuple[TimeRange, ...], moment: time) -> bool:
    # an end of 00:00 means midnight at the end of the day
    return any(r.start <= moment and (moment < r.end or r.end == time(0, 0)) for r in ranges)


def opening_state(calendar: Calendar, at: datetime) -> OpeningState:
    """Whether the calendar is open at an aware instant, and why."""
    if at.tzinfo is None:
        raise ValueError("opening_state needs an aware datetime")
    local = at.astimezone(ZoneInfo(calendar.timezone))
    day, moment = local.date(), local.time().replace(tzinfo=None)
    for exception in calendar.exceptions:
        if exception.date == day:
            note = f"exception: {exception.note}" if exception.note else "exception"
            if exception.closed:
                return OpeningState(False, note, local)
            return OpeningState(_within(exception.hours, moment), note, local)
    if calendar.public_holidays:
        name = public_holiday(calendar.public_holidays, day)
        if name:
            return OpeningState(False, f"public holiday: {name}", local)
    ranges = calendar.weekly.get(WEEKDAYS[local.weekday()], ())
    return OpeningState(_within(ranges, moment), "weekly hours", local)
