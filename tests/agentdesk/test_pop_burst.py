"""Pops built at once (issue 20, point 4): shared work, the same contents as built one by one."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from agentdesk.app import pops_key
from agentdesk.kb_adapter import KbKnowledge
from agentdesk.screenpop import ScreenPopBuilder
from queues.model import Offer, OfferKind
from tests.agentdesk.conftest import DeskWorld, routing_request


def _offer(call_id: str, request: dict[str, Any]) -> Offer:
    return Offer(
        offer_id=f"offer-{call_id}",
        call_id=call_id,
        agent="anowak",
        extension="101",
        dial="PJSIP/101",
        ring_timeout_s=20,
        offered_at="2026-11-24T09:00:00Z",
        kind=OfferKind.INBOUND,
        request=request,
    )


async def test_a_burst_of_pops_reads_history_once_and_shows_what_each_pop_alone_shows(
    world: DeskWorld,
) -> None:
    now = datetime.now(UTC)
    offers = []
    for n in range(12):
        caller = f"+4860012{n:04d}"
        for days in range(n + 2):  # up to 13 calls: more than the 10 a pop shows
            await world.store_call(
                caller,
                arrived_at=now - timedelta(days=days * 9, hours=n),  # some beyond 90 days
                outcome="answered",
                wrapup_outcome="callback_needed" if days % 2 else None,
                queue="city_issues" if days % 3 else None,
            )
        call_id = await world.store_call(caller, arrived_at=now)
        # half the calls on one topic, half on another (with a transcript)
        request = routing_request(
            call_id,
            caller,
            intent="fallen-tree" if n % 2 else None,
            transcript=None if n % 2 else "dziura w jezdni na ulicy",
        )
        offers.append(_offer(call_id, request))
    offers.append(_offer("withheld", routing_request("withheld", None)))

    builder: ScreenPopBuilder = world.app[pops_key]
    calls_queries: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM calls" in statement:
            calls_queries.append(statement)

    sync_engine = world.services.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", count)
    try:
        together = await asyncio.gather(*(builder.build(o, "pl", now) for o in offers))
    finally:
        event.remove(sync_engine, "before_cursor_execute", count)
    assert len(calls_queries) < len(offers) / 2  # was one per pop

    assert isinstance(builder.knowledge, KbKnowledge)
    for offer, pop in zip(offers, together, strict=True):
        # a builder of its own for each pop: nothing shared, nothing kept
        alone = dataclasses.replace(
            builder, knowledge=KbKnowledge(builder.knowledge.kb, suggestions_kept_s=0)
        )
        assert await alone.build(offer, "pl", now) == pop
    shown = [len(pop["history"]["calls"]) for pop in together]
    assert max(shown) == 10 and min(shown) == 0
    assert all(pop["suggestions"] for pop in together[:-1])
