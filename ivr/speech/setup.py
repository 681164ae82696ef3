"""Builds the speech step from settings: intents per language, the recogniser and its workers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ivr.speech.intents import IntentSet, load_intents
from ivr.speech.recogniser import SpeechRecogniser
from ivr.speech.step import SpeechStep
from kck.settings import Settings


@dataclass(frozen=True)
class SpeechService:
    """What the interpreter needs for speech steps: the step runner and the intents by language."""

    step: SpeechStep
    recogniser: SpeechRecogniser
    intents: dict[str, IntentSet]

    async def start(self) -> tuple[str, ...]:
        return await self.recogniser.start()

    async def stop(self) -> None:
        await self.recogniser.stop()


async def create_speech_service(settings: Settings) -> SpeechService:
    """Load and validate the intents (IntentsError names file:line) and prepare the workers.

    Call `start()` to load the models (seconds, in the worker processes, off the event loop)."""
    speech = settings.speech
    intents = await asyncio.to_thread(load_intents, settings.path(speech.intents))
    recogniser = SpeechRecogniser(
        {lang: settings.path(path) for lang, path in speech.models.items()},
        workers=speech.workers,
    )
    step = SpeechStep(
        recogniser,
        settings.path(speech.recordings),
        asterisk_recordings=speech.asterisk_recordings,
        keep_recordings=speech.keep_recordings,
    )
    return SpeechService(step=step, recogniser=recogniser, intents=intents)
