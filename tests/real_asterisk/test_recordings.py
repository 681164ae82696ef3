"""Recording on the real Asterisk: a caller who consents is recorded from the bridge to the
hang-up, both voices in one playable file of the right length; one who presses 9 during the
announcement is not recorded at all."""

from __future__ import annotations

import array
import hashlib
import math
import wave
from pathlib import Path

from sqlalchemy import select

from kck.db import create_engine, session_factory
from recordings.models import Recording
from tests.polling import until_true
from tests.real_asterisk.media import write_tone_pcap
from tests.real_asterisk.observer import named
from tests.real_asterisk.sipp import SippCaller
from tests.real_asterisk.sites import Site
from tests.real_asterisk.test_call_path import walk_to_id_cards

CALLER_HZ = 440.0  # the caller's "voice"
AGENT_HZ = 1000.0  # the agent's, played by the phone from a pcap
CONTROL_HZ = 2500.0  # neither


async def recordings_of(site: Site) -> list[Recording]:
    engine = create_engine(f"sqlite+aiosqlite:///{site.installation.var / 'kck.db'}")
    try:
        async with session_factory(engine)() as db:
            return list(await db.scalars(select(Recording)))
    finally:
        await engine.dispose()


def power(samples: array.array[int], hz: float, rate: int) -> float:
    """Goertzel: how much of `hz` the samples hold."""
    k = 2 * math.cos(2 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + k * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - k * s1 * s2) / len(samples)


def channel_of(site: Site, caller: SippCaller) -> str:
    [created] = site.observer.find(named("Newchannel", CallerIDNum=caller.number))
    return created.get("Channel")


async def test_consenting_caller_is_recorded_with_both_voices_for_the_bridged_time(
    site: Site, tmp_path: Path
) -> None:
    voice = tmp_path / "agent-voice.pcap"
    write_tone_pcap(voice, AGENT_HZ, 10.0)
    await site.phone("101", talk_ms=6000, voice=voice)
    await site.agent("anowak")
    caller = await site.call()
    await walk_to_id_cards(site, caller)
    channel = channel_of(site, caller)
    await site.observer.wait_for(named("BridgeEnter", Channel=channel), 30)
    caller.media.speak(CALLER_HZ)
    started = await site.observer.wait_for(named("MixMonitorStart", Channel=channel), 10)
    assert await caller.ended(20) == "asterisk"  # the agent hung up after 6 s
    hangup = await site.observer.wait_for(named("Hangup", Channel=channel), 10)
    assert not site.observer.find(named("MixMonitorStop", Channel=channel))

    async def done() -> bool:
        rows = await recordings_of(site)
        return bool(rows) and rows[0].state == "done"

    await until_true(done, 30)
    [row] = await recordings_of(site)
    call = await site.call_row(caller, outcome="answered")
    assert (row.call_id, row.agent, row.queue, row.consent) == (
        call.id,
        "anowak",
        "citizens_affairs",
        True,
    )
    assert call.recording_consent is True
    path = site.installation.root / "var" / "recordings" / "calls" / row.path
    data = path.read_bytes()
    assert row.size_bytes == len(data) and row.sha256 == hashlib.sha256(data).hexdigest()
    with wave.open(str(path)) as w:
        rate = w.getframerate()
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        samples = array.array("h", w.readframes(w.getnframes()))
    seconds = len(samples) / rate
    bridged = hangup.at - started.at
    assert abs(seconds - bridged) < 0.5, (seconds, bridged)
    assert row.duration_s is not None and abs(row.duration_s - seconds) < 0.01
    assert 5.0 < seconds < 7.5  # the phone talked for 6 s
    middle = samples[int(rate * 2) : int(rate * 4)]  # both talk here
    control = power(middle, CONTROL_HZ, rate)
    assert power(middle, CALLER_HZ, rate) > 50 * control, "the caller is not in the recording"
    assert power(middle, AGENT_HZ, rate) > 50 * control, "the agent is not in the recording"


async def test_caller_who_presses_9_during_the_announcement_is_not_recorded(site: Site) -> None:
    await site.phone("101", talk_ms=3000)
    await site.agent("anowak")
    caller = await site.call()
    await site.answer_menu(caller, "welcome", "9")
    await walk_to_id_cards(site, caller)
    channel = channel_of(site, caller)
    await site.observer.wait_for(named("BridgeEnter", Channel=channel), 30)
    assert await caller.ended(20) == "asterisk"
    call = await site.call_row(caller, outcome="answered")
    assert call.recording_consent is False
    assert not site.observer.find(named("MixMonitorStart", Channel=channel))
    assert await recordings_of(site) == []
    assert not list((site.installation.root / "var" / "recordings").rglob("*.wav"))
