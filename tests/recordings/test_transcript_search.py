"""Transcripts are found through a full-text index with the knowledge base's Polish terms, on
SQLite (FTS5) and PostgreSQL (tsvector/GIN): any transcript of any age, not only the newest
ones, by an inflected word; transcripts stored before the index existed are indexed by the
worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from kb import PolishAnalyzer, polish_analyzer
from kck.clock import ManualClock
from kck.db import session_factory
from kck.db.models import Role
from recordings.access import Listener, RecordingAccess
from recordings.transcription import TranscriptionWorker, TranscriptRow
from tests.recordings.conftest import stored_recording

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
BOSS = Listener("boss", Role.SUPERVISOR.value)
NEWER = 250  # more than the page's 200 newest


class NoAudio:
    async def transcribe(self, path: Path, language: str) -> object:
        raise AssertionError("nothing is transcribed in these tests")

    async def stop(self) -> None:
        return None


async def loaded() -> PolishAnalyzer:
    return polish_analyzer()


async def test_a_transcript_older_than_the_newest_200_is_found_by_an_inflected_word(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    sessions = session_factory(engine)
    analyzer = polish_analyzer()
    said = {"old": "chciałbym zgłosić dziurę w jezdni na ulicy Długiej"}
    said |= {f"new{i:03d}": f"pytanie o podatek od nieruchomości numer {i}" for i in range(NEWER)}
    async with sessions() as db, db.begin():
        for n, (call_id, text) in enumerate(sorted(said.items(), key=lambda kv: kv[0] != "old")):
            # "old" first and a year before the others
            started = NOW - timedelta(days=365) if call_id == "old" else NOW - timedelta(hours=n)
            db.add(stored_recording(call_id, f"x/{call_id}.wav", started))
            terms = analyzer.index_text(text) if call_id != "new000" else ""
            db.add(
                TranscriptRow(
                    call_id=call_id,
                    language="pl",
                    state="done",
                    text=text,
                    words=[],
                    terms=terms,
                    created_at=started,
                )
            )
    access = RecordingAccess(sessions, None, "t", tmp_path, ManualClock(NOW))  # type: ignore[arg-type]

    async def found(query: str) -> set[str]:
        rows = await access.visible(BOSS, words=analyzer.query_groups(query))
        return {r.call_id for r in rows}

    assert await found("dziura ulica") == {"old"}  # dziurę, ulicy
    assert await found("dziury na ulicach") == {"old"}
    assert await found("dziura podatek") == set()  # every word must be there
    assert await found("w na") == set()  # stopwords only: nothing, not everything
    assert "new000" not in await found("nieruchomość")  # stored without terms: not yet indexed

    worker = TranscriptionWorker(sessions, NoAudio(), tmp_path, ManualClock(NOW), terms=loaded)  # type: ignore[arg-type]
    assert await worker.index_unindexed() == 1
    assert await worker.index_unindexed() == 0
    matching = await found("nieruchomość")
    assert "new000" in matching and len(matching) == 200  # the page shows the newest 200 found
    assert await found("podatku 17") == {"new017"}
