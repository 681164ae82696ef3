"""The outbound dial string: E.164 in, `PJSIP/<number as the operator wants it>@<trunk>` out."""

from __future__ import annotations

from pathlib import Path

import pytest

from kck.phone import NumberFormat, TrunkDial
from kck.settings import load_settings


@pytest.mark.parametrize(
    ("number_format", "number", "dialled"),
    [
        ("international", "+48600100200", "PJSIP/48600100200@kck-trunk"),
        ("national", "+48600100200", "PJSIP/600100200@kck-trunk"),
        ("national", "+4930123456", "PJSIP/004930123456@kck-trunk"),  # abroad from Poland
        ("e164", "+48600100200", "PJSIP/+48600100200@kck-trunk"),
    ],
)
def test_number_is_dialled_through_the_trunk_as_the_operator_wants_it(
    number_format: NumberFormat, number: str, dialled: str
) -> None:
    assert TrunkDial("kck-trunk", number_format, "PL")(number) == dialled


def test_dial_string_follows_the_settings(tmp_path: Path) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text("trunk:\n  name: orange\n", encoding="utf-8")
    settings = load_settings(path, environ={"KCK_TRUNK_NUMBER_FORMAT": "national"})
    assert TrunkDial.from_settings(settings)("+48126165555") == "PJSIP/126165555@orange"


@pytest.mark.parametrize("bad", ["600100200", "+48 600", "+48600100200,60", ""])
def test_anything_but_e164_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"E\.164"):
        TrunkDial()(bad)
