"""Recordings are kept for their queue's or matter's days, then file and row go together (logged
and audited); a legal hold keeps them; a resident's erasure request removes theirs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from kck.clock import ManualClock
from kck.db.models import AuditEntry, Call
from kck.services import Services
from recordings.lifecycle import NotRecording
from recordings.models import Recording, RecordingState
from recordings.retention import Retention
from tests.core.test_cli import run
from tests.recordings.conftest import stored_recording

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


class Store:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.folder = services.settings.recordings_dir

    async def recording(
        self,
        call_id: str,
        days_old: float,
        *,
        queue: str = "citizens_affairs",
        caller: str = "+48600100200",
        category: str | None = None,
        state: RecordingState = RecordingState.DONE,
    ) -> Path:
        started = NOW - timedelta(days=days_old)
        relative = f"{started:%Y/%m/%d}/{call_id}.wav"
        path = self.folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"RIFF")
        async with self.services.sessions() as db, db.begin():
            db.add(
                Call(
                    id=call_id,
                    uniqueid=f"u-{call_id}",
                    caller_number=caller,
                    arrived_at=started,
                    queue=queue,
                    ticket_category=category,
                )
            )
            db.add(stored_recording(call_id, relative, started, queue=queue, state=state))
        return path

    async def left(self) -> set[str]:
        async with self.services.sessions() as db:
            return set(await db.scalars(select(Recording.call_id)))

    async def audit(self, action: str) -> list[AuditEntry]:
        async with self.services.sessions() as db:
            query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            return list(await db.scalars(query))


def retention(services: Services, **settings: object) -> Retention:
    recordings = services.settings.recordings.model_copy(update=settings)
    return Retention(
        services.sessions, services.settings.recordings_dir, recordings, ManualClock(NOW)
    )


@pytest.fixture
def store(services: Services) -> Store:
    return Store(services)


async def test_purge_deletes_file_and_row_past_90_days_and_logs_it(
    services: Services, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    old = await store.recording("old", 91)
    young = await store.recording("young", 89)
    caplog.set_level(logging.INFO, "recordings.retention")
    removed = await retention(services).purge()
    assert [(r.call_id, r.why) for r in removed] == [("old", "retention 90 days")]
    assert not old.exists() and young.exists()
    assert await store.left() == {"young"}
    [entry] = await store.audit("recording.delete")
    assert (entry.actor, entry.target, entry.details["why"]) == ("kck", "old", "retention 90 days")
    assert any("deleted recording of call old" in r.getMessage() for r in caplog.records)


async def test_retention_per_queue_and_per_matter_kind(services: Services, store: Store) -> None:
    await store.recording("short_queue", 31, queue="city_issues")
    await store.recording("long_matter", 200, queue="city_issues", category="taxes")
    await store.recording("default", 31)
    policy = retention(services, retention={"city_issues": 30, "taxes": 365})
    assert policy.days_for("city_issues", "taxes") == 365
    assert {r.call_id for r in await policy.purge()} == {"short_queue"}
    assert await store.left() == {"long_matter", "default"}


async def test_legal_hold_keeps_a_recording_until_released(
    services: Services, store: Store
) -> None:
    path = await store.recording("disputed", 400)
    policy = retention(services)
    with pytest.raises(ValueError, match="reason"):
        await policy.hold("disputed", " ", by="boss")
    with pytest.raises(NotRecording):
        await policy.hold("no-such-call", "SKO 12/2026", by="boss")
    await policy.hold("disputed", "SKO 12/2026", by="boss")
    assert await policy.purge() == [] and path.exists()
    await policy.release("disputed", by="boss")
    assert [r.call_id for r in await policy.purge()] == ["disputed"]
    assert [(a.actor, a.details) for a in await store.audit("recording.hold")] == [
        ("boss", {"reason": "SKO 12/2026"})
    ]
    assert len(await store.audit("recording.release")) == 1


async def test_a_recording_still_in_progress_is_never_purged(
    services: Services, store: Store
) -> None:
    await store.recording("live", 100, state=RecordingState.RECORDING)
    assert await retention(services).purge() == []


async def test_erasure_request_removes_the_residents_recordings_but_not_held_or_others(
    services: Services, store: Store
) -> None:
    first = await store.recording("mine1", 1, caller="+48600999888")
    await store.recording("mine2", 2, caller="+48600999888")
    await store.recording("held", 3, caller="+48600999888")
    other = await store.recording("other", 1, caller="+48600111222")
    policy = retention(services)
    await policy.hold("held", "skarga 3/2026", by="boss")
    erasure = await policy.erase_caller("+48600999888", by="iod")
    assert {r.call_id for r in erasure.removed} == {"mine1", "mine2"}
    assert erasure.held == ["held"]
    assert not first.exists() and other.exists()
    assert await store.left() == {"held", "other"}
    assert {a.actor for a in await store.audit("recording.delete")} == {"iod"}


async def test_a_file_that_cannot_be_deleted_keeps_its_row(
    services: Services, store: Store, tmp_path: Path
) -> None:
    path = await store.recording("stuck", 100)
    path.unlink()
    path.mkdir()  # a folder where the file was: unlink fails, the row stays for another try
    assert await retention(services).purge() == []
    assert await store.left() == {"stuck"}


def test_the_command_line_says_what_is_wrong_and_erases(tmp_path: Path) -> None:
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    missing = run(["recordings", "hold", "nosuchcall", "--reason", "SKO 1/2026"], tmp_path)
    assert missing.returncode == 1 and "no recording of call nosuchcall" in missing.stderr
    bad = run(["recordings", "erase", "--caller", "abc"], tmp_path)
    assert bad.returncode == 1 and "not a phone number" in bad.stderr
    erase = run(["recordings", "erase", "--caller", "600 100 200"], tmp_path)
    assert erase.returncode == 0 and "0 recording(s) deleted" in erase.stdout
