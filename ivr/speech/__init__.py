"""Speech in the IVR: intents per language, offline recognition with vosk in worker processes,
and the `speech` step (prompt → RECORD FILE → intent → confirm, or DTMF fallback)."""

from ivr.speech.intents import (
    Intent,
    IntentsError,
    IntentSet,
    Thresholds,
    load_intent_file,
    load_intents,
    normalise_phrase,
    parse_intents,
)
from ivr.speech.matching import IntentMatch, MatchVerdict, RecognisedWord, match_intent
from ivr.speech.recogniser import SpeechReason, SpeechRecogniser, SpeechResult
from ivr.speech.setup import SpeechService, create_speech_service
from ivr.speech.step import (
    SpeechOutcome,
    SpeechOutcomeKind,
    SpeechSession,
    SpeechStep,
    SpeechStepConfig,
    recording_name,
)
from ivr.speech.worker import AudioUnreadable, ModelUnavailable, Transcript

__all__ = [
    "AudioUnreadable",
    "Intent",
    "IntentMatch",
    "IntentSet",
    "IntentsError",
    "MatchVerdict",
    "ModelUnavailable",
    "RecognisedWord",
    "SpeechOutcome",
    "SpeechOutcomeKind",
    "SpeechReason",
    "SpeechRecogniser",
    "SpeechResult",
    "SpeechService",
    "SpeechSession",
    "SpeechStep",
    "SpeechStepConfig",
    "Thresholds",
    "Transcript",
    "create_speech_service",
    "load_intent_file",
    "load_intents",
    "match_intent",
    "normalise_phrase",
    "parse_intents",
    "recording_name",
]
