"""The non-voice queue on a real Redis beside the real router: matters without a call go to idle
agents with the skill, one at a time, oldest first, and never hold a call up."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from kck.bus import Subscription
from kck.clock import ManualClock
from queues.model import AgentState, EndCause
from queues.nonvoice import NonVoiceDispatcher, NonVoiceItem, NonVoiceQueue
from queues.router import Router
from tests.queues.conftest import request, state_of


def item(n: int, skill: str = "roads", clock: ManualClock | None = None) -> NonVoiceItem:
    return NonVoiceItem(
        item_id=f"KCK-2026-{n:06d}",
        skill=skill,
        ref=f"KCK-2026-{n:06d}",
        source="open311",
        category="roads_pavements",
        summary="dziura w jezdni",
        queued_at=(clock.now().isoformat() if clock else ""),
    )


def queue_of(router: Router) -> NonVoiceQueue:
    return NonVoiceQueue(router.store.redis, router.clock, prefix=router.store.prefix)


async def test_an_item_waits_for_an_idle_agent_with_the_skill_and_goes_to_one_only(
    router: Router, clock: ManualClock
) -> None:
    queue = queue_of(router)
    assert await queue.add(item(1)) is None  # nobody signed in
    await router.agent_login("ala")  # no roads skill
    assert await queue.agent_free("ala") is None
    await router.agent_login("dan")  # roads 5
    assert await queue.agent_free("dan") == item(1).item_id
    held = await queue.held("dan")
    assert held is not None and held.ref == "KCK-2026-000001" and held.source == "open311"
    assert await queue.add(item(2)) is None  # dan holds one; nobody else has roads
    assert await queue.waiting("roads") == [item(2).item_id]


async def test_an_agent_holds_one_item_at_a_time_and_gets_the_oldest_next_when_done(
    router: Router, clock: ManualClock
) -> None:
    queue = queue_of(router)
    await router.agent_login("dan")
    assert await queue.add(item(1)) == "dan"
    clock.advance(1)
    assert await queue.add(item(2)) is None  # dan holds one already
    clock.advance(1)
    assert await queue.add(item(3)) is None
    assert await queue.waiting("roads") == [item(2).item_id, item(3).item_id]
    assert not await queue.done("dan", item(2).item_id)  # not the one dan holds
    assert await queue.done("dan", item(1).item_id)
    held = await queue.held("dan")
    assert held is not None and held.item_id == item(2).item_id


async def test_only_an_idle_agent_takes_an_item_and_a_call_still_goes_to_an_agent_holding_one(
    router: Router, clock: ManualClock
) -> None:
    queue = queue_of(router)
    await router.agent_login("dan", paused=True)
    assert await queue.add(item(1)) is None  # paused: not idle
    await router.set_agent_state("dan", AgentState.AVAILABLE)
    assert await queue.agent_free("dan") == item(1).item_id
    # a call comes: the router offers it to dan at once, the item does not hold it up
    offer = await router.enqueue(request(clock, {"roads": 1}))
    assert offer is not None and offer.agent == "dan"
    assert await router.offer_answered(offer.offer_id)
    await queue.done("dan", item(1).item_id)
    assert await queue.add(item(2)) is None  # on a call: no item
    await router.call_ended(offer.call_id, EndCause.COMPLETED)
    assert await state_of(router, "dan") is AgentState.WRAP_UP
    assert await queue.agent_free("dan") is None  # wrap-up is not idle either
    assert await queue.waiting("roads") == [item(2).item_id]


async def test_an_agent_signing_out_hands_the_item_back_to_its_place_for_the_next_agent(
    router: Router, clock: ManualClock
) -> None:
    queue = queue_of(router)
    await router.agent_login("dan")
    assert await queue.add(item(1)) == "dan"
    await router.agent_login("bob")  # roads 4: free, but dan holds the only item
    await router.set_agent_state("dan", AgentState.LOGGED_OUT)
    assert await queue.release("dan") == item(1).item_id
    held = await queue.held("bob")
    assert held is not None and held.item_id == item(1).item_id
    assert await queue.held("dan") is None


async def test_the_dispatcher_offers_an_item_when_the_router_says_an_agent_is_available(
    router: Router, clock: ManualClock, redis: aioredis.Redis
) -> None:
    queue = queue_of(router)
    await queue.add(item(7))
    dispatcher = NonVoiceDispatcher(queue)
    await dispatcher.start()
    offered: dict[str, Any] = {}
    try:
        async with Subscription(redis, [f"{router.store.prefix}:live:agent:dan"]) as live:
            await router.agent_login("dan")  # the router's agent_state message wakes it
            async for kind, data in live:
                if kind == "matter_offer":
                    offered = data
                    break
    finally:
        await dispatcher.stop()
    assert offered["agent"] == "dan"
    sent = NonVoiceItem.from_dict(offered["item"])
    assert (sent.ref, sent.source) == ("KCK-2026-000007", "open311")


async def test_the_sweep_offers_what_no_event_did(router: Router, clock: ManualClock) -> None:
    queue = queue_of(router)
    await queue.add(item(1, skill="waste"))
    await router.agent_login("dan")  # waste 3; nobody told the non-voice queue
    assert await queue.held("dan") is None
    assert await queue.sweep() == 1
    assert await queue.sweep() == 0
    held = await queue.held("dan")
    assert held is not None and held.skill == "waste"
