"""Editors' tools: graph, diff as steps, prompt sound files, and the `kck ivr` commands."""

from __future__ import annotations

import json
import shutil
import wave
from pathlib import Path

import pytest

from ivr.diff import diff_menus
from ivr.graph import dot_to_svg, menu_to_dot
from ivr.loader import read_menu_files
from ivr.prompt_builder import MANIFEST, build_prompts, sound_file
from kck.cli import main
from kck.spoken_numbers import number_words
from tests.ivr.support import SHIPPED, announcement_prompts, menu_of, shipped_menu

SMALL = f"""\
menu: {{name: Small, start: m, languages: [pl, uk]}}
prompts:
  p: {{text: {{pl: Wybierz jeden, uk: Оберіть один}}}}
{announcement_prompts("pl", "uk")}steps:
  m: {{type: menu, prompt: p, choices: {{1: q}}, fallback: bye}}
  q: {{type: queue, queue: general, skills: {{general: 1}}, ticket_category: roads}}
  bye: {{type: hangup}}
"""
# one prompt to speak, nothing else
SPOKEN = """\
menu: {name: Spoken, start: m, languages: [pl, uk]}
prompts:
  p: {text: {pl: Wybierz jeden, uk: Оберіть один}}
steps:
  m: {type: hangup, prompt: p}
"""


def test_graph_has_every_step_branch_and_fallback() -> None:
    menu = shipped_menu()
    dot = menu_to_dot(menu)
    for step_id in menu.steps:
        assert f'"{step_id}" [' in dot
    assert '"main_menu" -> "queue_general" [label="no key / wrong key ×3", style=dashed]' in dot
    assert '"check_hours" -> "closed_info" [label="closed", style=dashed]' in dot
    assert '"queue_documents" -> "no_agent" [label="no agent", style=dashed]' in dot


async def test_graph_renders_as_svg_with_graphviz() -> None:
    svg = await dot_to_svg(menu_to_dot(menu_of(SMALL)))
    assert svg.startswith(b"<?xml") and b"<svg" in svg and b"general" in svg


def test_diff_tells_changes_as_menu_steps() -> None:
    old = menu_of(SMALL)
    new = menu_of(
        SMALL.replace("choices: {1: q}", "choices: {1: q, 2: extra}")
        .replace("skills: {general: 1}", "skills: {general: 2}")
        .replace("Wybierz jeden", "Wybierz")
        + "  extra: {type: goto, target: m}\n"
    )
    changes = [str(c) for c in diff_menus(old, new)]
    assert "~ step m: key 2 added → extra" in changes
    assert "~ step q: skills.general: 1 → 2" in changes
    assert "~ prompt p: text.pl: 'Wybierz jeden' → 'Wybierz'" in changes
    assert "+ step extra: goto (target → m)" in changes
    assert diff_menus(old, old) == []


def _prompts(keys: list[str]) -> list[str]:
    """The menu's prompts among built/unchanged/kept keys, without the number words."""
    return sorted(key for key in keys if "/num/" not in key)


async def test_prompts_build_makes_8khz_mono_files_once_and_keeps_real_recordings(
    tmp_path: Path,
) -> None:
    menu = menu_of(SPOKEN)
    sounds = tmp_path / "sounds"
    (sounds / "uk").mkdir(parents=True)
    (sounds / "uk" / "p.wav").write_bytes(b"RIFF-a real recording")
    first = await build_prompts(menu, sounds)
    assert _prompts(first.built) == ["pl/p"] and first.recordings_kept == ["uk/p"]
    assert not first.failed
    with wave.open(str(sound_file(sounds, "pl", "p"))) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        assert wav.getnframes() > 8000 * 0.3  # it really speaks
    assert json.loads((sounds / MANIFEST).read_text())["pl/p"]
    again = await build_prompts(menu, sounds)
    assert again.built == [] and _prompts(again.unchanged) == ["pl/p"]
    changed = await build_prompts(menu_of(SPOKEN.replace("Wybierz jeden", "Wybierz dwa")), sounds)
    assert changed.built == ["pl/p"]
    assert (sounds / "uk" / "p.wav").read_bytes() == b"RIFF-a real recording"


