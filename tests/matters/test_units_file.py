"""Units' addresses and way of working in `config/units.yaml`: checked, errors name file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentdesk.tickets.units import UnitsFileError, load_units
from tests.matters.world import UNITS

UNIT = """units:
  - code: ZZM
    name: {pl: Zarząd Zieleni Miejskiej}
    categories: [greenery]
"""


def test_every_shipped_unit_has_an_address_and_works_by_e_mail_link() -> None:
    assert all(u.emails and u.works_by == "email_link" for u in UNITS.units)


def test_one_address_or_a_list(tmp_path: Path) -> None:
    path = tmp_path / "units.yaml"
    path.write_text(UNIT + "    email: [a@zzm.pl, b@zzm.pl]\n", encoding="utf-8")
    assert load_units(path).units[0].emails == ("a@zzm.pl", "b@zzm.pl")
    path.write_text(UNIT + "    email: a@zzm.pl\n", encoding="utf-8")
    assert load_units(path).units[0].emails == ("a@zzm.pl",)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "    email: not-an-address\n",
            "units.yaml:5:5: unit ZZM: 'not-an-address' is not an e-mail address",
        ),
        (
            "    works_by: fax\n",
            r"units.yaml:5:5: unit ZZM: unknown way of working 'fax' \(known: email_link, account\)",
        ),
    ],
)
def test_a_wrong_address_or_way_of_working_is_named_with_its_place(
    tmp_path: Path, extra: str, message: str
) -> None:
    path = tmp_path / "units.yaml"
    path.write_text(UNIT + extra, encoding="utf-8")
    with pytest.raises(UnitsFileError, match=message):
        load_units(path)


def test_a_unit_may_work_by_account(tmp_path: Path) -> None:
    path = tmp_path / "units.yaml"
    path.write_text(UNIT + "    works_by: account\n", encoding="utf-8")
    [unit] = load_units(path).units
    assert unit.by_account and unit.works_by == "account"
