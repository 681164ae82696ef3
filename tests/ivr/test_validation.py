"""Menu validation: every kind of mistake an editor makes is named with file:line:column."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ivr.problems import Severity
from ivr.skills import SkillDirectory
from ivr.validation import ValidatedMenu
from tests.ivr.support import SHIPPED, announcement_prompts, check

HEAD = """\
menu:
  name: Test
  start: hello
  languages: [pl, en]
prompts:
  hi: {text: {pl: Cześć, en: Hi}}
  pick: {text: {pl: Wybierz, en: Choose}}
"""


def codes(result: ValidatedMenu) -> list[str]:
    return [p.code for p in result.problems.errors]


def test_shipped_menu_is_valid() -> None:
    from ivr.loader import read_menu_files
    from ivr.validation import validate_files

    result = validate_files(read_menu_files(SHIPPED))
    assert result.ok, [str(p) for p in result.problems]
    assert result.menu is not None and len(result.menu.steps) > 30


def test_unknown_step_is_reported_at_the_field_that_names_it_with_a_suggestion() -> None:
    result = check(
        HEAD
        + """\
steps:
  hello:
    type: say
    prompt: hi
    next: goodby
  goodbye:
    type: hangup
"""
    )
    [problem] = [p for p in result.problems.errors if p.code == "unknown-step"]
    assert problem.pos is not None
    assert (problem.pos.file, problem.pos.line, problem.pos.column) == ("main.yaml", 12, 5)
    assert "'goodby'" in problem.message and "did you mean 'goodbye'" in problem.message
    assert str(problem).startswith("main.yaml:12:5: error:")


def test_unknown_step_type_names_the_types_there_are() -> None:
    result = check(HEAD + "steps:\n  hello:\n    type: sing\n    prompt: hi\n")
    [problem] = result.problems.errors
    assert "unknown step type 'sing'" in problem.message and "menu" in problem.message
    assert problem.pos is not None and problem.pos.line == 10


def test_missing_field_and_unknown_field_are_plain_language() -> None:
    result = check(HEAD + "steps:\n  hello:\n    type: say\n    prompt: hi\n    nxt: x\n")
    messages = sorted(p.message for p in result.problems.errors)
    assert "say step 'hello': field `next` is missing" in messages
    assert "say step 'hello': field `nxt` is not a field here" in messages


def test_duplicate_digits_in_a_menu_are_rejected_with_both_lines() -> None:
    result = check(
        HEAD
        + """\
steps:
  hello:
    type: menu
    prompt: pick
    choices:
      1: bye
      "1": bye
    fallback: bye
  bye: {type: hangup}
"""
    )
    [problem] = result.problems.errors
    assert problem.code == "yaml"
    assert "duplicate key '1'" in problem.message and "line 13" in problem.message
    assert problem.pos is not None and problem.pos.line == 14


def test_a_key_that_is_not_a_phone_key_is_rejected() -> None:
    result = check(
        HEAD
        + "steps:\n  hello: {type: menu, prompt: pick, choices: {12: bye}, fallback: bye}\n  bye: {type: hangup}\n"
    )
    assert any("'12' is not a phone key" in p.message for p in result.problems.errors)


def test_unreachable_step_is_an_error() -> None:
    result = check(HEAD + "steps:\n  hello: {type: hangup}\n  orphan: {type: hangup}\n")
    [problem] = result.problems.errors
    assert problem.code == "unreachable" and "'orphan'" in problem.message
    assert problem.pos is not None and problem.pos.line == 10


def test_loop_with_no_way_out_is_an_error() -> None:
    result = check(
        HEAD
        + """\
steps:
  hello: {type: say, prompt: hi, next: again}
  again: {type: say, prompt: hi, next: hello}
"""
    )
    assert "endless-loop" in codes(result)
    assert any("hello → again" in p.message for p in result.problems.errors)


def test_loop_without_input_is_an_error_even_when_it_has_an_exit() -> None:
    result = check(
        HEAD
        + """\
