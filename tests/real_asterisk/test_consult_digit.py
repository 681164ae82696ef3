"""A consult whose extension digit Asterisk loses, on the real Asterisk: the loss is made on
purpose (the Atxfer's feature code is queued on the agent's leg without the digit, as Asterisk
22.10.1 did now and then: "Dialed no digits"), and kck's own `ConsultCalls`, in this process on
kck's Redis, sends the digit again until the consult leg dials the colleague; when the digit
never gets through the consult is given up and the caller stays with the agent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from asterisk.ami import AMIClient
from queues.config import load_routing_config
from queues.consult import ConsultCalls
from queues.router import Router, TransferRefused
from tests.real_asterisk.observer import named
from tests.real_asterisk.sites import PREFIX, Site
from tests.real_asterisk.test_transfer import talking_with_anowak

ATXFER_CODE = "*2"  # features.conf atxfer, as the generated configuration sets it


class DigitLostAMI:
    """The AMI client, except that Atxfer loses its extension digit: the transfer context and
    the feature code are queued on the channel as Asterisk's own Atxfer does, the digit is not.
    `resend`: False also swallows the digits `ConsultCalls` sends again (it never gets through)."""

    def __init__(self, client: AMIClient, *, resend: bool = True) -> None:
        self.client = client
        self.resend = resend
        self.resent = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    async def atxfer(self, channel: str, exten: str, context: str) -> None:
        await self.client.setvar("TRANSFER_CONTEXT", context, channel=channel)
        for digit in ATXFER_CODE:
            await self.client.play_dtmf(channel, digit, receive=True)

    async def play_dtmf(self, channel: str, digit: str, *, receive: bool = False) -> None:
        self.resent += 1
        if self.resend:
            await self.client.play_dtmf(channel, digit, receive=receive)


@pytest.fixture
async def router(site: Site) -> AsyncIterator[Router]:
    """A router on kck's own Redis and routing configuration: what `kck serve`'s desk uses."""
    config = await asyncio.to_thread(load_routing_config, site.installation.config_dir)
    client = aioredis.from_url(site.installation.redis_url)
    try:
        yield Router(client, config, prefix=PREFIX)
    finally:
        await client.aclose()


async def test_consult_whose_digit_is_lost_rings_the_colleague_once_it_is_sent_again(
    site: Site, router: Router
) -> None:
    await site.phone("101", talk_ms=120_000)
    await site.phone("102", talk_ms=120_000)
    anowak = await site.agent("anowak")
    pkowalski = await site.agent("pkowalski")
    caller = await site.call()
    pop = await talking_with_anowak(site, anowak, caller)
    call_id = pop.data["call_id"]
    ami = DigitLostAMI(site.observer.client)
    consults = ConsultCalls(router, ami)

    started = time.time()
    await consults.start(call_id, "anowak", "pkowalski", {"notes": "lost digit"})
    dialled = site.observer.find(
        named("DialBegin", Context="kck-consult", DestChannel__startswith="PJSIP/102-"), started
    )
    assert dialled, "start() returned before the consult leg dialled pkowalski"
    digits = [
        s.get("Digit")
        for s in site.observer.find(named("DTMFEnd", Channel__startswith="PJSIP/101-"), started)
        if s.at <= dialled[0].at
    ]
    # the feature code, then only digits kck sent again: the Atxfer's own digit was never there
    assert digits[:2] == list(ATXFER_CODE) and ami.resent >= 1
    assert digits[2:] and set(digits[2:]) == {"1"} and len(digits[2:]) <= ami.resent
    follows = await pkowalski.wait_for(lambda m: m.kind == "pop", 10)
    assert follows.data["call_id"] == call_id
    await site.observer.wait_for(
        named("BridgeEnter", Channel__startswith="PJSIP/102-"), 20, since=started
    )
    await consults.cancel(call_id, "anowak")
    await site.observer.wait_for(named("MusicOnHoldStop", CallerIDNum=caller.number), 20)
    await pkowalski.wait_state("available", 10, since=started)
    caller.hang_up()
    await caller.ended(10)
    await anowak.wait_state("wrap_up", 10)
    row = await site.call_row(caller, outcome="answered")
    assert row.transfers == []


async def test_consult_whose_digit_never_gets_through_is_given_up_and_the_caller_stays(
    site: Site, router: Router
) -> None:
    await site.phone("101", talk_ms=120_000)
    await site.phone("102", talk_ms=120_000)
    anowak = await site.agent("anowak")
    pkowalski = await site.agent("pkowalski")
    caller = await site.call()
    pop = await talking_with_anowak(site, anowak, caller)
    call_id = pop.data["call_id"]
    consults = ConsultCalls(router, DigitLostAMI(site.observer.client, resend=False))

    started = time.time()
    with pytest.raises(TransferRefused) as refused:
        await consults.start(call_id, "anowak", "pkowalski")
    assert refused.value.reason == "consult_not_started"
    await pkowalski.wait_state("available", 10, since=started)
    # Asterisk ends its own reading of the extension: the caller is taken off hold, still there
    await site.observer.wait_for(
        named("MusicOnHoldStop", CallerIDNum=caller.number), 30, since=started
    )
    assert not site.observer.find(named("DialBegin", Context="kck-consult"), started)
    assert not site.observer.find(named("Hangup", CallerIDNum=caller.number), started)
    call = await router.call_state(call_id)
    assert call is not None and call.get("state") == "on_call" and not call.get("consult")
    caller.hang_up()
    await caller.ended(10)
    await anowak.wait_state("wrap_up", 10)
    await site.call_row(caller, outcome="answered")
