"""A callback bridged with an agent is recorded on the PBX simulator with the consent the citizen
gave in the original call's IVR: MixMonitor on the agent's channel (found by the uniqueid the
callback's Originate gave it), ended by that channel's hang-up; a citizen who refused is not
recorded on the callback either; the consent is read from the call row once the queued call's
facts have expired; an attempt that reached nobody is withdrawn and the next one recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from asterisk.ami import Originate
from kck.call_events import CALLS_STREAM
from kck.db.models import Call
from kck.services import Services
from queues.router import callback_channel_id
from tests.polling import until
from tests.recordings.conftest import RecordingRig, recording_rig


@pytest.fixture
async def rig(services: Services) -> AsyncIterator[RecordingRig]:
    async for made in recording_rig(services, originate_channels=True):
        made.pbx.add_phone("101")
        yield made


async def callback_rings_the_agent(rig: RecordingRig, call_id: str) -> str:
    """The CallbackDialer's Originate: the agent's phone answers and dials the citizen."""
    uniqueid = callback_channel_id(call_id)
    await rig.ami.originate(
        Originate(
            channel="PJSIP/101",
            application="Dial",
            data="PJSIP/+48600111222@kck-trunk,60",
            timeout_ms=20_000,
            channel_id=uniqueid,
        )
    )
    await until(lambda: rig.pbx.channel_named(uniqueid) is not None)
    channel = rig.pbx.channel_named(uniqueid)
    assert channel is not None
    return channel.name


async def caller_asks_for_a_callback(rig: RecordingRig, consent: bool | None) -> str:
    call = await rig.caller_on_hold()
    call_id = await rig.queue(call, consent=consent)
    await rig.ami.hangup(call.channel.name)  # left a number and hung up
    return call_id


async def test_a_callback_is_recorded_on_the_agents_channel_with_the_original_consent(
    rig: RecordingRig,
) -> None:
    call_id = await caller_asks_for_a_callback(rig, consent=True)
    agent_channel = await callback_rings_the_agent(rig, call_id)
    await rig.answer(call_id, kind="callback")
    row = await rig.row_in_state(call_id, "recording")
    assert row.uniqueid == callback_channel_id(call_id) and row.agent == "anowak" and row.consent
    live = rig.pbx.mixmonitors.recording(agent_channel)
    assert live is not None and str(live.path).endswith(f"{call_id}.wav")

    await rig.ami.hangup(agent_channel)
    done = await rig.row_in_state(call_id, "done")
    assert (
        done.duration_s is not None and (rig.services.settings.recordings_dir / done.path).is_file()
    )


async def test_a_citizen_who_refused_in_the_ivr_is_not_recorded_on_the_callback(
    rig: RecordingRig,
) -> None:
    call_id = await caller_asks_for_a_callback(rig, consent=False)
    agent_channel = await callback_rings_the_agent(rig, call_id)
    await rig.answer(call_id, kind="callback")
    assert await rig.row(call_id) is None
    assert rig.pbx.mixmonitors.recording(agent_channel) is None


async def test_a_callback_after_the_queued_facts_expired_takes_the_consent_from_the_call_row(
    rig: RecordingRig,
) -> None:
    call_id = await caller_asks_for_a_callback(rig, consent=None)  # facts say: not asked
    await rig.services.redis.delete(f"{rig.services.bus.prefix}:rec:call:{call_id}")  # expired
    async with rig.services.sessions() as db, db.begin():
        db.add(Call(id=call_id, uniqueid="u-1", language="pl"))
    await rig.answer(call_id, kind="callback")
    assert await rig.row(call_id) is None  # the row has no consent either: not recorded

    async with rig.services.sessions() as db, db.begin():
        await db.execute(update(Call).where(Call.id == call_id).values(recording_consent=True))
    agent_channel = await callback_rings_the_agent(rig, call_id)
    await rig.answer(call_id, kind="callback")
    await rig.row_in_state(call_id, "recording")
    assert rig.pbx.mixmonitors.recording(agent_channel) is not None


async def test_an_attempt_that_reaches_nobody_is_withdrawn_and_the_next_one_is_recorded(
    rig: RecordingRig,
) -> None:
    call_id = await caller_asks_for_a_callback(rig, consent=True)
    first = await callback_rings_the_agent(rig, call_id)
    await rig.answer(call_id, kind="callback")
    await rig.row_in_state(call_id, "recording")
    # the citizen was busy: the router schedules another attempt
    missed = {
        "call_id": call_id,
        "number": "+48600111222",
        "attempt": 1,
        "attempts": 3,
        "why": "BUSY",
        "agent": "anowak",
        "at": datetime.now(UTC).isoformat(),
        "queue": "citizens_affairs",
    }
    handled = rig.component.handled + 1
    await rig.services.bus.publish(CALLS_STREAM, "callback_retry", missed)
    await until(lambda: rig.component.handled >= handled)
    assert await rig.row(call_id) is None
    await rig.ami.hangup(first)
    await until(lambda: rig.pbx.channel_named(callback_channel_id(call_id)) is None)

    second = await callback_rings_the_agent(rig, call_id)
    await rig.answer(call_id, kind="callback")
    await rig.row_in_state(call_id, "recording")
    await rig.ami.hangup(second)
    done = await rig.row_in_state(call_id, "done")
    assert done.duration_s is not None