calendars:
  office: {weekly: {mon: "08:00-16:00"}}
steps:
  hello: {type: hours, calendar: office, open: bye, closed: wait}
  wait: {type: say, prompt: hi, next: hello}
  bye: {type: hangup}
"""
    )
    assert codes(result) == ["endless-loop"]
    assert "without ever waiting for a key" in result.problems.errors[0].message


def test_menu_loop_through_caller_choices_is_fine() -> None:
    result = check(
        HEAD
        + """\
steps:
  hello: {type: menu, prompt: pick, choices: {1: info, 2: bye}, fallback: bye}
  info: {type: info, prompt: hi, next: hello}
  bye: {type: hangup}
"""
    )
    assert result.ok, [str(p) for p in result.problems]


def test_menu_without_timeout_handling_is_an_error() -> None:
    result = check(
        HEAD
        + "steps:\n  hello: {type: menu, prompt: pick, choices: {1: bye}}\n  bye: {type: hangup}\n"
    )
    [problem] = result.problems.errors
    assert problem.code == "no-timeout-handling"
    assert "presses nothing" in problem.message and "fallback" in problem.message


def test_missing_prompt_text_for_a_language_is_an_error_unless_a_recording_exists() -> None:
    text = """\
menu: {name: T, start: hello, languages: [pl, en, uk]}
prompts:
  hi: {text: {pl: Cześć, en: Hi}}
steps:
  hello: {type: hangup, prompt: hi}
"""
    result = check(text)
    [problem] = result.problems.errors
    assert problem.code == "missing-prompt-text"
    assert "no Ukrainian text (uk)" in problem.message and "uk/hi.wav" in problem.message
    recorded = check(text, sound_exists=lambda language, sound: (language, sound) == ("uk", "hi"))
    assert recorded.ok


def test_unknown_prompt_and_calendar_are_reported() -> None:
    result = check(
        HEAD
        + """\
steps:
  hello: {type: hours, calendar: ofice, open: bye, closed: bye}
  bye: {type: hangup, prompt: byebye}
"""
    )
    assert sorted(codes(result)) == ["unknown-calendar", "unknown-prompt"]


def test_unknown_skill_is_an_error_and_a_skill_no_agent_has_is_a_warning() -> None:
    text = (
        HEAD
        + announcement_prompts("pl", "en")
        + "steps:\n  hello: {type: queue, queue: q, skills: {documents: 2, taxes: 1, magic: 1}}\n"
    )
    directory = SkillDirectory(frozenset({"documents", "taxes"}), {"documents": 1})
    result = check(text, skills=directory)
    assert codes(result) == ["unknown-skill"]
    warnings = sorted(
        p.message for p in result.problems.warnings if p.code != "missing-played-prompt"
    )
    assert len(warnings) == 2
    assert "needs 'documents' at level 2 or more, but the best is level 1" in warnings[0]
    assert "'taxes'" in warnings[1] and "no agent has it at all" in warnings[1]
    assert all(p.severity is Severity.WARNING for p in result.problems.warnings)


def test_skills_check_is_skipped_without_skill_files() -> None:
    text = (
        HEAD
        + announcement_prompts("pl", "en")
        + "steps:\n  hello: {type: queue, queue: q, skills: {anything: 3}}\n"
    )
    assert check(text, skills=SkillDirectory(None, None)).ok


def test_included_file_errors_name_the_included_file() -> None:
    main = HEAD + "include: [more.yaml]\nsteps:\n  hello: {type: goto, target: there}\n"
    more = "steps:\n  there:\n    type: info\n    prompt: nope\n    next: hello\n"
    result = check(main, {"more.yaml": more})
    [problem] = result.problems.errors
    assert problem.pos is not None and problem.pos.file == "more.yaml" and problem.pos.line == 4
    assert "prompt 'nope'" in problem.message


def test_missing_include_and_step_defined_twice_across_files() -> None:
    main = HEAD + "include: [a.yaml, gone.yaml]\nsteps:\n  hello: {type: hangup}\n"
    result = check(main, {"a.yaml": "steps:\n  hello: {type: hangup}\n"})
    messages = [p.message for p in result.problems.errors]
    assert any("gone.yaml not found" in m for m in messages)
    assert any("step 'hello' is defined twice (first at main.yaml:10:3)" in m for m in messages)


def test_broken_yaml_is_reported_with_its_place() -> None:
    result = check("menu: {name: x, start: a\nsteps: [\n")
    [problem] = result.problems.errors
    assert problem.code == "yaml" and problem.pos is not None and problem.pos.file == "main.yaml"


def test_speech_step_is_validated_now() -> None:
    main = (
        HEAD
        + """\
