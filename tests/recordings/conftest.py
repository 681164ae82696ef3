"""A recorded call on the PBX simulator: a Local caller on hold in its AGI, the real AMI client,
the recordings component fed with router-shaped events on the bus."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from asterisk.ami import AMIClient
from asterisk.ami.backoff import ExponentialBackoff
from demo.simulator import CallerScript, PBXSimulator, SimulatedCall
from kck.call_events import CALLS_STREAM
from kck.recording_feed import recording_input
from kck.services import Services
from recordings.component import RecordingsComponent
from recordings.models import Recording, RecordingState
from tests.polling import until, until_true
from tests.simulator.agi_script_server import ScriptedAGIServer

SPEED = 20.0


def stored_recording(
    call_id: str,
    relative: str,
    started_at: datetime,
    *,
    queue: str = "citizens_affairs",
    state: RecordingState = RecordingState.DONE,
) -> Recording:
    """A row as the lifecycle leaves it (anowak's call, with consent), for tests of what follows."""
    return Recording(
        call_id=call_id,
        uniqueid=f"u-{call_id}",
        channel="PJSIP/kck-trunk-1",
        agent="anowak",
        queue=queue,
        consent=True,
        path=relative,
        state=state.value,
        started_at=started_at,
    )


@dataclass
class RecordingRig:
    services: Services
    pbx: PBXSimulator
    agi: ScriptedAGIServer
    ami: AMIClient
    component: RecordingsComponent
    calls: int = 0

    async def caller_on_hold(self, number: str = "+48600111222") -> SimulatedCall:
        call = self.pbx.place_call(CallerScript(number=number, channel="Local"))
        await until(lambda: call.moh_class is not None, 10)  # on hold in its AGI
        return call

    async def route(
        self, call: SimulatedCall, *, consent: bool | None = True, queue: str = "citizens_affairs"
    ) -> str:
        """What the router publishes for the call: queued, then answered by anowak."""
        call_id = await self.queue(call, consent=consent, queue=queue)
        await self.answer(call_id, queue=queue)
        return call_id

    async def queue(
        self, call: SimulatedCall, *, consent: bool | None = True, queue: str = "citizens_affairs"
    ) -> str:
        """The router's `call_queued` for the call (with the caller's answer to the consent)."""
        self.calls += 1
        call_id = f"call{self.calls}"
        now = datetime.now(UTC).isoformat()
        request = {
            "call_id": call_id,
            "uniqueid": call.channel.uniqueid,
            "channel": call.channel.name,
            "caller": call.script.number,
            "language": "pl",
            "queue": queue,
            "skills": {"id_cards": 3},
            "priority": 0,
            "arrived_at": now,
            "recording_consent": consent,
        }
        queued: dict[str, Any] = {
            "call_id": call_id,
            "queue": queue,
            "at": now,
            "position": 1,
            "uniqueid": call.channel.uniqueid,
            "request": request,
        }
        handled = self.component.handled + 1
        await self.services.bus.publish(CALLS_STREAM, "call_queued", queued)
        await until(lambda: self.component.handled >= handled)
        return call_id

    async def answer(
        self, call_id: str, *, queue: str = "citizens_affairs", kind: str = "inbound"
    ) -> None:
        """The router's `call_answered`: anowak answered the call (or its callback)."""
        now = datetime.now(UTC).isoformat()
        answered = {"call_id": call_id, "agent": "anowak", "at": now, "wait_s": 3.0}
        handled = self.component.handled + 1
        await self.services.bus.publish(
            CALLS_STREAM, "call_answered", {**answered, "queue": queue, "kind": kind}
        )
        await until(lambda: self.component.handled >= handled)

    async def row(self, call_id: str) -> Recording | None:
        async with self.services.sessions() as db:
            found: Recording | None = await db.scalar(
                select(Recording).where(Recording.call_id == call_id)
            )
            return found

    async def row_in_state(self, call_id: str, state: str) -> Recording:
        async def reached() -> bool:
            row = await self.row(call_id)
            return row is not None and row.state == state

        await until_true(reached, 10)
        row = await self.row(call_id)
        assert row is not None
        return row


async def recording_rig(
    services: Services, *, originate_channels: bool = False
) -> AsyncIterator[RecordingRig]:
    agi = ScriptedAGIServer(["ANSWER", "SET MUSIC ON default", ("idle", 120.0)], SPEED)
    await agi.start()
    pbx = PBXSimulator(agi_url=agi.url, speed=SPEED, originate_channels=originate_channels)
    await pbx.start()
    ami = AMIClient(
        host="127.0.0.1",
        port=pbx.ami_port,
        username="kck",
        secret="kcksecret",
        backoff=ExponentialBackoff(initial=0.05, maximum=0.5),
    )
    await ami.connect()
    component = RecordingsComponent(services, ami, recording_input)
    await component.start()
    try:
        yield RecordingRig(services, pbx, agi, ami, component)
    finally:
        await component.stop()
        await ami.close()
        await pbx.stop()
        await agi.stop()


@pytest.fixture
async def rig(services: Services) -> AsyncIterator[RecordingRig]:
    async for made in recording_rig(services):
        yield made


@pytest.fixture
async def off_in_social(services: Services) -> AsyncIterator[RecordingRig]:
    """The same, with the `social` queue set to record nothing."""
    settings = services.settings
    recordings = settings.recordings.model_copy(update={"queues": {"social": "off"}})
    changed = replace(services, settings=settings.model_copy(update={"recordings": recordings}))
    async for made in recording_rig(changed):
        yield made
