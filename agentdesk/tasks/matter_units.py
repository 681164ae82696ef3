"""The units an agent chooses for a non-voice matter saved without them (Open311 leaves a report
of a category with many units to an agent): added as pending parts, then forwarded as any
matter (`MatterService.forward`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from agentdesk.tickets.models import Ticket, TicketUnit
from agentdesk.tickets.units import CityUnits
from matters.lifecycle import UnitStatus


class UnitsRefused(ValueError):
    """The chosen units cannot be added (`reason`: no_units, unknown_unit, not_found)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


async def add_units(
    sessions: async_sessionmaker[AsyncSession],
    units: CityUnits,
    number: str,
    codes: Sequence[str],
) -> list[str]:
    """Add the chosen units the matter does not have yet; returns those added."""
    chosen = list(dict.fromkeys(str(c).strip() for c in codes if c.strip()))
    if not chosen:
        raise UnitsRefused("no_units", f"matter {number}: no unit chosen")
    unknown = [c for c in chosen if units.get(c) is None]
    if unknown:
        raise UnitsRefused("unknown_unit", f"matter {number}: no unit {', '.join(unknown)}")
    async with sessions.begin() as session:
        ticket = await session.scalar(
            select(Ticket).where(Ticket.number == number).options(selectinload(Ticket.units))
        )
        if ticket is None:
            raise UnitsRefused("not_found", f"matter {number} does not exist")
        have = {part.unit_code for part in ticket.units}
        added = [c for c in chosen if c not in have]
        for code in added:
            ticket.units.append(TicketUnit(unit_code=code, status=UnitStatus.PENDING))
    return added