steps:
  hello: {type: speech, prompt: hi, intents: intents.yaml, routes: {dcuments: bye}, fallback: bye}
  bye: {type: hangup}
"""
    )
    result = check(main, {"intents.yaml": "intents:\n  documents: {pl: [dowód]}\n"})
    [problem] = result.problems.errors
    assert problem.code == "unknown-intent" and "did you mean 'documents'" in problem.message
    missing = check(main)
    assert "missing-file" in codes(missing)


def test_bad_calendar_values_are_reported() -> None:
    result = check(
        HEAD
        + """\
calendars:
  office:
    timezone: Europe/Krakow
    public_holidays: XX
    weekly: {mon: "16:00-08:00"}
steps:
  hello: {type: hours, calendar: office, open: bye, closed: bye}
  bye: {type: hangup}
"""
    )
    messages = " | ".join(p.message for p in result.problems.errors)
    assert "unknown time zone 'Europe/Krakow'" in messages
    assert "country 'XX'" in messages
    assert "16:00-08:00 ends before it starts" in messages


def test_a_prompt_may_not_take_the_place_of_a_number_word() -> None:
    result = check(
        HEAD.replace(
            "  pick: {", "  five:\n    sound: num/5\n    text: {pl: Pięć, en: Five}\n  pick: {"
        )
        + "steps:\n  hello: {type: hangup, prompt: five}\n"
    )
    [problem] = result.problems.errors
    assert problem.code == "reserved-sound" and problem.pos is not None
    assert (problem.pos.file, problem.pos.line) == ("main.yaml", 8)
    assert "'num/5'" in problem.message and "number words" in problem.message


def test_menu_check_and_router_read_the_routing_files_alike(tmp_path: Path) -> None:
    """`kck ivr validate` read agents.yaml with a lenient reader of its own: a file the router
    refuses (skills as a list) passed the menu check. Now both read it with the router's reader."""
    from ivr.loader import read_menu_files
    from ivr.skills import read_skill_directory
    from ivr.validation import validate_files
    from queues.config import QueueConfigError, load_routing_config

    config = tmp_path / "config"
    shutil.copytree(SHIPPED.parent, config, ignore=shutil.ignore_patterns("kb", "menus"))
    agents = config / "agents.yaml"
    agents.write_text(
        agents.read_text(encoding="utf-8").replace(
            "skills: {roads: 4, greenery: 3, waste: 4, general: 2}",
            "skills: [roads, greenery, waste, general]",
        ),
        encoding="utf-8",
    )
    with pytest.raises(QueueConfigError) as refused:
        load_routing_config(config)
    result = validate_files(read_menu_files(SHIPPED), read_skill_directory(config))
    assert codes(result) == ["routing-config"]
    assert str(refused.value) in str(result.problems.errors[0])


def test_the_directory_has_what_the_router_has(tmp_path: Path) -> None:
    from ivr.skills import read_skill_directory
    from queues.config import load_routing_config

    config = load_routing_config(SHIPPED.parent)
    directory = read_skill_directory(SHIPPED.parent)
    assert directory.problem is None
    assert directory.skills == frozenset(config.skills)
    assert directory.queues == frozenset(config.queues)
    assert directory.best_level is not None and directory.best_level["ukrainian"] == 5
    assert read_skill_directory(tmp_path) == SkillDirectory(None)  # no routing files: no check
