"""The seam to speech recognition: the `speech` step calls an IntentRecogniser if one is installed.

`ivr.speech` (built separately) provides `recognise_intent(channel, request) -> IntentResult`.
Until it exists the step plays no speech part and goes to its DTMF `fallback`, saying so in the log.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Protocol, cast

from ivr.channel import Channel, RenderedPrompt

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpeechRequest:
    """What one speech step asks for: play the prompt, listen, match against the intents file."""

    call_id: str
    step_id: str
    prompt: RenderedPrompt
    language: str
    intents_file: str  # name as written in the menu
    intents_text: str | None  # that file's text in the call's menu version (None if missing)
    intents: tuple[str, ...]  # intent names the step routes
    confidence: float  # threshold the step accepts
    max_seconds: int


@dataclass(frozen=True)
class IntentResult:
    """What was heard: an intent (with the step its definition names), or a key pressed instead."""

    intent: str | None
    confidence: float
    transcript: str | None
    next_step: str | None = None
    digit: str | None = None


class IntentRecogniser(Protocol):
    async def recognise_intent(self, channel: Channel, request: SpeechRequest) -> IntentResult: ...


def installed_recogniser() -> IntentRecogniser | None:
    """A module-level recogniser (`ivr.speech.recognise_intent` / `create_recogniser`) if any.

    The runtime component builds the real one from settings (see ivr.speech_adapter); this hook
    serves recognisers that need no settings."""
    return _module_recogniser()


def _module_recogniser() -> IntentRecogniser | None:
    """The recogniser from `ivr.speech` when that package provides one, else None."""
    try:
        module = importlib.import_module("ivr.speech")
    except ImportError:
        return None
    factory = getattr(module, "create_recogniser", None)
    if callable(factory):
        recogniser: IntentRecogniser | None = factory()
        return recogniser
    if hasattr(module, "recognise_intent"):
        return cast(IntentRecogniser, module)  # a module with the function is a recogniser
    return None
