"""The event loop's side of recognition: a worker pool, a deadline, and a typed result."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from ivr.speech.intents import Intent, IntentSet
from ivr.speech.matching import MatchVerdict, RecognisedWord, match_intent
from ivr.speech.worker import (
    AudioUnreadable,
    ModelUnavailable,
    Transcript,
    init_worker,
    loaded_languages,
    recognise_file,
)

logger = logging.getLogger(__name__)


class SpeechReason(Enum):
    """Why recognition gave the intent it gave, or none."""

    RECOGNISED = "recognised"
    NEEDS_CONFIRMATION = "needs_confirmation"
    NO_SPEECH = "no_speech"
    NO_MATCH = "no_match"
    LOW_CONFIDENCE = "low_confidence"
    MODEL_MISSING = "model_missing"
    CORRUPT_AUDIO = "corrupt_audio"
    TIMEOUT = "timeout"
    BUSY = "busy"  # every worker has a backlog: answering at once beats queueing
    RECORDING_FAILED = "recording_failed"  # Asterisk could not record (RECORD FILE failed)
    WORKER_FAILED = "worker_failed"


_VERDICT_REASON = {
    MatchVerdict.ACCEPTED: SpeechReason.RECOGNISED,
    MatchVerdict.CONFIRM: SpeechReason.NEEDS_CONFIRMATION,
    MatchVerdict.NO_SPEECH: SpeechReason.NO_SPEECH,
    MatchVerdict.NO_MATCH: SpeechReason.NO_MATCH,
    MatchVerdict.LOW_CONFIDENCE: SpeechReason.LOW_CONFIDENCE,
}


@dataclass(frozen=True)
class SpeechResult:
    """One recording's outcome. `intent` is set for RECOGNISED and NEEDS_CONFIRMATION only."""

    intent: Intent | None
    transcript: str
    confidence: float
    needs_confirmation: bool
    reason: SpeechReason
    detail: str = ""  # for the log: the error, or what was heard
    words: tuple[RecognisedWord, ...] = ()
    audio_seconds: float = 0.0
    decode_seconds: float = 0.0

    @property
    def accepted(self) -> bool:
        return self.reason is SpeechReason.RECOGNISED


def _failure(reason: SpeechReason, detail: str) -> SpeechResult:
    return SpeechResult(None, "", 0.0, False, reason, detail)


class WorkersBusy(Exception):
    """More recordings wait for the workers than `max_pending`; the caller gets DTMF at once."""


class SpeechRecogniser:
    """Owns the recognition worker processes; each loads its models once, at start."""

    def __init__(
        self,
        models: Mapping[str, Path],
        *,
        workers: int = 1,
        preload: bool = True,
        max_pending: int | None = None,
    ) -> None:
        self._models = {lang: str(path) for lang, path in models.items()}
        self._workers = workers
        self._preload = tuple(self._models) if preload else ()
        self._pool: ProcessPoolExecutor | None = None
        # A recording waiting behind others would miss its deadline anyway.
        self._max_pending = max_pending if max_pending is not None else 4 * workers
        self._in_flight: set[Future[Transcript]] = set()
        self._loaded: tuple[str, ...] = ()

    def health(self) -> dict[str, object]:
        """For /health: up once started, the languages with a loaded model, the backlog."""
        return {
            "up": self._pool is not None,
            "languages": list(self._loaded),
            "workers": self.worker_pids(),
            "pending": self.pending,
        }

    def worker_pids(self) -> list[int]:
        """Process ids of the live worker processes."""
        processes = getattr(self._pool, "_processes", None) or {}
        return sorted(pid for pid, proc in processes.items() if proc.is_alive())

    @property
    def pending(self) -> int:
        """Recordings submitted to the workers and not finished (queued or decoding)."""
        return len(self._in_flight)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._models)

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn, not fork: the parent runs an event loop and threads that a fork would copy.
        return ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_worker,
            initargs=(self._models, self._preload),
        )

    async def start(self) -> tuple[str, ...]:
        """Start the workers and wait until they have loaded the models; the loaded languages."""
        if self._pool is None:
            self._pool = self._new_pool()
        loop = asyncio.get_running_loop()
        loaded = await loop.run_in_executor(self._pool, loaded_languages)
        self._loaded = loaded
        missing = sorted(set(self._preload) - set(loaded))
        if missing:
            logger.warning("speech: no usable model for %s; those callers get DTMF menus", missing)
        return loaded

    async def stop(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.get_running_loop().run_in_executor(
                None, lambda: pool.shutdown(wait=True, cancel_futures=True)
            )

    async def transcribe(
        self, audio_path: Path, language: str, grammar: tuple[str, ...] | None, *, timeout: float
    ) -> Transcript:
        """Raw recognition in a worker; raises ModelUnavailable, AudioUnreadable, TimeoutError."""
        if self._pool is None:
            self._pool = self._new_pool()
        if len(self._in_flight) >= self._max_pending:
            raise WorkersBusy(
                f"{len(self._in_flight)} recordings already wait for {self._workers} worker(s)"
            )
        try:
            job = self._pool.submit(recognise_file, str(audio_path), language, grammar)
        except BrokenProcessPool:
            # A worker died before this call (killed, out of memory): fresh workers next time.
            self._pool = None
            raise
        self._in_flight.add(job)
        job.add_done_callback(self._in_flight.discard)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(job), timeout)
        except TimeoutError:
            job.cancel()  # drops it if still queued; a running decode finishes on its own
            raise
        except BrokenProcessPool:
            # The worker died during this call: the next call gets fresh workers.
            self._pool = None
            raise

    async def recognise_intent(
        self, audio_path: Path, language: str, intents: IntentSet, *, timeout: float
    ) -> SpeechResult:
        """Recognise the caller's answer and map it to one of `intents`. Never raises for bad
        input, a missing model, a dead worker or the deadline: the result's reason says what
        happened, and the caller falls back to DTMF."""
        grammar = None if intents.free_form else intents.grammar()
        try:
            transcript = await self.transcribe(audio_path, language, grammar, timeout=timeout)
        except TimeoutError:
            return _failure(
                SpeechReason.TIMEOUT, f"no result for {audio_path} within {timeout:g} s"
            )
        except WorkersBusy as exc:
            return _failure(SpeechReason.BUSY, str(exc))
        except ModelUnavailable as exc:
            return _failure(SpeechReason.MODEL_MISSING, str(exc))
        except AudioUnreadable as exc:
            return _failure(SpeechReason.CORRUPT_AUDIO, str(exc))
        except (BrokenProcessPool, OSError, RuntimeError) as exc:
            return _failure(SpeechReason.WORKER_FAILED, f"{type(exc).__name__}: {exc}")
        match = match_intent(transcript.words, intents)
        reason = _VERDICT_REASON[match.verdict]
        detail = f"heard {transcript.text!r}" if transcript.text else "heard nothing"
        return SpeechResult(
            intent=match.intent
            if match.verdict in (MatchVerdict.ACCEPTED, MatchVerdict.CONFIRM)
            else None,
            transcript=transcript.text,
            confidence=match.confidence,
            needs_confirmation=match.verdict is MatchVerdict.CONFIRM,
            reason=reason,
            detail=detail,
            words=transcript.words,
            audio_seconds=transcript.audio_seconds,
            decode_seconds=transcript.decode_seconds,
        )
