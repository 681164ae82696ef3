"""Units' deadlines in `config/units.yaml`: defaults for every unit, a unit's own over them,
per kind of matter; errors name file:line and the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentdesk.tickets.units import UnitDeadline, UnitsFileError, load_units
from tests.matters.world import UNITS

UNITS_YAML = """deadlines:
  business_days: 10
  by_kind: {waste: 5}
  escalate_after: 2
  escalation_email: nadzor@krakow.example
units:
  - code: ZZM
    name: {pl: Zarząd Zieleni Miejskiej}
    categories: [greenery]
  - code: MPO
    name: {pl: Miejskie Przedsiębiorstwo Oczyszczania}
    categories: [waste]
    deadline: {by_kind: {greenery: 3}, escalate_after: 0, escalation_email: [a@mpo.pl, b@mpo.pl]}
"""


def test_a_units_deadline_is_the_defaults_with_its_own_changes(tmp_path: Path) -> None:
    path = tmp_path / "units.yaml"
    path.write_text(UNITS_YAML, encoding="utf-8")
    units = load_units(path)
    zzm, mpo = units.units
    assert zzm.deadline == UnitDeadline(10, (("waste", 5),), 2, ("nadzor@krakow.example",))
    assert mpo.deadline == UnitDeadline(
        10, (("greenery", 3), ("waste", 5)), 0, ("a@mpo.pl", "b@mpo.pl")
    )
    assert (mpo.deadline.days_for("waste"), mpo.deadline.days_for("other")) == (5, 10)


def test_the_shipped_units_have_deadlines_and_an_escalation_address() -> None:
    assert all(u.deadline.business_days >= 1 and u.deadline.escalation_emails for u in UNITS.units)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("business_days: 10", "business_days: 0", "units.yaml:2:3: deadlines: business_days must"),
        ("escalate_after: 2", "escalate_after: x", "units.yaml:4:3: deadlines: escalate_after"),
        ("by_kind: {waste: 5}", "by_kind: {potholes: 5}", "unknown kind 'potholes'"),
        ("by_kind: {waste: 5}", "weekends: true", "unknown deadline setting 'weekends'"),
        ("escalate_after: 0,", "escalate_after: -1,", "unit MPO: escalate_after must"),
    ],
)
def test_a_wrong_deadline_is_named(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = tmp_path / "units.yaml"
    assert old in UNITS_YAML
    path.write_text(UNITS_YAML.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(UnitsFileError, match=message):
        load_units(path)
