"""Prompts played outside menu steps (queue waiting loop, speech step) are built by
`kck prompts build` in every menu language, at the paths those players stream, and validated."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from ivr.loader import read_menu_files
from ivr.played_prompts import (
    PLAYED_PROMPTS,
    QUEUE_ANNOUNCEMENT_PROMPTS,
    QUEUE_PROMPTS,
    SPEECH_PROMPTS,
    intent_prompt,
)
from ivr.prompt_builder import build_prompts
from ivr.speech import SpeechStepConfig, load_intents
from ivr.validation import validate_files
from queues.waiting import WaitingPrompts
from tests.ivr.support import SHIPPED, check, shipped_menu

INTENTS_DIR = SHIPPED.parent / "intents"
LANGUAGES = ("pl", "en", "uk")


def _step_sounds(config: SpeechStepConfig) -> tuple[str, ...]:
    return (config.confirm_question, config.confirm_keys, config.retry_prompt)


def test_played_prompt_names_are_the_ones_the_queue_loop_and_speech_step_play() -> None:
    waiting = WaitingPrompts()
    assert tuple(getattr(waiting, f) for f in WaitingPrompts.OWN) == QUEUE_PROMPTS
    step_sounds = _step_sounds(SpeechStepConfig(prompt="x"))
    assert step_sounds == tuple(f"{{lang}}/{name}" for name in SPEECH_PROMPTS)
    for language, intents in load_intents(INTENTS_DIR).items():
        for intent in intents.intents:
            assert intent.confirm_prompt == f"{language}/{intent_prompt(intent.id)}", intent.source


def _is_built(path: str, sounds: Path) -> bool:
    """A sound played by absolute path without extension: a real WAV under the sounds folder."""
    wav = Path(f"{path}.wav")
    return path.startswith(f"{sounds}/") and wav.is_file() and wav.stat().st_size > 1000


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None,
    reason="espeak-ng and sox are needed to build prompts",
)
async def test_every_sound_the_queue_loop_and_speech_step_play_is_built_in_each_language(
    tmp_path: Path,
) -> None:
    menu = shipped_menu()
    intents = load_intents(INTENTS_DIR)
    assert set(intents) == set(LANGUAGES) == set(menu.header.languages)
    # build only what code plays (and the speech step's question), to keep the test short
    wanted = set(PLAYED_PROMPTS) | {"ask_topic"}
    wanted |= {intent_prompt(i.id) for s in intents.values() for i in s.intents}
    assert wanted <= set(menu.prompts), sorted(wanted - set(menu.prompts))
    subset = dataclasses.replace(
        menu, prompts={k: v for k, v in menu.prompts.items() if k in wanted}
    )
    sounds = tmp_path / "sounds"
    report = await build_prompts(subset, sounds)
    assert report.failed == []

    waiting = WaitingPrompts(sounds_dir=str(sounds))  # as RouterQueueGateway makes it
    step = SpeechStepConfig(prompt="x", sounds_prefix=str(sounds))  # as the speech adapter does
    missing: list[str] = []
    for language in LANGUAGES:
        played = list(waiting.own_sounds(language))
        played += [step.sound(name, language) for name in _step_sounds(step)]
        played += [step.sound(i.confirm_prompt, language) for i in intents[language].intents]
        played.append(f"{sounds}/{language}/ask_topic")
        missing += [path for path in played if not _is_built(path, sounds)]
    assert missing == []


MENU = """\
menu: {name: Q, start: q, languages: [pl, en, uk], goodbye: bye, invalid: bye}
prompts:
  bye: {text: {pl: Do widzenia, en: Goodbye, uk: До побачення}}
steps:
  q: {type: queue, queue: city, skills: {taxes: 1}}
"""

QUEUE_TEXTS = "".join(
    f"  {name}: {{text: {{pl: Tekst, en: Text, uk: Текст}}}}\n" for name in QUEUE_PROMPTS
)


def test_queue_prompt_missing_a_language_is_an_error_and_an_undefined_one_a_warning() -> None:
    complete = check(MENU.replace("steps:", QUEUE_TEXTS + "steps:"))
    assert complete.ok and not [
        p for p in complete.problems.warnings if p.code == "missing-played-prompt"
    ]
    no_ukrainian = QUEUE_TEXTS.replace(
        "  queue_callback_confirmed: {text: {pl: Tekst, en: Text, uk: Текст}}",
        "  queue_callback_confirmed: {text: {pl: Tekst, en: Text}}",
    )
    broken = check(MENU.replace("steps:", no_ukrainian + "steps:"))
    [error] = broken.problems.errors
    assert "'queue_callback_confirmed' has no Ukrainian text (uk)" in error.message
    announcement_only = "".join(
        line for line in QUEUE_TEXTS.splitlines(keepends=True)
        if line.split(":")[0].strip() in QUEUE_ANNOUNCEMENT_PROMPTS
    )  # fmt: skip
    undefined = check(MENU.replace("steps:", announcement_only + "steps:"))
    assert undefined.ok
    warned = [p.message for p in undefined.problems.warnings if p.code == "missing-played-prompt"]
    assert len(warned) == len(QUEUE_PROMPTS) - len(QUEUE_ANNOUNCEMENT_PROMPTS)
    assert "'queue_callback_confirmed' is played by the queue's waiting loop" in warned[0]


def test_undefined_announcement_prompt_is_an_error_naming_it_and_the_languages() -> None:
    """The waiting loop tells every caller their place with these: a menu without one is refused."""
    without = "".join(
        line for line in QUEUE_TEXTS.splitlines(keepends=True)
        if not line.startswith("  queue_people_ahead:")
    )  # fmt: skip
    checked = check(MENU.replace("steps:", without + "steps:"))
    assert not checked.ok
    [error] = [p for p in checked.problems.errors if p.code == "missing-played-prompt"]
    assert "'queue_people_ahead' is played by the queue's waiting loop at every announcement" in (
        error.message
    )
    assert "no recording for pl, en, uk (pl/queue_people_ahead.wav)" in error.message
    recorded_but_uk = check(
        MENU.replace("steps:", without + "steps:"),
        sound_exists=lambda language, sound: language != "uk",
    )
    [error] = [p for p in recorded_but_uk.problems.errors if p.code == "missing-played-prompt"]
    assert "no recording for uk (uk/queue_people_ahead.wav)" in error.message
    every_one = {p.message.split("'")[1] for p in check(MENU).problems.errors}
    assert every_one == set(QUEUE_ANNOUNCEMENT_PROMPTS)


def test_shipped_menu_defines_every_played_prompt_in_every_language() -> None:
    checked = validate_files(read_menu_files(SHIPPED))
    assert checked.ok
    assert [p.message for p in checked.problems if p.code == "missing-played-prompt"] == []
