"""The agents' task table on SQLite and PostgreSQL: one task per call and kind, one holder at a
time even when agents claim at the same moment, and only due callbacks leave their schedule."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from agentdesk.tasks.models import AgentTask
from agentdesk.tasks.store import CallbackWish, TaskRefused, TaskStore
from kck.clock import ManualClock
from kck.db.engine import session_factory
from kck.db.models import AuditEntry, Call


@pytest.fixture
def store(engine: AsyncEngine) -> TaskStore:
    return TaskStore(session_factory(engine), ManualClock())


async def a_call(store: TaskStore, name: str, caller: str | None = "+48600123456") -> str:
    """A call row as the IVR writes it: its id 32 characters long, like every call id."""
    call_id = name.ljust(32, "0")
    async with store.sessions.begin() as db:
        db.add(Call(id=call_id, uniqueid=f"u-{call_id}", caller_number=caller))
    return call_id


async def test_callbacks_asked_at_once_for_one_call_make_one_task(store: TaskStore) -> None:
    call_id = await a_call(store, "c1")
    made = await asyncio.gather(
        *(store.callback_for_call(call_id, agent, CallbackWish()) for agent in ("a", "b", "c"))
    )
    assert len({task.id for task in made}) == 1
    async with store.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(AgentTask)) == 1
        created = await db.scalar(select(func.count()).where(AuditEntry.action == "task.created"))
    assert created == 1


async def test_two_agents_claiming_one_voicemail_at_once_give_it_one_holder(
    store: TaskStore,
) -> None:
    task, new = await store.voicemail(await a_call(store, "c2"), "general", "voicemail/x.wav", None)
    assert new
    results = await asyncio.gather(
        store.claim(task.id, "anowak"), store.claim(task.id, "pkowal"), return_exceptions=True
    )
    held = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, TaskRefused)]
    assert len(held) == 1 and len(refused) == 1 and refused[0].reason == "claimed"
    assert (await store.claim(task.id, held[0].claimed_by or "")).state == "claimed"  # again: ok


async def test_only_callbacks_whose_window_opened_are_due(store: TaskStore) -> None:
    clock = store.clock
    assert isinstance(clock, ManualClock)
    later = CallbackWish(window_from=clock.now() + timedelta(hours=1))
    now_task = await store.callback_for_call(await a_call(store, "c3"), "a", CallbackWish())
    later_task = await store.callback_for_call(await a_call(store, "c4"), "a", later)
    assert [t.id for t in await store.due_callbacks(clock.now())] == [now_task.id]
    assert await store.next_window() == later.window_from
    assert await store.mark_queued(now_task.id)
    assert not await store.mark_queued(now_task.id)  # once
    clock.advance(3600)
    assert [t.id for t in await store.due_callbacks(clock.now())] == [later_task.id]


async def test_a_queued_callback_is_closed_when_the_call_history_says_how_its_call_ended(
    store: TaskStore,
) -> None:
    reached = await store.callback_for_call(await a_call(store, "c5"), "a", CallbackWish())
    failed = await store.callback_for_call(await a_call(store, "c6"), "a", CallbackWish())
    waiting = await store.callback_for_call(await a_call(store, "c7"), "a", CallbackWish())
    for task in (reached, failed, waiting):
        assert await store.mark_queued(task.id)
    async with store.sessions.begin() as db:  # as the router's call history writes them
        for task, outcome in ((reached, "callback"), (failed, "callback_failed")):
            assert task.router_call_id is not None
            db.add(Call(id=task.router_call_id, uniqueid="", outcome=outcome))
        assert waiting.router_call_id is not None
        db.add(Call(id=waiting.router_call_id, uniqueid=""))  # still in progress
    assert await store.settle_callbacks() == 2
    assert await store.settle_callbacks() == 0
    states = {
        t.id: (t.state, t.outcome)
        for t in [await store.get(x.id) for x in (reached, failed, waiting)]
        if t
    }
    assert states == {
        reached.id: ("closed", "called_back"),
        failed.id: ("closed", "callback_failed"),
        waiting.id: ("queued", None),
    }
