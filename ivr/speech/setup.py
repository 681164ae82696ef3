"""Builds the speech step from settings: intents per language, the recogniser and its workers."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from ivr.speech.intents import IntentSet, load_intents
from ivr.speech.recogniser import SpeechRecogniser
from ivr.speech.step import SpeechStep
from ivr.speech.vocabulary import VocabularyError, missing_words, read_model_vocabulary
from kck.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpeechService:
    """What the interpreter needs for speech steps: the step runner and the intents by language."""

    step: SpeechStep
    recogniser: SpeechRecogniser
    intents: dict[str, IntentSet]
    models: dict[str, Path]

    async def start(self) -> tuple[str, ...]:
        """Load the models in the workers, then check the intents against their vocabularies."""
        loaded = await self.recogniser.start()
        await self.check_vocabulary(loaded)
        return loaded

    async def check_vocabulary(self, languages: tuple[str, ...]) -> int:
        """Log every intent word a model cannot recognise (vosk would silently drop it)."""
        count = 0
        for language in languages:
            intents = self.intents.get(language)
            model = self.models.get(language)
            if intents is None or model is None:
                continue
            try:
                vocabulary = await asyncio.to_thread(read_model_vocabulary, model)
            except VocabularyError as exc:
                logger.warning("speech: %s", exc)
                continue
            for word in missing_words(intents, vocabulary):
                count += 1
                logger.warning("speech: %s; phrases with it can never be recognised", word)
        return count

    async def stop(self) -> None:
        await self.recogniser.stop()


async def create_speech_service(settings: Settings) -> SpeechService:
    """Load and validate the intents (IntentsError names file:line) and prepare the workers.

    Call `start()` to load the models (seconds, in the worker processes, off the event loop)."""
    speech = settings.speech
    intents = await asyncio.to_thread(load_intents, settings.path(speech.intents))
    models = {lang: settings.path(path) for lang, path in speech.models.items()}
    recogniser = SpeechRecogniser(models, workers=speech.workers)
    step = SpeechStep(
        recogniser,
        settings.path(speech.recordings),
        asterisk_recordings=speech.asterisk_recordings,
        keep_recordings=speech.keep_recordings,
    )
    return SpeechService(step=step, recogniser=recogniser, intents=intents, models=models)
