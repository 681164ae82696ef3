"""An agent's phone that rings out (RONA) or answers busy, on the real Asterisk: the caller goes to
the next agent at once; the agent who did not answer is paused, the busy one stays available."""

from __future__ import annotations

from tests.real_asterisk.observer import named
from tests.real_asterisk.sipp import PhoneBehaviour
from tests.real_asterisk.sites import Site
from tests.real_asterisk.test_call_path import walk_to_id_cards


async def test_agent_whose_phone_rings_out_is_paused_and_the_next_agent_gets_the_caller(
    site: Site,
) -> None:
    await site.phone("101", PhoneBehaviour.NO_ANSWER)
    await site.phone("107", talk_ms=1000)
    anowak = await site.agent("anowak")  # id_cards 5: offered first
    mzielinska = await site.agent("mzielinska")  # id_cards 3
    caller = await site.call()
    await walk_to_id_cards(site, caller)
    first = await site.observer.wait_for(named("DialEnd", DestChannel__startswith="PJSIP/101-"), 60)
    assert first.get("DialStatus") == "NOANSWER"
    paused = await anowak.wait_state("paused", 10, since=first.at - 1)
    assert paused.data.get("reason") == "no_answer"
    await site.observer.wait_for(named("BridgeEnter", Channel__startswith="PJSIP/107-"), 20)
    assert await caller.ended(20) == "asterisk"
    await mzielinska.wait_state("wrap_up", 10)
    row = await site.call_row(caller, outcome="answered")
    assert row.agent_id is not None


async def test_agent_whose_phone_is_busy_stays_available_and_the_next_agent_gets_the_caller(
    site: Site,
) -> None:
    await site.phone("101", PhoneBehaviour.BUSY)
    await site.phone("107", talk_ms=1000)
    anowak = await site.agent("anowak")
    await site.agent("mzielinska")
    caller = await site.call()
    await walk_to_id_cards(site, caller)
    busy = await site.observer.wait_for(named("DialEnd", DestChannel__startswith="PJSIP/101-"), 60)
    assert busy.get("DialStatus") == "BUSY"
    await site.observer.wait_for(named("BridgeEnter", Channel__startswith="PJSIP/107-"), 20)
    assert await caller.ended(20) == "asterisk"
    after = [m.data.get("state") for m in anowak.messages if m.kind == "state" and m.at > busy.at]
    assert "paused" not in after and anowak.states()[-1] == "available"
