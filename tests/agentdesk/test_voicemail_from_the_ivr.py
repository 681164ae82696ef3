"""A caller leaves a voicemail through the real FastAGI server driven by the PBX simulator; the
message the IVR recorded becomes an agent's task with the caller's number."""

from __future__ import annotations

import asyncio
import wave
from datetime import timedelta
from pathlib import Path

from agentdesk.tasks.desk import voicemail_root
from agentdesk.tasks.store import TaskStore
from agentdesk.tasks.voicemail import VoicemailInbox
from demo.simulator import CallerScript, CallResult, DigitPress, PBXSimulator
from ivr.component import IVRComponent
from kck.clock import ManualClock
from kck.services import Services
from tests.call_history import record_call_history
from tests.ivr.test_component import SPEED, component
from tests.wav_files import write_tone

__all__ = ["component"]  # the IVR with the shipped menus on its FastAGI port


async def test_voicemail_left_after_hours_becomes_a_task_for_the_boxs_agents(
    component: IVRComponent, services: Services, tmp_path: Path
) -> None:
    clock = services.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(hours=12).total_seconds())  # 22:00: the office is closed
    port = component.health()["agi"].rsplit(":", 1)[1]
    async with PBXSimulator(agi_url=f"agi://127.0.0.1:{port}/ivr", speed=SPEED) as pbx:
        call = pbx.place_call(
            CallerScript(
                number="+48600123456",
                digits=(DigitPress(""), DigitPress("1", 1.0), DigitPress("2", 1.0)),
                utterance=write_tone(tmp_path / "message.wav", seconds=2.0),
            )
        )
        outcome = await asyncio.wait_for(call, 30)
    assert outcome.result is CallResult.ENDED_BY_CONTROLLER, outcome
    [recorded] = outcome.recordings
    await record_call_history(services.bus, services.sessions)  # the router's writer, here

    store = TaskStore(services.sessions, clock)
    inbox = VoicemailInbox(store, voicemail_root(services), skills=("general", "roads"))
    assert await inbox.collect() == 1
    [task] = await store.open_for("anowak", ["general"])
    assert (task.kind, task.state, task.skill) == ("voicemail", "open", "general")
    assert task.number == "+48600123456"
    assert recorded == voicemail_root(services) / "voicemail" / "general" / f"{task.call_id}.wav"
    assert await store.open_for("pkowal", ["roads"]) == []  # not a roads agent's message
    claimed = await store.claim(task.id, "anowak")
    assert inbox.file(await store.recording_of(claimed.id, "anowak")) == recorded.resolve()
    with wave.open(str(recorded)) as wav:
        assert wav.getnframes() > 0
