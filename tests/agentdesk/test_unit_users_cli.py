"""`kck users add … --role unit --units ZZM`: a unit officer's account as an operator types it;
a unit not in units.yaml, or units on another role, are refused with the reason."""

from __future__ import annotations

import shutil
from pathlib import Path

from kck.config_files import SHIPPED_CONFIG
from tests.core.test_cli import run as kck


def test_kck_users_add_a_unit_officer_with_their_units(tmp_path: Path) -> None:
    assert kck(["db", "upgrade"], tmp_path).returncode == 0
    command = ["users", "add", "jzielinski", "--role", "unit", "--units", "zzm", "WKS"]
    missing = kck(command, tmp_path, stdin="correct horse 1\n")
    assert missing.returncode == 1 and "units.yaml is missing" in missing.stderr
    (tmp_path / "config").mkdir(exist_ok=True)
    shutil.copy(SHIPPED_CONFIG / "units.yaml", tmp_path / "config" / "units.yaml")
    added = kck(command, tmp_path, stdin="correct horse 1\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout == "added jzielinski (unit, units WKS, ZZM)\n"
    listed = kck(["users", "list"], tmp_path).stdout.splitlines()
    assert listed[1].startswith("jzielinski") and listed[1].endswith("(units: WKS, ZZM)")

    unknown = kck(
        ["users", "add", "kowal", "--role", "unit", "--units", "XYZ"], tmp_path, stdin="x" * 9
    )
    assert unknown.returncode == 1 and "--units: no unit XYZ in config/units.yaml" in unknown.stderr
    none = kck(["users", "add", "kowal", "--role", "unit"], tmp_path, stdin="correct horse 1\n")
    assert none.returncode == 1 and "needs its units' codes, e.g. --units ZZM" in none.stderr
    agent = kck(
        ["users", "add", "kowal", "--role", "agent", "--units", "ZZM"],
        tmp_path,
        stdin="correct horse 1\n",
    )
    assert agent.returncode == 1 and "only the role 'unit' takes --units" in agent.stderr
