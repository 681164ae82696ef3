"""Adapter for the interpreter's speech seam (`ivr.speech_port`): `create_recogniser()` and
`recognise_intent(channel, request)`, with the intents written in the menu folder.

The menu's intents file lists phrases per language (`intents: {name: {pl: [...], en: [...]}}`)
and the menu step routes intent names to steps and holds the confidence threshold; this adapter
plays the prompt on the interpreter's channel, records, recognises in the worker and returns the
best intent with its confidence. It asks no "did you mean" question (the channel port has no
sounds for one): `SpeechStep` over an AGI session does that.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ivr.speech.intents import (
    Intent,
    IntentsError,
    IntentSet,
    Thresholds,
    normalise_phrase,
)
from ivr.speech.recogniser import SpeechReason, SpeechRecogniser
from ivr.speech.step import recording_name
from kck.settings import Settings, load_settings
from kck.yamlsource import PosDict, PosList, SourcePos, YAMLSourceError, parse_yaml

logger = logging.getLogger(__name__)


class RecordingLike(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def ended_by(self) -> str: ...


class ChannelLike(Protocol):
    """The part of `ivr.channel.Channel` used here."""

    async def play(self, prompt: Any, *, interruptible: bool = False) -> str | None: ...
    async def record(self, name: str, *, max_seconds: int) -> RecordingLike: ...


class SpeechRequestLike(Protocol):
    """`ivr.speech_port.SpeechRequest`."""

    @property
    def call_id(self) -> str: ...
    @property
    def step_id(self) -> str: ...
    @property
    def prompt(self) -> Any: ...
    @property
    def language(self) -> str: ...
    @property
    def intents_file(self) -> str: ...
    @property
    def intents_text(self) -> str | None: ...
    @property
    def intents(self) -> tuple[str, ...]: ...
    @property
    def confidence(self) -> float: ...
    @property
    def max_seconds(self) -> int: ...


@dataclass(frozen=True)
class HeardIntent:
    """`ivr.speech_port.IntentResult` plus why (for the log and the call record)."""

    intent: str | None
    confidence: float
    transcript: str | None
    reason: SpeechReason = SpeechReason.NO_MATCH


def parse_menu_intents(
    text: str, file: str, language: str, *, routed: tuple[str, ...] = (), threshold: float = 0.6
) -> IntentSet:
    """The menu folder's intents file as one language's IntentSet (IntentsError with file:line).

    Intents the step does not route are left out, so the grammar holds only what can be used."""
    try:
        document = parse_yaml(text, file)
    except YAMLSourceError as exc:
        raise IntentsError(exc.pos, exc.reason) from None
    node = document.get("intents") if isinstance(document, PosDict) else None
    if not isinstance(node, PosDict):
        where = document.pos if isinstance(document, PosDict) else SourcePos(file, 1, 1)
        raise IntentsError(where, "an intents file needs an `intents:` mapping")
    intents = []
    for name, value in node.items():
        if routed and name not in routed:
            continue
        raw = value.get(language) if isinstance(value, PosDict) else value
        if raw is None:
            continue  # no phrases in this language: the intent cannot be said in it
        if not isinstance(raw, PosList):
            raise IntentsError(node.where(name), f"intent {name!r}: phrases must be a list")
        phrases: dict[str, SourcePos] = {}
        for index, item in enumerate(raw):
            phrase = normalise_phrase(str(item)) if item is not None else ""
            if not phrase:
                raise IntentsError(raw.where(index), f"intent {name!r}: empty phrase")
            phrases.setdefault(phrase, raw.where(index))
        intents.append(
            Intent(
                id=name,
                label=name,
                phrases=tuple(phrases),
                next_step=name,  # the menu step's `routes` map it to a step
                skills=(),
                kb_topic=None,
                confirm_prompt="",
                source=node.where(name),
                phrase_sources=tuple(phrases.values()),
            )
        )
    if not intents:
        raise IntentsError(node.pos, f"no intent has phrases in language {language!r}")
    return IntentSet(
        language=language,
        intents=tuple(intents),
        thresholds=Thresholds(accept=threshold, confirm=threshold),
        free_form=False,
        source=file,
    )


class MenuSpeechRecogniser:
    """What `ivr.speech_port.installed_recogniser()` returns: one per process."""

    def __init__(
        self, recogniser: SpeechRecogniser, *, timeout: float, keep_recordings: bool = False
    ) -> None:
        self.recogniser = recogniser
        self.timeout = timeout
        self.keep_recordings = keep_recordings

    async def recognise_intent(
        self, channel: ChannelLike, request: SpeechRequestLike
    ) -> HeardIntent:
        """Play, record, recognise. Bad intents text, silence, a missing model, corrupt audio
        and the deadline all give `intent=None` with a log line; CallerHungUp passes through."""
        if request.intents_text is None:
            logger.warning(
                "speech fallback to DTMF: step %s: intents file %s is missing",
                request.step_id,
                request.intents_file,
            )
            return HeardIntent(None, 0.0, None, SpeechReason.NO_MATCH)
        try:
            intents = parse_menu_intents(
                request.intents_text,
                request.intents_file,
                request.language,
                routed=request.intents,
                threshold=request.confidence,
            )
        except IntentsError as exc:
            logger.warning("speech fallback to DTMF: step %s: %s", request.step_id, exc)
            return HeardIntent(None, 0.0, None, SpeechReason.NO_MATCH)
        await channel.play(request.prompt)
        name = f"speech/{recording_name(request.call_id)}"
        recording = await channel.record(name, max_seconds=request.max_seconds)
        path = Path(recording.path)
        try:
            if recording.ended_by == "dtmf":
                logger.info("speech: step %s: caller pressed a key; DTMF menu", request.step_id)
                return HeardIntent(None, 0.0, None, SpeechReason.NO_SPEECH)
            result = await self.recogniser.recognise_intent(
                path, request.language, intents, timeout=self.timeout
            )
        finally:
            if not self.keep_recordings:
                await asyncio.to_thread(path.unlink, missing_ok=True)
        if result.intent is None:
            logger.warning(
                "speech fallback to DTMF: step %s: %s: %s",
                request.step_id,
                result.reason.value,
                result.detail,
            )
            return HeardIntent(None, result.confidence, result.transcript or None, result.reason)
        logger.info(
            "speech: step %s: intent %s (confidence %.2f, heard %r)",
            request.step_id,
            result.intent.id,
            result.confidence,
            result.transcript,
        )
        return HeardIntent(result.intent.id, result.confidence, result.transcript, result.reason)


def create_recogniser(settings: Settings | None = None) -> MenuSpeechRecogniser | None:
    """None when no vosk model is configured (the interpreter then uses the DTMF fallback).

    Starts the worker processes at once; they load the models in the background."""
    settings = settings or load_settings()
    speech = settings.speech
    if not speech.models:
        logger.info("speech: no vosk model configured (speech.models); speech steps use DTMF")
        return None
    recogniser = SpeechRecogniser(
        {lang: settings.path(path) for lang, path in speech.models.items()},
        workers=speech.workers,
    )
    recogniser.warm_up()
    return MenuSpeechRecogniser(
        recogniser, timeout=speech.timeout, keep_recordings=speech.keep_recordings
    )
