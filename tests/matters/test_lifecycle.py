"""Every move of a matter and of a unit's part: the allowed ones pass, every other is refused."""

from __future__ import annotations

import itertools

import pytest

from matters.lifecycle import (
    MATTER_MOVES,
    UNIT_MOVES,
    MatterStatus,
    MoveRefused,
    UnitStatus,
    all_answered,
    check_matter_move,
    check_unit_move,
)

ALLOWED_MATTER = {
    ("new", "forwarded"),
    ("new", "answered"),
    ("forwarded", "answered"),
    ("answered", "resident_informed"),
    ("answered", "closed"),
    ("answered", "reopened"),
    ("resident_informed", "closed"),
    ("resident_informed", "reopened"),
    ("closed", "reopened"),
    ("reopened", "forwarded"),
}
ALLOWED_UNIT = {
    ("pending", "forwarded"),
    ("forwarded", "received"),
    ("forwarded", "info_requested"),
    ("forwarded", "answered"),
    ("forwarded", "passed_on"),
    ("received", "info_requested"),
    ("received", "answered"),
    ("received", "passed_on"),
    ("info_requested", "received"),
    ("info_requested", "answered"),
    ("info_requested", "passed_on"),
}


def test_the_tables_say_exactly_the_written_moves() -> None:
    assert {(a.value, b.value) for a, bs in MATTER_MOVES.items() for b in bs} == ALLOWED_MATTER
    assert {(a.value, b.value) for a, bs in UNIT_MOVES.items() for b in bs} == ALLOWED_UNIT


@pytest.mark.parametrize("move", list(itertools.product(MatterStatus, MatterStatus)))
def test_each_matter_move_is_allowed_or_refused_naming_the_matter(
    move: tuple[MatterStatus, MatterStatus],
) -> None:
    current, target = move
    if (current.value, target.value) in ALLOWED_MATTER:
        check_matter_move("KCK-2026-000001", current, target)
        return
    with pytest.raises(MoveRefused) as refused:
        check_matter_move("KCK-2026-000001", current, target)
    assert str(refused.value) == (
        f"matter KCK-2026-000001: cannot move from {current.value!r} to {target.value!r}"
    )


@pytest.mark.parametrize("move", list(itertools.product(UnitStatus, UnitStatus)))
def test_each_unit_move_is_allowed_or_refused_naming_the_unit(
    move: tuple[UnitStatus, UnitStatus],
) -> None:
    current, target = move
    if (current.value, target.value) in ALLOWED_UNIT:
        check_unit_move("KCK-2026-000001", "ZZM", current, target)
        return
    with pytest.raises(MoveRefused, match="matter KCK-2026-000001, unit ZZM: cannot move"):
        check_unit_move("KCK-2026-000001", "ZZM", current, target)


def test_a_matter_is_answered_when_every_unit_still_on_it_has_answered() -> None:
    A, P, F = UnitStatus.ANSWERED, UnitStatus.PASSED_ON, UnitStatus.FORWARDED
    assert all_answered([A, A])
    assert all_answered([A, P])
    assert not all_answered([A, F])
    assert not all_answered([P])
    assert not all_answered([])
