"""What a ticket is: a problem report at a place (its duplicates are looked for nearby) or an
idea / proposal (grouped by topic with the ideas like it)."""

from __future__ import annotations

import enum


class TicketKind(enum.StrEnum):
    REPORT = "report"
    IDEA = "idea"
