"""Transfers on the real Asterisk: the agent's desk sends the caller on (to another agent, to a
queue, to a second-line number through the trunk); the agent's leg is hung up over AMI, the
caller's own AGI session dials on, and the pop follows the call to the next desk."""

from __future__ import annotations

from tests.real_asterisk.controller import DeskAgent, DeskMessage
from tests.real_asterisk.observer import named
from tests.real_asterisk.sipp import SippCaller
from tests.real_asterisk.sites import Site
from tests.real_asterisk.test_call_path import walk_to_id_cards

NOTES = "Pani pyta o dowód dla dziecka; przekazuję do kolegi."


async def talking_with_anowak(site: Site, anowak: DeskAgent, caller: SippCaller) -> DeskMessage:
    """The caller walks to ID cards and anowak answers; returns her pop."""
    await walk_to_id_cards(site, caller)
    pop = await anowak.wait_for(lambda m: m.kind == "pop", 30)
    await site.observer.wait_for(named("BridgeEnter", Channel__startswith="PJSIP/101-"), 20)
    await anowak.wait_state("on_call", 10)
    return pop


async def test_blind_transfer_to_an_agent_rings_them_with_the_pop_following_the_call(
    site: Site,
) -> None:
    await site.phone("101", talk_ms=120_000)  # anowak would talk on; the transfer ends her leg
    await site.phone("102", talk_ms=2000)
    anowak = await site.agent("anowak")
    pkowalski = await site.agent("pkowalski")  # no id_cards skill: never offered the call itself
    caller = await site.call()
    pop = await talking_with_anowak(site, anowak, caller)
    call_id = pop.data["call_id"]

    status, answer = await anowak.transfer(
        call_id, "agent:pkowalski", NOTES, {"location_text": "ul. Wielicka 28"}
    )
    assert status == 200, answer
    await anowak.wait_state("wrap_up", 10)
    follows = await pkowalski.wait_for(lambda m: m.kind == "pop", 10)
    assert follows.data["call_id"] == call_id
    assert (
        follows.data["ivr_path"] == pop.data["ivr_path"]
        and "Dowody osobiste" in pop.data["ivr_path"]
    )
    assert follows.data["handover"]["notes"] == NOTES
    assert follows.data["form"]["location_text"] == "ul. Wielicka 28"
    dropped = await site.observer.wait_for(named("Hangup", Channel__startswith="PJSIP/101-"), 10)
    ring = await site.observer.wait_for(
        named("DialBegin", DestChannel__startswith="PJSIP/102-"), 10
    )
    assert dropped.at <= ring.at and follows.at <= ring.at
    await site.observer.wait_for(named("BridgeEnter", Channel__startswith="PJSIP/102-"), 20)
    await pkowalski.wait_state("on_call", 10)
    assert await caller.ended(20) == "asterisk"  # pkowalski hung up after 2 s
    await pkowalski.wait_state("wrap_up", 10)
    row = await site.call_row(caller, outcome="answered")
    assert [(t["from"], t["kind"], t["to"]) for t in row.transfers] == [
        ("anowak", "agent", "pkowalski")
    ]
    assert await site.counter("citizens_affairs", "answered") == 1
    assert await site.counter("citizens_affairs", "transfers_out") == 1
    assert await site.counter("citizens_affairs", "transfers_answered") == 1
    assert await site.counter("citizens_affairs", "abandoned") == 0
    assert await site.live_calls() == set()


async def test_transfer_to_a_queue_puts_the_caller_on_hold_music_until_an_agent_there_answers(
    site: Site,
) -> None:
    await site.phone("101", talk_ms=120_000)
    await site.phone("102", talk_ms=2000)
    anowak = await site.agent("anowak")
    pkowalski = await site.agent("pkowalski", available=False)
    caller = await site.call()
    pop = await talking_with_anowak(site, anowak, caller)

    status, answer = await anowak.transfer(pop.data["call_id"], "queue:general")
    assert status == 200, answer
    await anowak.wait_state("wrap_up", 10)
    await anowak.set_state("paused", "break")  # her wrap-up must not take the call back
    dropped = await site.observer.wait_for(named("Hangup", Channel__startswith="PJSIP/101-"), 10)
    # nobody free in `general`: the caller waits there, hearing music on hold
    await site.observer.wait_for(
        named("MusicOnHoldStart", CallerIDNum=caller.number), 60, since=dropped.at
    )
    call = await site.redis().hgetall(f"kck:q:call:{pop.data['call_id']}")
    assert call["state"] == "waiting" and call["queue"] == "general"
    await pkowalski.set_state("available")
    follows = await pkowalski.wait_for(lambda m: m.kind == "pop", 10)
    assert follows.data["call_id"] == pop.data["call_id"] and follows.data["queue"] == "general"
    await site.observer.wait_for(named("BridgeEnter", Channel__startswith="PJSIP/102-"), 20)
    assert await caller.ended(20) == "asterisk"
    await site.call_row(caller, outcome="answered")
    assert await site.counter("citizens_affairs", "transfers_out") == 1
    assert await site.counter("general", "transfers_in") == 1
    assert await site.counter("general", "transfers_answered") == 1
    assert await site.counter("general", "entered") == 0


