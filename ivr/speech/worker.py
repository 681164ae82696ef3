"""The recognition worker process: loads each language's vosk model once, decodes WAV files.

Runs inside a `ProcessPoolExecutor` (see `recogniser.py`); nothing here may run on the event loop.
Errors cross the process boundary, so they are plain exceptions whose only argument is the message.
"""

from __future__ import annotations

import json
import logging
import struct
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr.speech.matching import RecognisedWord

logger = logging.getLogger(__name__)

CHUNK_SECONDS = 0.25  # fed to vosk in pieces, as a live call would be

_model_paths: dict[str, Path] = {}
_models: dict[str, Any] = {}


class ModelUnavailable(Exception):
    """No usable vosk model for the language (not configured, folder missing, or failed to load)."""


class AudioUnreadable(Exception):
    """The recording is missing, not a WAV file, or not 16-bit mono PCM."""


@dataclass(frozen=True)
class Transcript:
    """What vosk heard in one recording, and how long the audio and the decoding took."""

    words: tuple[RecognisedWord, ...]
    text: str
    audio_seconds: float
    decode_seconds: float
    sample_rate: int


def init_worker(model_paths: dict[str, str], preload: tuple[str, ...] = ()) -> None:
    """Process-pool initializer: remember the model folders and load the `preload` languages."""
    import vosk

    vosk.SetLogLevel(-1)
    _model_paths.clear()
    _model_paths.update({lang: Path(path) for lang, path in model_paths.items()})
    _models.clear()
    for language in preload:
        try:
            _model(language)
        except ModelUnavailable as exc:
            # Reported again (and the call falls back to DTMF) when that language is asked for.
            logger.warning("speech worker: %s", exc)


def _model(language: str) -> Any:
    if language in _models:
        return _models[language]
    path = _model_paths.get(language)
    if path is None:
        raise ModelUnavailable(
            f"no vosk model configured for language {language!r} (setting speech.models.{language})"
        )
    if not (path / "am" / "final.mdl").is_file():
        raise ModelUnavailable(
            f"vosk model for {language!r} not found at {path} (expected {path}/am/final.mdl)"
        )
    import vosk

    try:
        model = vosk.Model(str(path))
    except Exception as exc:
        raise ModelUnavailable(
            f"vosk model for {language!r} at {path} failed to load: {exc}"
        ) from None
    _models[language] = model
    return model


def loaded_languages() -> tuple[str, ...]:
    """The languages whose model this worker process holds (used by health checks and tests)."""
    return tuple(_models)


def _read_wav(audio_path: str) -> tuple[bytes, int]:
    try:
        with wave.open(audio_path, "rb") as wav:
            if wav.getnchannels() != 1 or wav.getsampwidth() != 2:
                raise AudioUnreadable(
                    f"{audio_path}: {wav.getnchannels()} channel(s) of {wav.getsampwidth() * 8}-bit "
                    "audio; expected 16-bit mono PCM (Asterisk format 'wav')"
                )
            rate = wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except FileNotFoundError:
        raise AudioUnreadable(f"{audio_path}: recording not found") from None
    except (OSError, EOFError, RuntimeError, ValueError, struct.error, wave.Error) as exc:
        # wave raises RuntimeError (bad chunk seek) and struct.error (short header) on junk too.
        raise AudioUnreadable(
            f"{audio_path}: not a readable WAV file ({exc or type(exc).__name__})"
        ) from None
    if rate < 8000:
        raise AudioUnreadable(f"{audio_path}: sample rate {rate} Hz is below 8000 Hz")
    return frames, rate


def _words(result: dict[str, Any]) -> list[RecognisedWord]:
    return [
        RecognisedWord(
            word=str(item["word"]),
            confidence=float(item.get("conf", 0.0)),
            start=float(item.get("start", 0.0)),
            end=float(item.get("end", 0.0)),
        )
        for item in result.get("result", ())
    ]


def recognise_file(audio_path: str, language: str, grammar: tuple[str, ...] | None) -> Transcript:
    """Decode one recording with the language's model; `grammar` None means free-form."""
    model = _model(language)
    frames, rate = _read_wav(audio_path)
    import vosk

    started = time.perf_counter()
    if grammar is None:
        recogniser = vosk.KaldiRecognizer(model, rate)
    else:
        recogniser = vosk.KaldiRecognizer(
            model, rate, json.dumps(list(grammar), ensure_ascii=False)
        )
    recogniser.SetWords(True)
    words: list[RecognisedWord] = []
    step = int(rate * CHUNK_SECONDS) * 2
    for offset in range(0, len(frames), step):
        # True means vosk closed an utterance at a pause; its words are only in Result().
        if recogniser.AcceptWaveform(frames[offset : offset + step]):
            words.extend(_words(json.loads(recogniser.Result())))
    words.extend(_words(json.loads(recogniser.FinalResult())))
    decode_seconds = time.perf_counter() - started
    return Transcript(
        words=tuple(words),
        text=" ".join(w.word for w in words),
        audio_seconds=len(frames) / 2 / rate,
        decode_seconds=decode_seconds,
        sample_rate=rate,
    )


def read_only(audio_path: str) -> float:
    """Read and check a WAV as `recognise_file` does, without decoding: the benchmark baseline."""
    frames, rate = _read_wav(audio_path)
    return len(frames) / 2 / rate
