"""The simulator drives kck's own FastAGI server and AMI client (as `kck demo` does)."""

from __future__ import annotations

import asyncio

from asterisk.agi import AGISession, CallerHungUp, FastAGIServer
from asterisk.ami import AMIClient, AMIEvent
from demo.simulator import (
    CallerScript,
    CallResult,
    DigitPress,
    PBXSimulator,
    PhoneBehaviour,
    PhoneMode,
)

SPEED = 40.0


async def test_ivr_route_on_kck_fastagi_server_dials_an_agent_while_the_ami_client_watches() -> (
    None
):
    seen: list[str] = []
    route_log: list[str] = []

    async def ivr(session: AGISession) -> None:
        try:
            await session.answer()
            digit = await session.stream_file("pls-hold-while-try", "12")
            route_log.append(f"digit={digit}")
            data = await session.get_data("beep", 3000, 4)
            route_log.append(f"data={data.digits}")
            await session.set_music(True)
            await session.wait_for_hangup(timeout=2.0 / SPEED)
            await session.set_music(False)
            result = await session.exec("Dial", "PJSIP/101,20")
            route_log.append(f"dial={result}:{await session.get_variable('DIALSTATUS')}")
            await session.set_variable("KCK_DONE", "1")
            await session.hangup()
        except CallerHungUp:
            route_log.append("caller hung up")

    server = FastAGIServer(host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"])
    server.add_route("ivr", ivr)
    await server.start()
    pbx = PBXSimulator(agi_url=f"agi://127.0.0.1:{server.port}/ivr", speed=SPEED)
    await pbx.start()
    pbx.add_phone("101", PhoneBehaviour(PhoneMode.ANSWER, answer_after=1.0, talk_for=2.0))
    client = AMIClient(host="127.0.0.1", port=pbx.ami_port, username="kck", secret="kcksecret")

    def on_event(event: AMIEvent) -> None:
        seen.append(event.name)

    client.add_event_handler(on_event)
    await client.connect()
    try:
        states = await client.device_state_list()
        assert states["PJSIP/101"] == "NOT_INUSE"
        call = pbx.place_call(
            CallerScript(
                number="+48600123456",
                name="Łukasz Żółć",
                digits=(DigitPress("2", 1.0), DigitPress("42#", 0.3)),
            )
        )
        outcome = await asyncio.wait_for(call, 20)
        channels = await client.core_show_channels()
    finally:
        await client.close()
        await pbx.stop()
        await server.stop()
    assert route_log == ["digit=2", "data=42", "dial=-1:ANSWER"]
    assert outcome.result is CallResult.TALKED_TO_AGENT and outcome.agent == "101"
    assert channels == []
    for name in ("Newchannel", "DialBegin", "DialEnd", "BridgeEnter", "BridgeLeave", "Hangup"):
        assert name in seen


async def test_route_failure_on_kck_fastagi_server_sends_the_caller_to_the_fallback_queue() -> None:
    async def broken(session: AGISession) -> None:
        await session.answer()
        raise RuntimeError("menu file is broken")

    server = FastAGIServer(host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"])
    server.add_route("ivr", broken)
    await server.start()
    pbx = PBXSimulator(agi_url=f"agi://127.0.0.1:{server.port}/ivr", speed=SPEED)
    await pbx.start()
    pbx.add_phone("101", PhoneBehaviour(PhoneMode.ANSWER, answer_after=1.0, talk_for=1.0))
    try:
        outcome = await asyncio.wait_for(pbx.place_call(CallerScript()), 20)
    finally:
        await pbx.stop()
        await server.stop()
    assert outcome.agi_status == "SUCCESS"
    assert outcome.result is CallResult.FALLBACK_QUEUE and outcome.agent == "101"


async def test_ami_stop_playback_cuts_short_what_kck_plays_and_the_music_slice() -> None:
    """What the waiting loop relies on: an offer's ControlPlayback ends the announcement file
    and the WAIT FOR DIGIT music slice at once, and neither reads as a key."""
    heard: list[tuple[str, str | None, float]] = []
    playing = asyncio.Event()

    async def waiting(session: AGISession) -> None:
        await session.answer()
        for name, command in (
            ("announcement", lambda: session.stream_file("demo-congrats")),
            ("music slice", lambda: session.wait_for_digit(20_000)),
        ):
            if name == "music slice":
                await session.set_music(True)
            started = pbx.clock.now()
            playing.set()
            key = await command()
            heard.append((name, key, pbx.clock.now() - started))
        await session.set_music(False)
        await session.set_variable("KCK_DONE", "1")
        await session.hangup()

    server = FastAGIServer(host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"])
    server.add_route("ivr", waiting)
    await server.start()
    pbx = PBXSimulator(agi_url=f"agi://127.0.0.1:{server.port}/ivr", speed=SPEED)
    await pbx.start()
    client = AMIClient(host="127.0.0.1", port=pbx.ami_port, username="kck", secret="kcksecret")
    await client.connect()
    try:
        call = pbx.place_call(CallerScript(number="+48600123456"))
        for _ in range(2):
            await asyncio.wait_for(playing.wait(), 10)
            playing.clear()
            await pbx.clock.sleep(1.0)
            await client.stop_playback(call.channel.name)
        outcome = await asyncio.wait_for(call, 20)
    finally:
        await client.close()
        await pbx.stop()
        await server.stop()
    assert [(name, key) for name, key, _ in heard] == [
        ("announcement", None),
        ("music slice", None),
    ]
    assert all(seconds < 2.0 for _, _, seconds in heard)  # 30 s file, 20 s slice
    assert outcome.result is CallResult.ENDED_BY_CONTROLLER
