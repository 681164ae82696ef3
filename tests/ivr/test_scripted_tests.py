"""The editors' scripted tests: the shipped ones pass, and a wrong expectation is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.loader import MenuSet
from ivr.scripted_tests import LoadedCase, ScriptFileError, load_cases, run_case, script_files
from tests.ivr.support import SHIPPED, shipped_menu

SHIPPED_CASES = [case for path in script_files(SHIPPED / "tests") for case in load_cases(path)]


@pytest.fixture(scope="module")
def menu() -> MenuSet:
    return shipped_menu()


def test_there_are_shipped_scripts() -> None:
    assert len(SHIPPED_CASES) >= 20


@pytest.mark.parametrize("loaded", SHIPPED_CASES, ids=[c.case.name for c in SHIPPED_CASES])
async def test_shipped_script(menu: MenuSet, loaded: LoadedCase) -> None:
    outcome = await run_case(menu, loaded.case, loaded.pos)
    assert outcome.passed, f"{loaded.pos}: {outcome.failures}\n" + "\n".join(outcome.events)


async def test_a_wrong_expectation_fails_with_a_readable_reason(
    menu: MenuSet, tmp_path: Path
) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        'tests:\n  - name: wrong\n    at: "2026-11-24 10:00"\n    keys: "1,5,2"\n'
        "    expect: {queue: documents, path: [main_menu, queue_documents], variables: {x: 1}}\n",
        encoding="utf-8",
    )
    [loaded] = load_cases(path)
    outcome = await run_case(menu, loaded.case, loaded.pos)
    assert not outcome.passed
    assert "queue: expected 'documents', got 'city_issues'" in outcome.failures
    assert any(
        f.startswith("path: expected to pass main_menu → queue_documents") for f in outcome.failures
    )
    assert "variable x: expected '1', got None" in outcome.failures


def test_a_malformed_test_file_names_its_place(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("tests:\n  - name: x\n    at: tomorrow\n    expect: {}\n", encoding="utf-8")
    with pytest.raises(ScriptFileError, match=r"bad.yaml:3:5: test #1 field `at`"):
        load_cases(path)
