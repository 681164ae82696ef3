"""Open matters like the one being written, from SQL: problem reports of the same category near
it (within `NEAR_M` of its point, or at the same address key), and the ideas of a category for
the topic groups. Each lookup goes through an index on (kind, category, …)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentdesk.tickets.idea_topics import Idea
from agentdesk.tickets.kinds import TicketKind
from agentdesk.tickets.models import Ticket
from agentdesk.tickets.places import NEAR_M, address_key, box_around, distance_m
from matters.lifecycle import MatterStatus
from matters.models import MatterResident

# still waiting for the units' answer: a caller attached now hears it with the others
OPEN_STATES = (MatterStatus.NEW, MatterStatus.FORWARDED, MatterStatus.REOPENED)
IDEAS_LOOKED_AT = 500  # the newest ideas of a category a topic is looked for among


@dataclass(frozen=True)
class NearbyMatter:
    number: str
    category: str
    status: str
    location_text: str | None
    description: str
    created_at: datetime
    distance_m: float | None  # None when only the address matched
    same_address: bool
    residents: int  # the first caller and those attached since


@dataclass(frozen=True)
class PlaceQuery:
    category: str
    location_text: str | None
    latitude: float | None
    longitude: float | None


class NearbyMatters:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def near(self, place: PlaceQuery, limit: int = 5) -> list[NearbyMatter]:
        """Open problem reports of `place.category` within NEAR_M of its point or at its
        address, the closest first (those matched by address alone after them)."""
        key = address_key(place.location_text)
        where = []
        if key is not None:
            where.append(Ticket.address_key == key)
        if place.latitude is not None and place.longitude is not None:
            south, north, west, east = box_around(place.latitude, place.longitude, NEAR_M)
            where.append(
                Ticket.latitude.between(south, north) & Ticket.longitude.between(west, east)
            )
        if not where:
            return []
        async with self.sessions() as session:
            tickets = list(
                await session.scalars(
                    select(Ticket).where(
                        Ticket.kind == TicketKind.REPORT.value,
                        Ticket.category == place.category,
                        Ticket.status.in_([s.value for s in OPEN_STATES]),
                        or_(*where),
                    )
                )
            )
            residents = await _resident_counts(session, [t.id for t in tickets])
        found: list[NearbyMatter] = []
        for ticket in tickets:
            distance = _distance(place, ticket)
            same = key is not None and ticket.address_key == key
            if not same and (distance is None or distance > NEAR_M):
                continue  # in the box's corner, farther than NEAR_M
            found.append(
                NearbyMatter(
                    number=ticket.number,
                    category=ticket.category,
                    status=ticket.status,
                    location_text=ticket.location_text,
                    description=ticket.description,
                    created_at=ticket.created_at,
                    distance_m=distance,
                    same_address=same,
                    residents=1 + residents.get(ticket.id, 0),
                )
            )
        found.sort(key=lambda m: (m.distance_m is None, m.distance_m or 0.0, m.number))
        return found[:limit]

    async def ideas(self, category: str, leave_out: str | None = None) -> list[Idea]:
        """The newest ideas of `category` (any state), but the one numbered `leave_out`."""
        query = (
            select(Ticket.number, Ticket.category, Ticket.description, Ticket.status)
            .where(Ticket.kind == TicketKind.IDEA.value, Ticket.category == category)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(IDEAS_LOOKED_AT)
        )
        if leave_out:
            query = query.where(Ticket.number != leave_out)
        async with self.sessions() as session:
            rows = await session.execute(query)
            return [Idea(number, cat, text, status) for number, cat, text, status in rows]


def _distance(place: PlaceQuery, ticket: Ticket) -> float | None:
    if place.latitude is None or place.longitude is None:
        return None
    if ticket.latitude is None or ticket.longitude is None:
        return None
    return distance_m(place.latitude, place.longitude, ticket.latitude, ticket.longitude)


async def _resident_counts(session: AsyncSession, ticket_ids: list[int]) -> dict[int, int]:
    if not ticket_ids:
        return {}
    rows = await session.execute(
        select(MatterResident.ticket_id, func.count())
        .where(MatterResident.ticket_id.in_(ticket_ids))
        .group_by(MatterResident.ticket_id)
    )
    return {ticket_id: int(n) for ticket_id, n in rows}
