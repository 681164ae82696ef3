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
from kck.phone import TrunkDial
from kck.settings import Settings
from kck.yamlsource import SourcePos
from tests.ivr.agi_double import PeerHungUp, ScriptedAGISession

DOCUMENTS = Intent(
    id="documents",
    label="Dowód",
    phrases=("dowód",),
    next_step="queue_documents",
    skills=("id_cards",),
    kb_topic=None,
    confirm_prompt="pl/intent_documents",
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
        dial=TrunkDial(),
        hangup_errors=(PeerHungUp,),
    )


async def test_accepted_intent_passes_with_its_confidence_next_step_and_sound_paths(
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
        0.8,
        "queue_documents",
        "dowód",
    )
    assert not heard.confirmed
    [(_, _, config, call_id)] = service.step.calls
    sounds = tmp_path / "sounds"
    assert config.prompt == str(sounds / "pl" / "ask_topic") and call_id == "c1"
    # the step's own sounds and the intents' confirm prompts: where `kck prompts build` puts them
    assert config.sound(config.confirm_question, "pl") == str(sounds / "pl" / "speech_did_you_mean")
    assert config.sound(DOCUMENTS.confirm_prompt, "pl") == str(sounds / "pl" / "intent_documents")


async def test_intent_the_caller_confirmed_is_passed_on_as_confirmed(tmp_path: Path) -> None:
    service = Service(
        SpeechOutcome(
            SpeechOutcomeKind.INTENT,
            SpeechReason.RECOGNISED,
            intent=DOCUMENTS,
            transcript="dowód",
            confidence=0.5,
            confirmed=True,
        )
    )
    heard = await SpeechServiceRecogniser(service, tmp_path).recognise_intent(
        agi_channel(tmp_path), request()
    )
    assert (heard.intent, heard.confidence, heard.confirmed) == ("documents", 0.5, True)


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


async def test_speech_is_off_without_configured_models(settings: Settings) -> None:
    assert await start_speech(settings, Path("/nonexistent")) == (None, None)


async def test_the_recognition_timeout_is_the_speech_timeout_setting(tmp_path: Path) -> None:
    """`speech.timeout` was documented and never read: the step always waited 8 s."""
    service = Service(SpeechOutcome(SpeechOutcomeKind.FALLBACK, SpeechReason.NO_SPEECH))
    await SpeechServiceRecogniser(service, tmp_path, timeout_s=3.5).recognise_intent(
        agi_channel(tmp_path), request()
    )
    [(_, _, config, _)] = service.step.calls
    assert config.recognition_timeout == 3.5