async def test_prompts_build_speaks_the_number_words_of_each_menu_language(
    tmp_path: Path,
) -> None:
    menu = menu_of(SPOKEN.replace("languages: [pl, uk]", "languages: [pl]"))
    sounds = tmp_path / "sounds"
    (sounds / "pl" / "num").mkdir(parents=True)
    (sounds / "pl" / "num" / "5.wav").write_bytes(b"RIFF-a real recording")
    first = await build_prompts(menu, sounds)
    assert not first.failed and first.recordings_kept == ["pl/num/5"]
    assert set(first.built) == {"pl/p"} | {f"pl/{s}" for s in number_words("pl")} - {"pl/num/5"}
    for sound in ("num/2_f", "num/20", "num/minute_few", "num/more_than"):
        with wave.open(str(sound_file(sounds, "pl", sound))) as wav:
            assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
            # a word, without espeak-ng's trailing ~0.4 s of silence
            assert 8000 * 0.15 < wav.getnframes() < 8000 * 1.2, sound
    assert not (sounds / "uk").exists() and not (sounds / "en").exists()
    again = await build_prompts(menu, sounds)
    assert again.built == [] and again.recordings_kept == ["pl/num/5"]


@pytest.fixture
def menus(tmp_path: Path) -> Path:
    folder = tmp_path / "menus"
    shutil.copytree(SHIPPED, folder)
    return folder


def test_cli_validate_ok_and_json(menus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ivr", "validate", "--menus", str(menus)]) == 0
    assert "OK: 41 steps, 0 error(s)" in capsys.readouterr().out
    (menus / "main.yaml").write_text(
        (menus / "main.yaml").read_text().replace("next: check_hours", "next: check_hour")
    )
    assert main(["ivr", "validate", "--menus", str(menus), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert not report["ok"] and report["errors"] >= 1
    [problem] = [p for p in report["problems"] if p["code"] == "unknown-step"]
    lines = (menus / "main.yaml").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.strip() == "next: check_hour")
    assert (
        problem["file"].endswith("main.yaml") and problem["line"] == line and problem["column"] == 5
    )


def test_cli_try_shows_prompts_and_where_the_call_ends(
    menus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["ivr", "try", "--menus", str(menus), "--at", "2026-11-24 10:00", "--digits", "1,5,4"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "♪ [problem_menu] Drogi i chodniki — 1." in out
    assert "outcome: queued" in out and "queue: city_issues" in out
    assert "ticket category: small_architecture" in out
    assert "agent sees: Język → Menu główne → Zgłoszenie problemu → Mała architektura" in out


def test_cli_try_on_a_holiday(menus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["ivr", "try", "--menus", str(menus), "--at", "2026-11-11 10:00", "--digits", "1"])
        == 0
    )
    assert "outcome: closed_hours" in capsys.readouterr().out


def test_cli_test_passes_and_fails(menus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ivr", "test", "--menus", str(menus)]) == 0
    assert " passed, 0 failed" in capsys.readouterr().out
    path = menus / "tests" / "city_hall.yaml"
    path.write_text(
        path.read_text().replace("ticket_category: roads_pavements", "ticket_category: greenery")
    )
    assert main(["ivr", "test", "--menus", str(menus)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  Polish caller reports a pothole" in out
    assert "ticket_category: expected 'greenery', got 'roads_pavements'" in out


def test_cli_diff_of_two_folders(
    menus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other"
    shutil.copytree(menus, other)
    text = (other / "departments.yaml").read_text()
    (other / "departments.yaml").write_text(
        text.replace("priority: 5               # bereaved", "priority: 8  # bereaved")
    )
    assert main(["ivr", "diff", str(menus), str(other)]) == 0
    out = capsys.readouterr().out
    assert "~ step queue_deaths: priority: 5 → 8" in out and "1 change(s)" in out


def test_shipped_folder_reads_every_included_file() -> None:
    files = read_menu_files(SHIPPED)
    assert set(files.files) == {
        "main.yaml",
        "prompts.yaml",
        "calendars.yaml",
        "departments.yaml",
        "problems.yaml",
        "intents.yaml",
    }
