"""A callback request placed as a real outbound call: agent's phone first, then the citizen through
the operator's trunk (`kck-trunk`); a busy citizen is tried again by the queue's policy; the
answered callback is recorded on the agent's channel with the consent given in the IVR."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.polling import until_true
from tests.real_asterisk.media import write_tone_pcap
from tests.real_asterisk.observer import agi_command, named
from tests.real_asterisk.sipp import PhoneBehaviour
from tests.real_asterisk.sites import Site
from tests.real_asterisk.test_call_path import walk_to_id_cards
from tests.real_asterisk.test_recordings import recordings_of


@pytest.mark.timeout(240)  # two attempts 10 s apart, real-time calls, then the file's end
async def test_callback_reaches_the_citizen_through_the_trunk_after_a_busy_first_attempt(
    site: Site, tmp_path: Path
) -> None:
    voice = tmp_path / "agent-voice.pcap"
    write_tone_pcap(voice, 1000.0, 10.0)  # the agent speaks: the recording has audio frames
    await site.phone("101", talk_ms=2000, voice=voice)
    desk = await site.agent("anowak", available=False)  # nobody free: the caller waits
    caller = await site.call()
    await walk_to_id_cards(site, caller)
    await site.observer.wait_for(agi_command(caller.number, "/queue_press_1_callback "), 60)
    caller.press("1")  # "call me back"
    await site.observer.wait_for(agi_command(caller.number, "/queue_callback_confirmed "), 10)
    assert await caller.ended(20) == "asterisk"  # confirmed, then we hang up: it keeps its place

    busy = await site.citizen_phone(PhoneBehaviour.BUSY)
    await desk.set_state("available")  # an agent comes free: the callback is offered
    pop = await desk.wait_for(lambda m: m.kind == "pop", 20)
    assert pop.data["kind"] == "callback" and pop.data["caller"]["e164"] == caller.number
    # the agent's phone rings first (Originate), then the agent's channel dials the citizen
    citizen_leg = named(
        "DialEnd", Uniqueid__startswith="kck-cb-", DestChannel__startswith="PJSIP/kck-trunk-"
    )
    first = await site.observer.wait_for(citizen_leg, 30)
    assert first.get("DialStatus") == "BUSY"
    await busy.close()
    await site.citizen_phone(PhoneBehaviour.ANSWERS, talk_ms=1500)

    second = await site.observer.wait_for(citizen_leg, 60, since=first.at + 0.001)
    assert second.get("DialStatus") == "ANSWER"  # callback_retry_s (10 s here) later
    await site.observer.wait_for(
        named("Hangup", Uniqueid__startswith="kck-cb-"), 30, since=second.at
    )
    row = await site.call_row(caller, outcome="callback")
    assert row.hangup_cause == "callback_done"
    # the operator got the number as it asked for it (trunk.number_format: international)
    invites = (site.folder / "sipp" / "phone-citizen-messages.txt").read_text()
    assert f"INVITE sip:{caller.number.lstrip('+')}@" in invites
    assert await site.counter("citizens_affairs", "callbacks_failed") == 0

    # recorded on the agent's channel, found by its uniqueid, with the consent given in the IVR
    # (no key: consent); the busy attempt left no recording, the answered one the bridged time
    assert site.observer.find(named("MixMonitorStart", Uniqueid__startswith="kck-cb-"))

    async def recorded() -> bool:
        rows = await recordings_of(site)
        return bool(rows) and rows[0].state == "done"

    await until_true(recorded, 40)
    [recording] = await recordings_of(site)
    assert (recording.call_id, recording.consent) == (row.id, True)
    assert recording.uniqueid == f"kck-cb-{row.id}"
    assert recording.duration_s is not None and 0.3 < recording.duration_s < 4.0
