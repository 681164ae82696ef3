"""The queue step over the real `queues` router (Redis, Lua): the caller's AGI session dials the agent."""

from __future__ import annotations

import shutil
from pathlib import Path

import redis.asyncio as aioredis

from ivr.agi_route import create_ivr_route
from ivr.router_gateway import RouterQueueGateway
from ivr.versions import MenuLibrary
from kck.bus import EventBus
from kck.clock import ManualClock
from kck.db import Call, create_engine, session_factory
from kck.phone import TrunkDial
from queues.config import load_routing_config
from queues.router import Router
from tests.call_history import record_call_history
from tests.ivr.agi_double import PeerHungUp, ScriptedAGISession
from tests.ivr.support import SHIPPED, local

CONFIG = SHIPPED.parent


async def test_greenery_report_is_matched_to_the_greenery_agent_and_dialled(
    sqlite_url: str, redis: aioredis.Redis, tmp_path: Path
) -> None:
    clock = ManualClock(local("2026-11-24 10:00"))
    router = Router(redis, load_routing_config(CONFIG), prefix="rg", clock=clock)
    await router.agent_login("mwojcik")  # roads 4, greenery 3, waste 4
    engine = create_engine(sqlite_url)
    try:
        menus = tmp_path / "menus"
        shutil.copytree(SHIPPED, menus)
        sessions = session_factory(engine)
        library = MenuLibrary(sessions, redis, menus_dir=menus, key_prefix="rg")
        await library.reload(by="test")
        route = create_ivr_route(
            library,
            RouterQueueGateway(router),
            EventBus(redis, "rg"),
            clock=clock,
            sounds_dir=tmp_path / "sounds",
            recordings_dir=tmp_path / "rec",
            dial=TrunkDial(),
            hangup_errors=(PeerHungUp,),
        )
        session = ScriptedAGISession(["1", "5", "2"])
        await route(session)
        [dial] = session.sent("EXEC Dial")
        assert "104" in dial  # mwojcik's phone
        assert session.variables["KCK_IVR_OUTCOME"] == "queued_answered"
        await record_call_history(EventBus(redis, "rg"), sessions, router.config)
        async with sessions() as db:
            row = await db.get(Call, session.variables["KCK_CALL_ID"])
        assert row is not None and row.queue == "city_issues" and row.skills == {"greenery": 1}
    finally:
        await engine.dispose()


async def _callback_call(
    sqlite_url: str,
    redis: aioredis.Redis,
    tmp_path: Path,
    router: Router,
    clock: ManualClock,
    prefix: str,
) -> tuple[ScriptedAGISession, Call | None]:
    """A caller at night: closed → callback → confirms their own number."""
    engine = create_engine(sqlite_url)
    try:
        menus = tmp_path / "menus"
        shutil.copytree(SHIPPED, menus)
        sessions = session_factory(engine)
        library = MenuLibrary(sessions, redis, menus_dir=menus, key_prefix=prefix)
        await library.reload(by="test")
        route = create_ivr_route(
            library,
            RouterQueueGateway(router),
            EventBus(redis, prefix),
            clock=clock,
            sounds_dir=tmp_path / "s",
            recordings_dir=tmp_path / "r",
            dial=TrunkDial(),
            hangup_errors=(PeerHungUp,),
        )
        session = ScriptedAGISession(["1", "1", "1"])
        await route(session)
        await record_call_history(EventBus(redis, prefix), sessions, router.config)
        async with sessions() as db:
            row = await db.get(Call, session.variables["KCK_CALL_ID"])
        return session, row
    finally:
        await engine.dispose()


async def test_callback_request_from_the_menu_is_kept_by_the_router(
    sqlite_url: str, redis: aioredis.Redis, tmp_path: Path
) -> None:
    clock = ManualClock(local("2026-11-24 20:00"))
    router = Router(redis, load_routing_config(CONFIG), prefix="rc", clock=clock)
    session, row = await _callback_call(sqlite_url, redis, tmp_path, router, clock, "rc")
    state = await router.call_state(session.variables["KCK_CALL_ID"])
    assert state is not None and state.get("cbnum") == "+48600100200"
    assert row is not None and row.outcome == "callback"


async def test_callback_request_while_an_agent_is_free_offers_a_callback_not_an_empty_inbound_call(
    sqlite_url: str, redis: aioredis.Redis, tmp_path: Path
) -> None:
    clock = ManualClock(local("2026-11-24 20:00"))
    router = Router(redis, load_routing_config(CONFIG), prefix="rf", clock=clock)
    await router.agent_login("anowak")  # id cards 5: eligible for the documents queue
    session, _row = await _callback_call(sqlite_url, redis, tmp_path, router, clock, "rf")
    call_id = session.variables["KCK_CALL_ID"]
    state = await router.call_state(call_id)
    assert state is not None and state.get("cbnum") == "+48600100200"
    offer = await router.current_offer("anowak")
    assert offer is not None and offer.call_id == call_id and offer.kind == "callback"
    assert session.sent("EXEC Dial") == []  # nobody dials an inbound leg that is not there
