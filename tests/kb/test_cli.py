"""`kck kb …` from the command line: import, search, review-due, history, restore, export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb import read_folder
from kck.cli import main
from tests.kb.conftest import SEED


@pytest.fixture
def config(sqlite_url: str, tmp_path: Path) -> str:
    path = tmp_path / "settings.yaml"
    path.write_text(f"database:\n  url: {sqlite_url}\n", encoding="utf-8")
    return str(path)


def run(config: str, *args: str) -> int:
    return main(["--config", config, "kb", *args])


def test_cli_import_search_review_history_restore_export(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(config, "import", str(SEED), "--author", "seed") == 0
    out = capsys.readouterr().out
    assert f"{len(read_folder(SEED))} cards" in out and "unchanged" in out

    assert run(config, "import", str(SEED)) == 0
    assert f"0 new, 0 changed, {len(read_folder(SEED))} unchanged" in capsys.readouterr().out

    assert run(config, "search", "dziura na drodze", "--limit", "2") == 0
    out = capsys.readouterr().out
    assert out.startswith("1. Zgłoszenie dziury w jezdni")
    assert "«dziury»" in out and "«drodze»" in out

    assert run(config, "search", "dowodu", "--json") == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits[0]["slug"].startswith("dowod-osobisty") and hits[0]["highlights"]

    assert run(config, "search", "qwxzv") == 1
    assert "no cards match" in capsys.readouterr().out

    assert run(config, "review-due", "--today", "2026-11-24", "--json") == 0
    due = json.loads(capsys.readouterr().out)
    assert due[0]["slug"] == "srodowisko-wymiana-pieca" and due[0]["days_overdue"] == 374

    export = tmp_path / "export"
    assert run(config, "export", str(export)) == 0
    edited = export / "pl" / "prawo-jazdy.md"
    edited.write_text(
        edited.read_text(encoding="utf-8").replace("100,50 zł", "101 zł"), encoding="utf-8"
    )
    assert run(config, "import", str(export), "--author", "redaktor") == 0
    assert "changed: prawo-jazdy" in capsys.readouterr().out

    assert run(config, "history", "prawo-jazdy") == 0
    out = capsys.readouterr().out
    assert "#2" in out and "redaktor" in out and "fees" in out

    assert run(config, "restore", "prawo-jazdy", "1", "--author", "kierownik") == 0
    assert "restored as revision 3" in capsys.readouterr().out
    assert run(config, "show", "prawo-jazdy") == 0
    assert "100,50 zł" in capsys.readouterr().out


def test_cli_import_of_a_broken_folder_names_the_file_and_imports_nothing(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "cards"
    folder.mkdir()
    (folder / "zla.md").write_text("---\nid: zla\ntitle: [\n---\n", encoding="utf-8")
    assert run(config, "import", str(folder)) == 1
    err = capsys.readouterr().err
    assert "zla.md:" in err and "nothing imported" in err
    assert run(config, "search", "zla") == 1


def test_cli_show_of_a_missing_article_is_a_one_line_error(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(config, "show", "nie-ma") == 1
    assert capsys.readouterr().err.strip() == "kck: error: knowledge base: no article 'nie-ma'"


def test_cli_check_validates_a_folder_without_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kb", "check", str(SEED)]) == 0
    assert f"{len(read_folder(SEED))} cards OK" in capsys.readouterr().out
    (tmp_path / "zla.md").write_text("---\nid: zla\ntitle: Zła\n---\n", encoding="utf-8")
    assert main(["kb", "check", str(tmp_path)]) == 1
    assert "zla.md:" in capsys.readouterr().err