async def test_transfer_to_an_agent_on_a_break_is_refused_and_the_call_stays(site: Site) -> None:
    await site.phone("101", talk_ms=6000)
    anowak = await site.agent("anowak")
    await site.agent("pkowalski", available=False)
    caller = await site.call()
    await walk_to_id_cards(site, caller)
    pop = await anowak.wait_for(lambda m: m.kind == "pop", 30)
    await anowak.wait_state("on_call", 20)
    status, answer = await anowak.transfer(pop.data["call_id"], "agent:pkowalski")
    assert status == 409 and answer["error"] == "agent_unavailable", answer
    assert "nie jest dostępny" in answer["message"]
    assert await caller.ended(20) == "asterisk"  # the talk went on until anowak hung up
    await site.call_row(caller, outcome="answered")


async def test_transfer_to_a_second_line_number_dials_it_through_the_trunk(site: Site) -> None:
    await site.phone("101", talk_ms=120_000)
    await site.citizen_phone(talk_ms=1500)  # the operator's side answers for the city unit
    anowak = await site.agent("anowak")
    caller = await site.call()
    pop = await talking_with_anowak(site, anowak, caller)

    status, answer = await anowak.transfer(pop.data["call_id"], "number:+48126161234")
    assert status == 200, answer
    await anowak.wait_state("wrap_up", 10)
    dropped = await site.observer.wait_for(named("Hangup", Channel__startswith="PJSIP/101-"), 10)
    second_line = await site.observer.wait_for(
        named("DialEnd", DestChannel__startswith="PJSIP/kck-trunk-"), 30, since=dropped.at
    )
    assert second_line.get("DialStatus") == "ANSWER"
    assert await caller.ended(20) == "asterisk"
    row = await site.call_row(caller, outcome="answered")
    assert [(t["kind"], t["to"]) for t in row.transfers] == [("number", "+48126161234")]
    invites = (site.folder / "sipp" / "phone-citizen-messages.txt").read_text()
    assert "INVITE sip:48126161234@" in invites  # trunk.number_format: international
    assert await site.counter("citizens_affairs", "transfers_out") == 1
    assert await site.live_calls() == set()


async def test_consult_holds_the_caller_on_music_then_hands_them_over(site: Site) -> None:
    await site.phone("101", talk_ms=120_000)
    await site.phone("102", talk_ms=120_000)  # pkowalski talks with anowak, then the caller
    anowak = await site.agent("anowak")
    pkowalski = await site.agent("pkowalski")
    caller = await site.call()
    pop = await talking_with_anowak(site, anowak, caller)
    call_id = pop.data["call_id"]

    status, answer = await anowak.consult(call_id, "start", "agent:pkowalski", NOTES)
    assert status == 200, answer
    follows = await pkowalski.wait_for(lambda m: m.kind == "pop", 10)
    assert follows.data["call_id"] == call_id and follows.data["handover"]["notes"] == NOTES
    held = await site.observer.wait_for(named("MusicOnHoldStart", CallerIDNum=caller.number), 20)
    # the consult leg: anowak's phone talks to pkowalski's while the caller hears music
    await site.observer.wait_for(
        named("BridgeEnter", Channel__startswith="PJSIP/102-"), 20, since=held.at
    )
    assert (await pkowalski.wait_state("offered", 5)).data.get("reason") == "consult"
    status, answer = await anowak.consult(call_id, "complete")
    assert status == 200, answer
    await anowak.wait_state("wrap_up", 10)
    await pkowalski.wait_state("on_call", 10)
    await site.observer.wait_for(named("MusicOnHoldStop", CallerIDNum=caller.number), 20)
    dropped = await site.observer.wait_for(named("Hangup", Channel__startswith="PJSIP/101-"), 10)
    assert not site.observer.find(named("Hangup", Channel__startswith="PJSIP/102-"))
    caller.hang_up()  # the caller, now with pkowalski, says goodbye
    await caller.ended(10)
    await site.observer.wait_for(
        named("Hangup", Channel__startswith="PJSIP/102-"), 10, since=dropped.at
    )
    await pkowalski.wait_state("wrap_up", 10)
    row = await site.call_row(caller, outcome="answered")
    assert [(t["from"], t["kind"], t["to"]) for t in row.transfers] == [
        ("anowak", "consult", "pkowalski")
    ]
    assert await site.counter("citizens_affairs", "transfers_answered") == 1
    assert await site.live_calls() == set()


async def test_consult_cancelled_takes_the_agent_back_to_the_caller(site: Site) -> None:
    await site.phone("101", talk_ms=120_000)
    await site.phone("102", talk_ms=120_000)
    anowak = await site.agent("anowak")
    pkowalski = await site.agent("pkowalski")
    caller = await site.call()
    pop = await talking_with_anowak(site, anowak, caller)
    call_id = pop.data["call_id"]

    status, answer = await anowak.consult(call_id, "start", "agent:pkowalski")
    assert status == 200, answer
    held = await site.observer.wait_for(named("MusicOnHoldStart", CallerIDNum=caller.number), 20)
    await site.observer.wait_for(
        named("BridgeEnter", Channel__startswith="PJSIP/102-"), 20, since=held.at
    )
    status, answer = await anowak.consult(call_id, "cancel")
    assert status == 200, answer
    await site.observer.wait_for(named("Hangup", Channel__startswith="PJSIP/102-"), 20)
    await site.observer.wait_for(named("MusicOnHoldStop", CallerIDNum=caller.number), 20)
    await pkowalski.wait_state("available", 10, since=held.at)
    assert anowak.states()[-1] == "on_call"  # still with the caller
    caller.hang_up()
    await caller.ended(10)
    await anowak.wait_state("wrap_up", 10)
    row = await site.call_row(caller, outcome="answered")
    assert row.transfers == []
    assert await site.counter("citizens_affairs", "transfers_out") == 0
