"""The IVR's `speech` step over AGI: prompt, RECORD FILE, recognise, confirm, or fall back to DTMF."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol

from asterisk.agi import AGICommandError
from ivr.speech.intents import Intent, IntentSet
from ivr.speech.recogniser import SpeechReason, SpeechRecogniser, SpeechResult

logger = logging.getLogger(__name__)


class RecordOutcome(Protocol):
    """What `AGISession.record_file` returns (asterisk.agi.RecordResult)."""

    @property
    def digit(self) -> str | None: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def endpos(self) -> int | None: ...


class DigitsOutcome(Protocol):
    """What `AGISession.get_data` returns (asterisk.agi.DigitsResult)."""

    @property
    def digits(self) -> str: ...
    @property
    def timed_out(self) -> bool: ...


class SpeechSession(Protocol):
    """The part of `asterisk.agi.AGISession` the speech step uses. Any call may raise
    CallerHungUp, which the step lets through to the interpreter; AGICommandError from
    RECORD FILE is a fallback, from the other commands it passes through too."""

    async def stream_file(self, sound: str, escape_digits: str = "") -> str | None: ...

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> DigitsOutcome: ...

    async def record_file(
        self,
        path_no_ext: str,
        fmt: str,
        escape_digits: str,
        timeout_ms: int,
        *,
        beep: bool = True,
        silence_s: int | None = None,
    ) -> RecordOutcome: ...


@dataclass(frozen=True)
class SpeechStepConfig:
    """One speech step as the menu describes it (sound names as STREAM FILE takes them)."""

    prompt: str  # "say in a few words what you are calling about"
    # Sound names as in config/menus/prompts.yaml: <language>/<name>; {lang} is the call's language.
    confirm_question: str = "{lang}/speech_did_you_mean"  # "did you mean…", then the intent's
    confirm_keys: str = "{lang}/speech_press_1_to_confirm"  # "press 1 if so"
    confirm_digit: str = "1"
    confirm_timeout_ms: int = 5000
    max_seconds: int = 8  # longest answer recorded
    silence_seconds: int = 2  # the caller has finished after this much silence
    beep: bool = True
    escape_digits: str = "0123456789*#"  # a key during prompt or recording = DTMF menu choice
    recognition_timeout: float = 8.0
    attempts: int = 2  # a caller who was not understood may say it again once
    # Joined before every relative sound name above and the intents' confirm prompts
    # (e.g. the sounds folder, when the menu plays sounds by absolute path).
    sounds_prefix: str = ""
    retry_prompt: str = "{lang}/speech_please_repeat"  # "nie zrozumiałem, proszę powtórzyć"

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")

    def sound(self, name: str, language: str) -> str:
        """The name STREAM FILE gets: {lang} filled in, under `sounds_prefix` unless absolute."""
        name = name.replace("{lang}", language)
        if not self.sounds_prefix or name.startswith("/"):
            return name
        return f"{self.sounds_prefix.rstrip('/')}/{name}"


# The caller's answer was not usable; a system failure (model, file, worker) would fail again.
_ASK_AGAIN = frozenset({SpeechReason.NO_SPEECH, SpeechReason.NO_MATCH, SpeechReason.LOW_CONFIDENCE})


class SpeechOutcomeKind(Enum):
    INTENT = "intent"  # go to intent.next_step
    DIGIT = "digit"  # the caller pressed a key: treat it as a choice in the DTMF fallback menu
    FALLBACK = "fallback"  # go to the DTMF fallback menu


@dataclass(frozen=True)
class SpeechOutcome:
    """What the interpreter acts on; `transcript`, `intent` and `confidence` go into the call
    record and the routing request (screen-pop)."""

    kind: SpeechOutcomeKind
    reason: SpeechReason
    intent: Intent | None = None
    digit: str | None = None
    transcript: str = ""
    confidence: float = 0.0
    confirmed: bool = False  # the caller pressed the confirm digit
    detail: str = ""
    recording: Path | None = None

    @property
    def next_step(self) -> str | None:
        return self.intent.next_step if self.intent is not None else None


class SpeechStep:
    """Runs speech steps for calls; one per process, sharing the recogniser's workers."""

    def __init__(
        self,
        recogniser: SpeechRecogniser,
        recordings: Path,
        *,
        asterisk_recordings: Path | None = None,
        keep_recordings: bool = False,
    ) -> None:
        self._recogniser = recogniser
        self._recordings = recordings
        self._asterisk_recordings = asterisk_recordings or recordings
        self._keep = keep_recordings

    async def run(
        self, session: SpeechSession, intents: IntentSet, config: SpeechStepConfig, *, call_id: str
    ) -> SpeechOutcome:
        """Prompt, record, recognise, confirm. Never raises except CallerHungUp (and AGI
        errors from the session): every other failure is a FALLBACK outcome with a log line."""
        prompt = config.sound(config.prompt, intents.language)
        for attempt in range(1, config.attempts + 1):
            digit = await session.stream_file(prompt, config.escape_digits)
            if digit:
                return self._digit(digit, "during the prompt")
            name = recording_name(call_id)
            local = self._recordings / f"{name}.wav"
            await asyncio.to_thread(self._recordings.mkdir, parents=True, exist_ok=True)
            try:
                recorded = await session.record_file(
                    str(self._asterisk_recordings / name),
                    "wav",
                    config.escape_digits,
                    config.max_seconds * 1000,
                    beep=config.beep,
                    silence_s=config.silence_seconds,
                )
            except AGICommandError as exc:
                # e.g. "200 result=-1 (writefile)": Asterisk cannot write the recordings folder.
                detail = f"{exc} (can Asterisk write {self._asterisk_recordings}?)"
                logger.warning("speech fallback to DTMF: recording_failed: %s", detail)
                return SpeechOutcome(
                    SpeechOutcomeKind.FALLBACK, SpeechReason.RECORDING_FAILED, detail=detail
                )
            if recorded.digit:
                await self._discard(local)
                return self._digit(recorded.digit, "during the recording")
            try:
                result = await self._recogniser.recognise_intent(
                    local, intents.language, intents, timeout=config.recognition_timeout
                )
            finally:
                await self._discard(local)
            if result.reason in _ASK_AGAIN and attempt < config.attempts:
                logger.info(
                    "speech: %s (%s); asking again (attempt %d of %d)",
                    result.reason.value,
                    result.detail,
                    attempt + 1,
                    config.attempts,
                )
                prompt = config.sound(config.retry_prompt, intents.language)
                continue
            return await self._decide(session, result, config, local, intents.language)
        raise AssertionError("unreachable: the last attempt always decides")

    async def _decide(
        self,
        session: SpeechSession,
        result: SpeechResult,
        config: SpeechStepConfig,
        local: Path,
        language: str,
    ) -> SpeechOutcome:
        recording = local if self._keep else None
        intent = result.intent
        if intent is None or not (result.accepted or result.needs_confirmation):
            logger.warning("speech fallback to DTMF: %s: %s", result.reason.value, result.detail)
            return SpeechOutcome(
                SpeechOutcomeKind.FALLBACK,
                result.reason,
                transcript=result.transcript,
                confidence=result.confidence,
                detail=result.detail,
                recording=recording,
            )
        confirmed = False
        if not result.accepted:  # an unsure match counts only once the caller confirms it
            await session.stream_file(config.sound(config.confirm_question, language))
            await session.stream_file(config.sound(intent.confirm_prompt, language))
            answer = await session.get_data(
                config.sound(config.confirm_keys, language), config.confirm_timeout_ms, 1
            )
            if answer.digits != config.confirm_digit:
                said = (
                    "no key" if answer.timed_out or not answer.digits else f"key {answer.digits!r}"
                )
                logger.warning(
                    "speech fallback to DTMF: caller did not confirm intent %s (%s; heard %r)",
                    intent.id,
                    said,
                    result.transcript,
                )
                return SpeechOutcome(
                    SpeechOutcomeKind.FALLBACK,
                    result.reason,
                    transcript=result.transcript,
                    confidence=result.confidence,
                    detail=f"not confirmed ({said})",
                    recording=recording,
                )
            confirmed = True
        logger.info(
            "speech: intent %s%s (confidence %.2f, heard %r)",
            intent.id,
            " confirmed by the caller" if confirmed else "",
            result.confidence,
            result.transcript,
        )
        return SpeechOutcome(
            SpeechOutcomeKind.INTENT,
            result.reason,
            intent=intent,
            transcript=result.transcript,
            confidence=result.confidence,
            confirmed=confirmed,
            recording=recording,
        )

    def _digit(self, digit: str, when: str) -> SpeechOutcome:
        logger.info("speech: caller pressed %s %s; using the DTMF menu", digit, when)
        return SpeechOutcome(
            SpeechOutcomeKind.DIGIT, SpeechReason.NO_SPEECH, digit=digit, detail=f"key {when}"
        )

    async def _discard(self, local: Path) -> None:
        if not self._keep:
            await asyncio.to_thread(local.unlink, missing_ok=True)


def recording_name(call_id: str) -> str:
    """A fresh file name (no extension) for one answer: the call id made file-safe (Asterisk
    uniqueids look like 1732451234.17) and a random suffix, as a step may run twice in a call."""
    cleaned = "".join(ch if ch.isalnum() or ch in ".-_" else "_" for ch in call_id)
    return f"{cleaned.strip('.') or 'call'}-{uuid.uuid4().hex[:8]}"
