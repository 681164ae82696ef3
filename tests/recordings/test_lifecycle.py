"""A call is recorded from the agent's answer to the caller's hang-up, on the PBX simulator over
real AMI: MixMonitor on the caller's channel with the queue's options into the dated folder,
pause and resume by MixMonitorMute, the end taken from the Hangup (no MixMonitorStop), and the
metadata row (length, size, sha256, consent)."""

from __future__ import annotations

import hashlib
import wave
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kck.db.models import AuditEntry
from recordings.layout import recording_path
from recordings.lifecycle import AnsweredCall, NotRecording
from tests.polling import until
from tests.recordings.conftest import RecordingRig


async def test_answered_call_with_consent_is_recorded_until_the_caller_hangs_up(
    rig: RecordingRig,
) -> None:
    call = await rig.caller_on_hold()
    call_id = await rig.route(call)
    row = await rig.row_in_state(call_id, "recording")
    assert (row.agent, row.queue, row.consent, row.channel) == (
        "anowak",
        "citizens_affairs",
        True,
        call.channel.name,
    )
    folder = rig.services.settings.recordings_dir
    live = rig.pbx.mixmonitors.recording(call.channel.name)
    assert live is not None and live.path == folder / row.path
    day = datetime.now(UTC).astimezone(ZoneInfo("Europe/Warsaw"))
    assert row.path == f"{day:%Y/%m/%d}/{call_id}.wav"

    await rig.ami.hangup(call.channel.name)
    done = await rig.row_in_state(call_id, "done")
    data = (folder / done.path).read_bytes()
    assert done.size_bytes == len(data) and done.sha256 == hashlib.sha256(data).hexdigest()
    with wave.open(str(folder / done.path)) as w:
        assert done.duration_s == pytest.approx(w.getnframes() / w.getframerate(), abs=0.01)
    assert done.duration_s is not None and done.duration_s > 0
    assert done.ended_at is not None and done.ended_at >= done.started_at


async def test_pause_and_resume_mute_the_recording_and_are_audited(rig: RecordingRig) -> None:
    call = await rig.caller_on_hold()
    call_id = await rig.route(call)
    await rig.row_in_state(call_id, "recording")
    paused = await rig.component.lifecycle.pause(call_id, True, by="anowak")
    live = rig.pbx.mixmonitors.recording(call.channel.name)
    assert live is not None and live.muted == {"read", "write"}
    assert paused.paused and paused.pauses == 1
    resumed = await rig.component.lifecycle.pause(call_id, False, by="anowak")
    assert live.muted == set() and not resumed.paused and resumed.pauses == 1
    async with rig.services.sessions() as db:
        audit = (await db.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    assert [(a.actor, a.action, a.target) for a in audit] == [
        ("anowak", "recording.pause", call_id),
        ("anowak", "recording.resume", call_id),
    ]
    await rig.ami.hangup(call.channel.name)
    await rig.row_in_state(call_id, "done")
    with pytest.raises(NotRecording):
        await rig.component.lifecycle.pause(call_id, True, by="anowak")


@pytest.mark.parametrize("consent", [False, None])
async def test_caller_who_declined_or_heard_no_announcement_is_not_recorded(
    rig: RecordingRig, consent: bool | None
) -> None:
    call = await rig.caller_on_hold()
    call_id = await rig.route(call, consent=consent)
    assert await rig.row(call_id) is None
    assert rig.pbx.mixmonitors.recording(call.channel.name) is None
    assert rig.component.started == 0


async def test_a_queue_set_to_off_records_nothing(off_in_social: RecordingRig) -> None:
    rig = off_in_social
    call = await rig.caller_on_hold()
    social = await rig.route(call, queue="social")
    assert (
        await rig.row(social) is None and rig.pbx.mixmonitors.recording(call.channel.name) is None
    )
    other = await rig.caller_on_hold("+48600111333")
    recorded = await rig.route(other, queue="citizens_affairs")
    assert (await rig.row_in_state(recorded, "recording")).queue == "citizens_affairs"


async def test_a_second_process_answering_the_same_call_does_not_record_it_twice(
    rig: RecordingRig,
) -> None:
    call = await rig.caller_on_hold()
    call_id = await rig.route(call)
    await rig.row_in_state(call_id, "recording")
    again = await rig.component.lifecycle.answered(AnsweredCall(call_id, "anowak"))
    assert again is None


async def test_a_refused_mixmonitor_leaves_a_failed_row_and_the_call_goes_on(
    rig: RecordingRig,
) -> None:
    call = await rig.caller_on_hold()
    await rig.ami.hangup(call.channel.name)  # gone before the answer reaches us
    await until_gone(rig, call.channel.name)
    call_id = await rig.route(call)
    row = await rig.row_in_state(call_id, "failed")
    assert row.problem is not None and "No such channel" in row.problem


async def until_gone(rig: RecordingRig, channel: str) -> None:
    await until(lambda: channel not in rig.pbx.channels, 10)


def test_the_layout_files_by_the_centres_date_and_refuses_odd_call_ids() -> None:
    night = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)  # 00:30 on the 7th in Warsaw
    assert str(recording_path("abc", night, ZoneInfo("Europe/Warsaw"))) == "2026/12/07/abc.wav"
    for bad in ("", "../x", "a/b", ".hidden"):
        with pytest.raises(ValueError):
            recording_path(bad, night, ZoneInfo("Europe/Warsaw"))
