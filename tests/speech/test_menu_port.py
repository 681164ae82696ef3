"""The adapter for the interpreter's speech seam (`ivr.speech_port`): intents written in the menu
folder, a channel that plays and records, end to end through the PBX simulator."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from asterisk.agi import AGISession
from asterisk.simulator import CallerScript
from ivr.speech import (
    HeardIntent,
    IntentsError,
    MenuSpeechRecogniser,
    SpeechReason,
    SpeechRecogniser,
    create_recogniser,
    parse_menu_intents,
)
from kck.settings import load_settings
from tests.speech.test_speech_step import Seen, simulated_call

MENU_INTENTS = """\
# Intents the `ask_topic` speech step listens for: name → example phrases per language.
intents:
  parking:
    ko: [주차 위반]
    pl: [mandat za parkowanie, Strefa płatnego parkowania]
  agent:
    ko: [상담원]
    pl: [konsultant]
  id_card:
    pl: [dowód osobisty]
  unrouted:
    ko: [주민등록증]
"""


@dataclass(frozen=True)
class Prompt:
    sound: str


@dataclass(frozen=True)
class Recording:
    path: str
    ended_by: str


class AGIChannelShape:
    """What the interpreter's AGI channel does for play and record, over a real AGI session."""

    def __init__(self, session: AGISession, recordings: Path) -> None:
        self.session = session
        self.recordings = recordings

    async def play(self, prompt: Prompt, *, interruptible: bool = False) -> str | None:
        return await self.session.stream_file(prompt.sound, "0123456789*#" if interruptible else "")

    async def record(self, name: str, *, max_seconds: int) -> Recording:
        target = self.recordings / name
        target.parent.mkdir(parents=True, exist_ok=True)
        result = await self.session.record_file(
            str(target), "wav", "#", max_seconds * 1000, beep=True, silence_s=2
        )
        return Recording(f"{target}.wav", str(result.reason or "timeout"))


@dataclass(frozen=True)
class Request:
    call_id: str
    step_id: str = "ask_topic"
    prompt: Prompt = Prompt("pl/kck/ask_topic")
    language: str = "ko"
    intents_file: str = "intents.yaml"
    intents_text: str | None = MENU_INTENTS
    intents: tuple[str, ...] = ("parking", "agent", "id_card")
    confidence: float = 0.6
    max_seconds: int = 6


def test_menu_intents_give_one_language_of_the_routed_intents() -> None:
    polish = parse_menu_intents(
        MENU_INTENTS, "config/menus/intents.yaml", "pl", routed=("parking", "agent", "id_card")
    )
    assert [i.id for i in polish.intents] == ["parking", "agent", "id_card"]
    assert polish.get("parking").phrases == ("mandat za parkowanie", "strefa płatnego parkowania")
    assert polish.thresholds.accept == 0.6
    korean = parse_menu_intents(MENU_INTENTS, "intents.yaml", "ko", routed=("parking", "agent"))
    assert korean.grammar() == ("주차 위반", "상담원")  # unrouted and Polish-only ones left out


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("intents:\n  parking:\n    ko: 주차 위반\n", 2, "phrases must be a list"),
        ("intents:\n  parking:\n    ko: [주차, '']\n", 3, "empty phrase"),
        ("topics: {}\n", 1, "needs an `intents:` mapping"),
        ("intents:\n  parking: {pl: [x]}\n", 2, "no intent has phrases in language 'ko'"),
        ("intents: [\n", 2, "expected the node content"),
    ],
)
def test_broken_menu_intents_are_named_with_file_and_line(
    text: str, line: int, message: str
) -> None:
    with pytest.raises(IntentsError) as caught:
        parse_menu_intents(text, "config/menus/intents.yaml", "ko")
    assert str(caught.value).startswith(f"config/menus/intents.yaml:{line}:"), str(caught.value)
    assert message in str(caught.value)


def test_no_configured_model_means_no_recogniser(tmp_path: Path) -> None:
    config = tmp_path / "config" / "settings.yaml"
    config.parent.mkdir()
    config.write_text("speech:\n  models: {}\n", encoding="utf-8")
    assert create_recogniser(load_settings(config, environ={})) is None


async def ask(
    adapter: MenuSpeechRecogniser, script: CallerScript, recordings: Path, request_text: str | None
) -> tuple[HeardIntent | None, Seen]:
    seen = Seen()
    heard: list[HeardIntent] = []

    async def ivr(session: AGISession) -> None:
        channel = AGIChannelShape(session, recordings)
        request = Request(call_id=session.env.uniqueid, intents_text=request_text)
        heard.append(await adapter.recognise_intent(channel, request))

    await simulated_call(ivr, script, seen)
    return (heard[0] if heard else None), seen


@pytest.mark.slow
async def test_spoken_phrase_comes_back_as_the_routed_intent_and_the_recording_goes(
    recogniser: SpeechRecogniser, say: Callable[[str], Path], tmp_path: Path
) -> None:
    adapter = MenuSpeechRecogniser(recogniser, timeout=30)
    heard, seen = await ask(
        adapter, CallerScript(utterance=say("주차 위반")), tmp_path, MENU_INTENTS
    )
    assert heard is not None, seen.error
    assert heard.intent == "parking" and heard.transcript == "주차 위반"
    assert heard.confidence >= 0.6 and heard.reason is SpeechReason.RECOGNISED
    assert list((tmp_path / "speech").iterdir()) == []


@pytest.mark.slow
async def test_unusable_speech_gives_no_intent_and_a_log_line(
    recogniser: SpeechRecogniser,
    say: Callable[[str], Path],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    adapter = MenuSpeechRecogniser(recogniser, timeout=30)
    with caplog.at_level(logging.INFO, logger="ivr.speech"):
        heard, _ = await ask(
            adapter, CallerScript(utterance=say("고양이가 좋아요")), tmp_path, MENU_INTENTS
        )
        missing, _ = await ask(adapter, CallerScript(), tmp_path, None)
    assert heard is not None and heard.intent is None and heard.reason is SpeechReason.NO_MATCH
    assert "speech fallback to DTMF: step ask_topic: no_match: heard" in caplog.text
    assert missing is not None and missing.intent is None
    assert "speech fallback to DTMF: step ask_topic: intents file intents.yaml is missing" in (
        caplog.text
    )
