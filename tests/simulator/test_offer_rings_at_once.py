"""With the demo's timing, an offer rings the agent's phone at once, not at the end of the music.

`kck demo` runs kck's waiting loop against the simulator with AMI: the caller hears music in
5 s `WAIT FOR DIGIT` slices and an offer cuts the slice short with AMI `ControlPlayback`. Before
the simulator answered that action (`Invalid/unknown command`), the offer waited for the slice to
end. The agent signs in the moment a full slice starts; the phone must ring well before it ends.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis

from asterisk.agi import AGISession, FastAGIServer
from asterisk.ami import AMIClient
from demo.simulator import CallerScript, CallResult, PBXSimulator, PhoneBehaviour
from queues.ami_events import RouterAMIAdapter
from queues.model import RoutingRequest
from queues.presence import NodePresence
from queues.router import Router
from queues.timer import RouterTimer
from queues.waiting import QueueOutcome, QueueResult, wait_in_queue
from tests.queues.conftest import make_config

# The demo runs the simulator in real time; 8x keeps the 5 s slice (0.6 s here) well apart from
# the few milliseconds an offer should take, and the test short.
SPEED = 8.0
SLICE_S = 5.0  # queues.waiting's music slice when it can stop playback
_ids = itertools.count(1)
pytestmark = pytest.mark.timeout(60)


async def test_offer_cuts_the_music_slice_short_and_the_phone_rings_at_once(
    redis: aioredis.Redis,
) -> None:
    router = Router(redis, make_config({"ala": {"taxes": 5}}), prefix=f"ring{next(_ids)}")
    await router.waiters.start()
    timer = RouterTimer(router, safety_s=0.5)
    timer.start()
    presence = NodePresence(router)
    await presence.start()
    results: list[QueueResult] = []
    ami: AMIClient | None = None

    async def route(session: AGISession) -> None:
        env = session.env
        await session.answer()
        request = RoutingRequest(
            call_id=f"call-{env.uniqueid}",
            uniqueid=env.uniqueid,
            channel=env.channel,
            caller=env.callerid,
            language="pl",
            queue="city",
            skills={"taxes": 1},
            priority=0,
            arrived_at=datetime.now(UTC).isoformat(),
        )
        assert ami is not None
        # as the IVR's queue step runs it in `kck serve` / `kck demo` (ivr/router_gateway.py)
        results.append(
            await wait_in_queue(session, router, request, stop_playback=ami.stop_playback)
        )
        if not session.hung_up:
            await session.set_variable("KCK_DONE", "1")

    server = FastAGIServer(host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"])
    server.add_route("ivr", route)
    await server.start()
    pbx = PBXSimulator(agi_url=f"agi://127.0.0.1:{server.port}/ivr", speed=SPEED)
    pbx.add_phone("101", PhoneBehaviour(answer_after=1, talk_for=2))
    full_slice = asyncio.Event()  # a music slice of 4-5 s started
    rings: list[float] = []  # real (loop) time the agent's phone started ringing
    loop = asyncio.get_running_loop()

    def on_event(name: str, _: str, headers: list[tuple[str, str]]) -> None:
        h = dict(headers)
        command = h.get("Command", "")
        if name == "AGIExecStart" and command.startswith("WAIT FOR DIGIT"):
            if int(command.rsplit(" ", 1)[1]) >= 4000:  # not one shortened by an announcement
                full_slice.set()
        elif name == "DialBegin" and h["DestChannel"].startswith("PJSIP/101-"):
            rings.append(loop.time())

    pbx.subscribe(on_event)
    await pbx.start()
    ami = AMIClient(host="127.0.0.1", port=pbx.ami_port, username="kck", secret="kcksecret")
    RouterAMIAdapter(router).attach(ami)
    try:
        await ami.connect()
        call = pbx.place_call(CallerScript(number="+48600100201"))
        # the caller hears the first announcement, then music
        await asyncio.wait_for(full_slice.wait(), 30)
        signed_in = loop.time()
        await router.agent_login("ala")
        outcome = await asyncio.wait_for(call, 30)
    finally:
        await ami.close()
        await pbx.stop()
        await server.stop()
        await presence.stop()
        await timer.stop()
        await router.waiters.stop()
    assert outcome.result is CallResult.TALKED_TO_AGENT
    assert [r.outcome for r in results] == [QueueOutcome.ANSWERED]
    assert rings, "the agent's phone never rang"
    waited = (rings[0] - signed_in) * SPEED  # simulated seconds
    assert waited < SLICE_S / 5, f"the phone rang {waited:.2f} s after the offer"
