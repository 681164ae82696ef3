"""The life cycle of a matter and of each unit's part in it: which moves exist, forward only.

Pure rules on plain values; the SQL side (`agentdesk.tickets.matters`) asks them before each
change and audits every move. A refused move raises `MoveRefused`, naming the matter, the unit
and both states.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class MatterStatus(enum.StrEnum):
    NEW = "new"
    FORWARDED = "forwarded"
    ANSWERED = "answered"  # every unit still on it has answered (or the centre, outside matters)
    RESIDENT_INFORMED = "resident_informed"  # the combined answer is in the outbox to the resident
    CLOSED = "closed"
    REOPENED = "reopened"  # with a reason; forwarded again to its units


class UnitStatus(enum.StrEnum):
    PENDING = "pending"  # ticked by the agent, not yet forwarded
    FORWARDED = "forwarded"  # the unit's e-mail is in the outbox
    RECEIVED = "received"  # the unit marked it received on its page
    INFO_REQUESTED = "info_requested"  # the unit asked for more information
    ANSWERED = "answered"
    PASSED_ON = "passed_on"  # the unit gave the matter to another unit


MATTER_MOVES: dict[MatterStatus, frozenset[MatterStatus]] = {
    # new → answered: a matter outside the city's competence, answered at once by the centre
    MatterStatus.NEW: frozenset({MatterStatus.FORWARDED, MatterStatus.ANSWERED}),
    MatterStatus.FORWARDED: frozenset({MatterStatus.ANSWERED}),
    MatterStatus.ANSWERED: frozenset(
        {MatterStatus.RESIDENT_INFORMED, MatterStatus.CLOSED, MatterStatus.REOPENED}
    ),
    MatterStatus.RESIDENT_INFORMED: frozenset({MatterStatus.CLOSED, MatterStatus.REOPENED}),
    MatterStatus.CLOSED: frozenset({MatterStatus.REOPENED}),
    MatterStatus.REOPENED: frozenset({MatterStatus.FORWARDED}),
}

UNIT_MOVES: dict[UnitStatus, frozenset[UnitStatus]] = {
    UnitStatus.PENDING: frozenset({UnitStatus.FORWARDED}),
    UnitStatus.FORWARDED: frozenset(
        {
            UnitStatus.RECEIVED,
            UnitStatus.INFO_REQUESTED,
            UnitStatus.ANSWERED,
            UnitStatus.PASSED_ON,
        }
    ),
    UnitStatus.RECEIVED: frozenset(
        {UnitStatus.INFO_REQUESTED, UnitStatus.ANSWERED, UnitStatus.PASSED_ON}
    ),
    # back to received: the resident's answer to the unit's question (the one way back)
    UnitStatus.INFO_REQUESTED: frozenset(
        {UnitStatus.RECEIVED, UnitStatus.ANSWERED, UnitStatus.PASSED_ON}
    ),
    UnitStatus.ANSWERED: frozenset(),
    UnitStatus.PASSED_ON: frozenset(),
}

# a unit whose part is over: its answer counts, or it is no longer on the matter
UNIT_DONE = frozenset({UnitStatus.ANSWERED, UnitStatus.PASSED_ON})


class MoveRefused(Exception):
    """A move the life cycle does not allow (backwards, skipping, or out of a final state)."""

    def __init__(self, matter: str, current: str, target: str, unit: str | None = None) -> None:
        self.matter = matter
        self.current = current
        self.target = target
        self.unit = unit
        where = f"matter {matter}" + (f", unit {unit}" if unit else "")
        super().__init__(f"{where}: cannot move from {current!r} to {target!r}")


def check_matter_move(matter: str, current: MatterStatus, target: MatterStatus) -> None:
    if target not in MATTER_MOVES[current]:
        raise MoveRefused(matter, current.value, target.value)


def check_unit_move(matter: str, unit: str, current: UnitStatus, target: UnitStatus) -> None:
    if target not in UNIT_MOVES[current]:
        raise MoveRefused(matter, current.value, target.value, unit)


def all_answered(units: Iterable[UnitStatus]) -> bool:
    """The matter is answered when every unit still on it has answered (those that passed it on
    are no longer on it) and at least one has."""
    states = list(units)
    remaining = [s for s in states if s is not UnitStatus.PASSED_ON]
    return bool(remaining) and all(s is UnitStatus.ANSWERED for s in remaining)
