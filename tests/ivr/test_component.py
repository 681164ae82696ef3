"""The IVR component: first load, hot reload by file watch, and calls through the real FastAGI
server driven by the PBX simulator (the same path Asterisk takes)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from demo.simulator import CallerScript, CallResult, DigitPress, PBXSimulator
from ivr.component import VERSION_CHANNEL, IVRComponent
from ivr.versions import MenuLibrary, VersionInfo
from kck.clock import ManualClock
from kck.controller import build_controller
from kck.db import Call
from kck.services import Services
from tests.call_history import record_call_history
from tests.ivr.agi_double import ScriptedAGISession
from tests.ivr.support import SHIPPED, local

SPEED = 50.0


@pytest.fixture
async def component(services: Services) -> AsyncIterator[IVRComponent]:
    menus = services.settings.path(services.settings.paths.menus)
    shutil.copytree(SHIPPED, menus)
    # the FastAGI server on any free port
    settings = services.settings.model_copy(
        update={"agi": services.settings.agi.model_copy(update={"port": 0})}
    )
    services.settings = settings
    services.clock = ManualClock(local("2026-11-24 10:00"))  # office hours, whatever the real time
    comp = IVRComponent(services)
    await comp.start()
    try:
        yield comp
    finally:
        await comp.stop()


async def test_start_loads_the_menus_folder_as_the_live_version(component: IVRComponent) -> None:
    health = component.health()
    assert health["up"] and health["live_version"].startswith("v1@") and health["watching"]


async def test_file_change_is_reloaded_and_a_broken_change_is_rejected(
    component: IVRComponent,
) -> None:
    changed: asyncio.Queue[VersionInfo] = asyncio.Queue()
    announce = component.library.on_change
    assert announce is not None  # the component announces each new live version

    async def seen(info: VersionInfo) -> None:
        await announce(info)
        await changed.put(info)

    component.library.on_change = seen
    main = component.menus_dir / "main.yaml"
    await asyncio.sleep(0.3)  # let the watcher settle on the folder
    main.write_text(
        main.read_text(encoding="utf-8").replace("timeout: 5 ", "timeout: 6 "), encoding="utf-8"
    )
    info = await asyncio.wait_for(changed.get(), 20)
    assert info.id == 2 and info.loaded_by == "watch"
    main.write_text(
        main.read_text(encoding="utf-8").replace("start: welcome", "start: welcom"),
        encoding="utf-8",
    )
    for _ in range(100):
        if component.last_rejection:
            break
        await asyncio.sleep(0.2)
    assert component.last_rejection is not None and "'welcom'" in component.last_rejection
    assert (await component.library.live()).version_id == 2


async def test_a_version_another_node_made_live_is_taken_from_its_broadcast(
    component: IVRComponent, services: Services, tmp_path: Path
) -> None:
    component.library.live_cache_s = 3600  # only the broadcast can make this node switch
    first = (await component.library.live()).version_id
    edited = tmp_path / "other-node-menus"  # not the folder this node watches
    shutil.copytree(component.menus_dir, edited)
    main = edited / "main.yaml"
    main.write_text(
        main.read_text(encoding="utf-8").replace("timeout: 5 ", "timeout: 7 "), encoding="utf-8"
    )
    other_node = MenuLibrary(
        services.sessions,
        services.redis,
        menus_dir=edited,
        key_prefix=services.settings.redis.key_prefix,
    )
    result = await other_node.reload(by="web:editor")
    assert result.version.id != first
    await services.bus.broadcast(VERSION_CHANNEL, "menu_version", result.version.as_dict())
    for _ in range(200):
        if (await component.library.live()).version_id == result.version.id:
            break
        await asyncio.sleep(0.02)
    assert (await component.library.live()).version_id == result.version.id
    assert component.live_label == result.version.label


@pytest.mark.parametrize(("at_welcome", "consent"), [("", True), ("9", False)])
async def test_simulated_call_reports_a_problem_through_the_real_fastagi_server(
    component: IVRComponent, services: Services, at_welcome: str, consent: bool
) -> None:
    port = component.health()["agi"].rsplit(":", 1)[1]
    async with PBXSimulator(agi_url=f"agi://127.0.0.1:{port}/ivr", speed=SPEED) as pbx:
        call = pbx.place_call(
            CallerScript(
                number="+48600123456",
                digits=(
                    DigitPress(at_welcome),  # 9 refuses the recording, "" lets it pass
                    DigitPress("1", 1.0),
                    DigitPress("5", 1.0),
                    DigitPress("3", 1.0),
                ),
            )
        )
        outcome = await asyncio.wait_for(call, 30)
    assert outcome.result in (CallResult.FALLBACK_QUEUE, CallResult.ENDED_BY_CONTROLLER), outcome
    await record_call_history(services.bus, services.sessions)  # the router's writer, here
    async with services.sessions() as db:
        [row] = (await db.scalars(select(Call))).all()
    assert row.caller_number == "+48600123456"
    assert row.queue == "city_issues" and row.ticket_category == "rubbish"
    keys = [s["digits"] for s in row.ivr_path if s["digits"]]
    assert keys == ([at_welcome] if at_welcome else []) + ["1", "5", "3"]
    assert row.recording_consent is consent


async def test_simulated_caller_hanging_up_in_the_menu_is_recorded(
    component: IVRComponent, services: Services
) -> None:
    port = component.health()["agi"].rsplit(":", 1)[1]
    async with PBXSimulator(agi_url=f"agi://127.0.0.1:{port}/ivr", speed=SPEED) as pbx:
        outcome = await asyncio.wait_for(pbx.place_call(CallerScript(patience=4.0)), 30)
    assert outcome.result is CallResult.CALLER_HUNG_UP
    for _ in range(50):
        await record_call_history(services.bus, services.sessions)  # the router's writer, here
        async with services.sessions() as db:
            row = (await db.scalars(select(Call))).first()
        if row is not None and row.outcome != "in_progress":
            break
        await asyncio.sleep(0.1)
    assert row is not None and row.outcome == "hung_up_in_ivr"


async def test_demo_without_menus_in_its_folder_loads_nothing_and_names_the_missing_file(
    services: Services,
) -> None:
    menus = services.settings.path(services.settings.paths.menus)
    comp = IVRComponent(services, watch=False, serve_agi=False)
    assert comp.menus_dir == menus  # the configured folder, never the one kck ships
    await comp.start()
    try:
        health = comp.health()
        assert health["live_version"] is None and health["menus"] == str(menus)
        assert comp.last_rejection == f"no menu to load: {menus / 'main.yaml'} does not exist"
    finally:
        await comp.stop()


async def test_prompts_are_streamed_from_the_sounds_folder_as_asterisk_sees_it(
    services: Services,
) -> None:
    """kck builds and checks prompts in paths.sounds; Asterisk on another host plays its copy."""
    settings = services.settings
    asterisk = settings.asterisk.model_copy(update={"sounds": Path("/srv/asterisk/kck-sounds")})
    services.settings = settings.model_copy(update={"asterisk": asterisk})
    services.clock = ManualClock(local("2026-11-24 10:00"))
    shutil.copytree(SHIPPED, settings.path(settings.paths.menus))
    comp = IVRComponent(services, watch=False, serve_agi=False)
    assert comp.sounds_dir == settings.path(settings.paths.sounds)  # validation stays local
    await comp.start()
    try:
        session = ScriptedAGISession(["1", "5", "2"])
        await comp.route(session)
        played = [c for c in session.commands if c.startswith(("STREAM FILE", "GET DATA"))]
        assert played and all(" /srv/asterisk/kck-sounds/pl/" in c for c in played), played
    finally:
        await comp.stop()


async def test_the_waiting_loop_plays_from_the_sounds_folder_as_asterisk_sees_it(
    configured_services: Services,
) -> None:
    """The composition root hands the router's gateway the same folder as the IVR's prompts."""
    settings = configured_services.settings
    asterisk = settings.asterisk.model_copy(update={"sounds": Path("/srv/asterisk/kck-sounds")})
    services = replace(
        configured_services, settings=settings.model_copy(update={"asterisk": asterisk})
    )
    controller = await build_controller(services, dict)
    waiting = controller.ivr.gateway  # the waiting loop's prompts
    assert getattr(waiting, "sounds_dir", None) == Path("/srv/asterisk/kck-sounds")
    assert getattr(waiting, "router", None) is controller.router.router
