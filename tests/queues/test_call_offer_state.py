"""`Router.call_offer_state` (what the waiting loop reads every few seconds) gives the same
`state` and `offer` as the whole call hash of `call_state`, and None once the call is gone."""

from __future__ import annotations

import asyncio

from kck.clock import ManualClock
from queues.model import EndCause
from queues.router import Router
from tests.queues.conftest import request


async def _both(router: Router, call_id: str) -> tuple[object, object]:
    whole = await router.call_state(call_id)
    reduced = await router.call_offer_state(call_id)
    expected = None if whole is None else {k: whole[k] for k in ("state", "offer") if k in whole}
    return reduced, expected


async def test_offer_state_is_the_call_hashs_state_and_offer(
    router: Router, clock: ManualClock
) -> None:
    req = request(clock, {"taxes": 1})
    assert await router.call_offer_state(req.call_id) is None  # not queued yet
    await router.enqueue(req)
    reduced, expected = await _both(router, req.call_id)
    assert reduced == expected == {"state": "waiting"}
    [offer] = await router.agent_login("ala")
    reduced, expected = await _both(router, req.call_id)
    assert reduced == expected == {"state": "offered", "offer": offer.offer_id}
    await router.call_ended(req.call_id, EndCause.CALLER_HANGUP)
    assert await _both(router, req.call_id) == (None, None)


async def test_checks_made_at_once_share_round_trips_and_each_gets_its_own_call(
    router: Router, clock: ManualClock
) -> None:
    # 5,000 waiting callers check their call every few seconds: the checks made while one is
    # out go together in one pipeline, each answered with its own call's fields
    waiting = [request(clock, {"taxes": 1}) for _ in range(30)]
    for req in waiting:
        await router.enqueue(req)
    [offer] = await router.agent_login("ala")
    gone = next(req.call_id for req in waiting if req.call_id != offer.call_id)
    await router.call_ended(gone, EndCause.CALLER_HANGUP)
    ids = [req.call_id for req in waiting]
    alone = {call_id: await router.call_offer_state(call_id) for call_id in ids}
    before = router.store.field_read_round_trips
    together = await asyncio.gather(*(router.call_offer_state(call_id) for call_id in ids))
    assert dict(zip(ids, together, strict=True)) == alone
    assert alone.pop(offer.call_id) == {"state": "offered", "offer": offer.offer_id}
    assert alone.pop(gone) is None
    assert list(alone.values()) == [{"state": "waiting"}] * 28
    assert router.store.field_read_round_trips - before <= 3  # 30 one by one
