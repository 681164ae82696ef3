"""What a ticket is: a problem report at a place (its duplicates are looked for nearby), an idea /
proposal (grouped by topic with the ideas like it), a question that needs a unit's answer, a
complaint (about a unit or a service, which it may name), or a matter outside the city's
competence (not forwarded: answered at once with where to go instead)."""

from __future__ import annotations

import enum


class TicketKind(enum.StrEnum):
    REPORT = "report"
    IDEA = "idea"
    QUESTION = "question"
    COMPLAINT = "complaint"
    OUTSIDE = "outside"  # outside the city's competence: `refer_to` says where to go


# the kinds whose place the unit needs (for the categories needing one)
KINDS_AT_A_PLACE = frozenset({TicketKind.REPORT, TicketKind.IDEA})
