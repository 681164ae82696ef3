"""The units past their deadline as the supervisors' pages show them (/matters and the board):
the matter, the unit in the reader's words, the deadline, how many business days late, and
whether it was reminded or escalated."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from agentdesk.keys import services_key, units_key
from agentdesk.tickets.deadlines import late_parts
from kck.business_days import BusinessCalendar

OVERDUE_SHOWN = 100


@dataclass(frozen=True)
class OverdueRow:
    number: str
    unit: str
    deadline: str
    days_late: int
    reminded: bool
    escalated: bool


async def overdue_rows(request: web.Request, language: str) -> list[OverdueRow]:
    """The late units of open matters, the latest first; none when the app has no units."""
    if units_key not in request.app:
        return []
    services = request.app[services_key]
    units = request.app[units_key]
    parts = await late_parts(
        services.sessions, units, BusinessCalendar(services.settings.tz), services.clock.now()
    )
    return [
        OverdueRow(
            p.number,
            unit.name(language) if (unit := units.get(p.unit_code)) else p.unit_code,
            p.deadline_day.isoformat(),
            p.days_late,
            p.reminders > 0,
            p.escalated,
        )
        for p in parts[:OVERDUE_SHOWN]
    ]
