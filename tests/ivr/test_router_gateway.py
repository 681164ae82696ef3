"""The queue step over the real `queues` router (Redis, Lua): the caller's AGI session dials the agent."""

from __future__ import annotations

import shutil
from pathlib import Path

import redis.asyncio as aioredis

from ivr.agi_route import create_ivr_route
from ivr.router_gateway import RouterQueueGateway
from ivr.versions import MenuLibrary
from kck.clock import ManualClock
from kck.db import Call, create_engine, session_factory
from queues.config import load_routing_config
from queues.router import Router
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
            sessions,
            clock=clock,
            sounds_dir=tmp_path / "sounds",
            recordings_dir=tmp_path / "rec",
            hangup_errors=(PeerHungUp,),
        )
        session = ScriptedAGISession(["1", "5", "2"])
        await route(session)
        [dial] = session.sent("EXEC Dial")
        assert "104" in dial  # mwojcik's phone
        assert session.variables["KCK_IVR_OUTCOME"] == "queued_answered"
        async with sessions() as db:
            row = await db.get(Call, session.variables["KCK_CALL_ID"])
        assert row is not None and row.queue == "city_issues" and row.skills == {"greenery": 1}
    finally:
        await engine.dispose()


async def test_callback_request_from_the_menu_is_kept_by_the_router(
    sqlite_url: str, redis: aioredis.Redis, tmp_path: Path
) -> None:
    clock = ManualClock(local("2026-11-24 20:00"))
    router = Router(redis, load_routing_config(CONFIG), prefix="rc", clock=clock)
    engine = create_engine(sqlite_url)
    try:
        menus = tmp_path / "menus"
        shutil.copytree(SHIPPED, menus)
        sessions = session_factory(engine)
        library = MenuLibrary(sessions, redis, menus_dir=menus, key_prefix="rc")
        await library.reload(by="test")
        route = create_ivr_route(
            library,
            RouterQueueGateway(router),
            sessions,
            clock=clock,
            sounds_dir=tmp_path / "s",
            recordings_dir=tmp_path / "r",
            hangup_errors=(PeerHungUp,),
        )
        session = ScriptedAGISession(["1", "1", "1"])  # closed → callback → confirm own number
        await route(session)
        state = await router.call_state(session.variables["KCK_CALL_ID"])
        assert state is not None and state.get("cbnum") == "+48600100200"
        async with sessions() as db:
            row = await db.get(Call, session.variables["KCK_CALL_ID"])
        assert row is not None and row.outcome == "callback"
    finally:
        await engine.dispose()
