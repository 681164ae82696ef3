"""The speech step's seam to `ivr.speech`: its outcomes become the interpreter's intent results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ivr.agi_channel import AGIChannel
from ivr.channel import RenderedPrompt
from ivr.scripted_channel import ScriptedChannel
from ivr.speech import Intent, SpeechOutcome, SpeechOutcomeKind, SpeechReason
from ivr.speech_adapter import SpeechServiceRecogniser, start_speech
from ivr.speech_port import SpeechRequest
from kck.yamlsource import SourcePos
from tests.ivr.agi_double import PeerHungUp, ScriptedAGISession

DOCUMENTS = Intent(
    id="documents",
    label="Dowód",
    phrases=("dowód",),
    next_step="queue_documents",
    skills=("id_cards",),
    kb_topic=None,
    confirm_prompt="pl/kck/intent-documents",
    source=SourcePos("pl.yaml", 1, 1),
)


class StepRunner:
    """Stands in for ivr.speech.SpeechStep (which needs vosk models): returns a set outcome."""

    def __init__(self, outcome: SpeechOutcome) -> None:
        self.outcome = outcome
        self.calls: list[tuple[Any, Any, Any, str]] = []

    async def run(self, session: Any, intents: Any, config: Any, *, call_id: str) -> SpeechOutcome:
        self.calls.append((session, intents, config, call_id))
        return self.outcome


class Service:
    def __init__(self, outcome: SpeechOutcome) -> None:
        self.step = StepRunner(outcome)
        self.intents = {"pl": object()}


def request(language: str = "pl") -> SpeechRequest:
    prompt = RenderedPrompt("ask_topic", language, f"{language}/ask_topic", "Powiedz…")
    return SpeechRequest(
        "c1", "ask_topic", prompt, language, "intents.yaml", None, ("documents",), 0.6, 6
    )


def agi_channel(tmp_path: Path) -> AGIChannel:
    return AGIChannel(
        ScriptedAGISession([]),
        sounds_dir=tmp_path / "sounds",
        recordings_dir=tmp_path,
        hangup_errors=(PeerHungUp,),
    )


async def test_accepted_intent_passes_with_its_next_step_and_the_prompt_path(
    tmp_path: Path,
) -> None:
    service = Service(
        SpeechOutcome(
            SpeechOutcomeKind.INTENT,
            SpeechReason.RECOGNISED,
            intent=DOCUMENTS,
            transcript="dowód",
            confidence=0.8,
        )
    )
    heard = await SpeechServiceRecogniser(service, tmp_path / "sounds").recognise_intent(
        agi_channel(tmp_path), request()
    )
    assert (heard.intent, heard.confidence, heard.next_step, heard.transcript) == (
        "documents",
        1.0,
        "queue_documents",
        "dowód",
    )
    [(_, _, config, call_id)] = service.step.calls
    assert config.prompt == str(tmp_path / "sounds" / "pl" / "ask_topic") and call_id == "c1"


async def test_key_pressed_instead_of_speaking_is_passed_on(tmp_path: Path) -> None:
    service = Service(SpeechOutcome(SpeechOutcomeKind.DIGIT, SpeechReason.NO_SPEECH, digit="5"))
    heard = await SpeechServiceRecogniser(service, tmp_path).recognise_intent(
        agi_channel(tmp_path), request()
    )
    assert heard.digit == "5" and heard.intent is None


async def test_no_recognition_for_a_terminal_call_or_a_language_without_intents(
    tmp_path: Path,
) -> None:
    service = Service(SpeechOutcome(SpeechOutcomeKind.FALLBACK, SpeechReason.NO_MATCH))
    recogniser = SpeechServiceRecogniser(service, tmp_path)
    assert (await recogniser.recognise_intent(ScriptedChannel(), request())).intent is None
    assert (await recogniser.recognise_intent(agi_channel(tmp_path), request("uk"))).intent is None
    assert service.step.calls == []


async def test_speech_is_off_without_configured_models(settings) -> None:  # type: ignore[no-untyped-def]
    assert await start_speech(settings, Path("/nonexistent")) == (None, None)
