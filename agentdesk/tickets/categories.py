"""Ticket categories and wrap-up outcomes (enums shared by the form, the table and the pop)."""

from __future__ import annotations

import enum


class TicketCategory(enum.StrEnum):
    GREENERY = "greenery"
    ROADS_PAVEMENTS = "roads_pavements"
    SMALL_ARCHITECTURE = "small_architecture"
    WASTE = "waste"
    TRANSPORT = "transport"
    OTHER = "other"
    OUT_OF_COMPETENCE = "out_of_competence"


# Problems at a place: the ticket is useless to the unit without the address.
CATEGORIES_NEEDING_LOCATION = frozenset(
    {
        TicketCategory.GREENERY,
        TicketCategory.ROADS_PAVEMENTS,
        TicketCategory.SMALL_ARCHITECTURE,
        TicketCategory.WASTE,
    }
)


class WrapUpOutcome(enum.StrEnum):
    """What the agent marks after the call (resolved at first line is the centre's 75% goal)."""

    RESOLVED_FIRST_LINE = "resolved_first_line"
    TICKET_CREATED = "ticket_created"
    CALLBACK_NEEDED = "callback_needed"
    WRONG_NUMBER = "wrong_number"


# The IVR menus' names for the same categories (config/menus/problems.yaml).
CATEGORY_ALIASES = {
    "rubbish": TicketCategory.WASTE,
    "public_transport": TicketCategory.TRANSPORT,
    "greenery-emergency": TicketCategory.GREENERY,
    "roads": TicketCategory.ROADS_PAVEMENTS,
}


def category_from_routing(value: str | None) -> TicketCategory | None:
    """The form's category for a routing request's `ticket_category` (None if it has no match)."""
    if not value:
        return None
    try:
        return TicketCategory(value)
    except ValueError:
        return CATEGORY_ALIASES.get(value)
