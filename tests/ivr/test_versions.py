"""Menu versions in the database and Redis: reload, rejection, pinning, rollback, several processes."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.interpreter import CallInfo, Interpreter, IVROutcome
from ivr.loader import MenuFiles
from ivr.memory_gateway import InMemoryQueueGateway
from ivr.models import MenuVersionRow
from ivr.scripted_channel import ScriptedChannel
from ivr.step_labels import LiveStepLabels
from ivr.validation import ValidatedMenu
from ivr.versions import MenuLibrary, MenuRejected, NoMenuVersion
from kck.clock import ManualClock
from kck.db import AuditEntry, create_engine, session_factory
from tests.ivr.support import SHIPPED, announcement_prompts, local

SMALL = f"""\
menu: {{name: Small, start: hello}}
prompts:
  hi: {{text: {{pl: Dzień dobry}}}}
  q: {{text: {{pl: Łączę}}}}
{announcement_prompts("pl")}steps:
  hello: {{type: say, prompt: hi, next: queue_a}}
  queue_a: {{type: queue, queue: first, prompt: q}}
"""


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def menus(tmp_path: Path) -> Path:
    folder = tmp_path / "menus"
    folder.mkdir()
    (folder / "main.yaml").write_text(SMALL, encoding="utf-8")
    return folder


def library(
    sessions: async_sessionmaker[AsyncSession], redis: aioredis.Redis, menus: Path
) -> MenuLibrary:
    return MenuLibrary(sessions, redis, menus_dir=menus, key_prefix="t")


async def test_first_reload_stores_version_one_and_makes_it_live(
    sessions: async_sessionmaker[AsyncSession], redis: aioredis.Redis, menus: Path
) -> None:
    lib = library(sessions, redis, menus)
    with pytest.raises(NoMenuVersion):
        await lib.live()
    result = await lib.reload(by="cli:anna", message="first menu")
    assert result.changed and result.version.id == 1 and result.version.accepted
    live = await lib.live()
    assert live.version_id == 1 and live.label.startswith("v1@")
    assert await redis.get("t:ivr:live_version") == b"1"
    [info] = await lib.versions()
    assert (info.loaded_by, info.message) == ("cli:anna", "first menu")
    again = await lib.reload(by="watch")
    assert not again.changed and again.version.id == 1


async def test_bad_reload_is_rejected_with_its_errors_and_the_live_version_stays(
    sessions: async_sessionmaker[AsyncSession], redis: aioredis.Redis, menus: Path
) -> None:
    lib = library(sessions, redis, menus)
    await lib.reload(by="cli")
    (menus / "main.yaml").write_text(
        SMALL.replace("next: queue_a", "next: queue_b"), encoding="utf-8"
    )
    with pytest.raises(MenuRejected) as caught:
        await lib.reload(by="watch")
    assert caught.value.version_id == 2
    line = next(n for n, text in enumerate(SMALL.splitlines(), 1) if "next: queue_a" in text)
    assert f"main.yaml:{line}:" in str(caught.value) and "'queue_b'" in str(caught.value)
    assert "the live menu stays" in str(caught.value)
    assert (await lib.live()).version_id == 1
    versions = await lib.versions()
    assert [(v.id, v.accepted, v.error_count) for v in versions] == [(2, False, 2), (1, True, 0)]
    async with sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["ivr.reload", "ivr.reload_rejected"]


async def test_a_call_runs_to_its_end_on_the_version_live_when_it_started(
    sessions: async_sessionmaker[AsyncSession], redis: aioredis.Redis, menus: Path
) -> None:
    lib = library(sessions, redis, menus)
    await lib.reload(by="cli")
    pinned = await lib.live()
    gateway = InMemoryQueueGateway()
    clock = ManualClock(local("2026-11-24 10:00"))
    interp = Interpreter(pinned.menu, pinned.label, gateway=gateway, clock=clock)
    channel = ScriptedChannel()
    call = asyncio.create_task(interp.run(channel, CallInfo("c1", "u1", "ch", None, clock.now())))
    await gateway.until_waiting("c1")
    # an editor renames the queue while the caller waits
    (menus / "main.yaml").write_text(
        SMALL.replace("queue: first", "queue: second"), encoding="utf-8"
    )
    reloaded = await lib.reload(by="watch")
    assert reloaded.version.id == 2 and (await lib.live()).version_id == 2
    gateway.finish("c1")
    result = await call
    assert result.outcome is IVROutcome.QUEUED
    assert result.routing is not None and result.routing.queue == "first"
    assert result.routing.menu_version == pinned.label
    new_call = await Interpreter(
        (await lib.live()).menu,
        "v2",
        gateway=InMemoryQueueGateway(answer_at_once=result.queue_outcome),
        clock=clock,
    ).run(ScriptedChannel(), CallInfo("c2", "u2", "ch", None, clock.now()))
    assert new_call.routing is not None and new_call.routing.queue == "second"


async def test_rollback_makes_an_earlier_version_live_in_one_step(
    sessions: async_sessionmaker[AsyncSession], redis: aioredis.Redis, menus: Path
) -> None:
    lib = library(sessions, redis, menus)
    await lib.reload(by="cli")
    (menus / "main.yaml").write_text(SMALL.replace("Dzień dobry", "Witamy"), encoding="utf-8")
    await lib.reload(by="cli")
    info = await lib.rollback(1, by="cli:anna", reason="powitanie jak wcześniej")
    assert info.id == 1 and (await lib.live()).version_id == 1
    async with sessions() as db:
        audited = await db.scalar(select(AuditEntry).where(AuditEntry.action == "ivr.rollback"))
    assert audited is not None and audited.actor == "cli:anna"
    assert audited.details == {"reason": "powitanie jak wcześniej"}  # who, when (`at`) and why
    (menus / "main.yaml").write_text("menu: [", encoding="utf-8")
    with pytest.raises(MenuRejected):
        await lib.reload(by="cli")
    with pytest.raises(NoMenuVersion):
        await lib.rollback(3, by="cli")  # the rejected one
    with pytest.raises(NoMenuVersion):
        await lib.rollback(99, by="cli")


async def test_processes_sharing_redis_and_the_database_agree_on_the_live_version(
    sessions: async_sessionmaker[AsyncSession], redis: aioredis.Redis, menus: Path
) -> None:
    first, second = library(sessions, redis, menus), library(sessions, redis, menus)
    await first.reload(by="cli")
    assert (await second.live()).version_id == 1
    (menus / "main.yaml").write_text(SMALL.replace("Dzień dobry", "Witamy"), encoding="utf-8")
    await first.reload(by="web:anna")
    assert (await second.live()).version_id == 2
    await second.rollback(1, by="cli")
    assert (await first.live()).version_id == 1


async def test_live_version_survives_redis_losing_its_data(
    sessions: async_sessionmaker[AsyncSession], redis: aioredis.Redis, menus: Path
) -> None:
    lib = library(sessions, redis, menus)
    await lib.reload(by="cli")
    (menus / "main.yaml").write_text(SMALL.replace("Dzień dobry", "Witamy"), encoding="utf-8")
    await lib.reload(by="cli")
    await lib.rollback(1, by="cli")
    await redis.flushdb()
    assert (await library(sessions, redis, menus).live()).version_id == 1


async def test_shipped_menu_loads_as_a_version(
    sqlite_url: str, redis: aioredis.Redis, tmp_path: Path
) -> None:
    engine = create_engine(sqlite_url)
    try:
        folder = tmp_path / "menus"
        shutil.copytree(SHIPPED, folder)
        lib = MenuLibrary(session_factory(engine), redis, menus_dir=folder, key_prefix="s")
        live = await lib.ensure_live()
        assert live.menu.header.name == "Kontakt Centrum Miasta"
        async with session_factory(engine)() as session:
            row = await session.get(MenuVersionRow, live.version_id)
        assert row is not None and "problems.yaml" in row.files and "intents.yaml" in row.files
    finally:
        await engine.dispose()


async def test_two_processes_reloading_the_same_change_make_one_version(
    sessions: async_sessionmaker[AsyncSession], redis: aioredis.Redis, menus: Path
) -> None:
    first, second = library(sessions, redis, menus), library(sessions, redis, menus)
    await first.reload(by="cli")
    (menus / "main.yaml").write_text(SMALL.replace("Dzień dobry", "Witamy"), encoding="utf-8")
    results = await asyncio.gather(first.reload(by="watch"), second.reload(by="watch"))
    assert sorted(r.changed for r in results) == [False, True]
    assert [v.id for v in await first.versions()] == [2, 1]


async def test_calls_arriving_together_after_a_start_share_one_validation_of_the_menu(
    sessions: async_sessionmaker[AsyncSession],
    redis: aioredis.Redis,
    menus: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await library(sessions, redis, menus).reload(by="cli")
    fresh = library(sessions, redis, menus)  # another process: nothing cached yet
    validations = 0
    validate = fresh.validate

    async def counted(files: MenuFiles, *, with_sounds: bool = True) -> ValidatedMenu:
        nonlocal validations
        validations += 1
        return await validate(files, with_sounds=with_sounds)

    monkeypatch.setattr(fresh, "validate", counted)
    hung_up = asyncio.create_task(fresh.live())  # a caller who hangs up while it loads
    calls = [asyncio.create_task(fresh.live()) for _ in range(10)]
    await asyncio.sleep(0)
    hung_up.cancel()
    loaded = await asyncio.gather(*calls)
    assert {menu.version_id for menu in loaded} == {1} and validations == 1
    assert (await fresh.live()) is loaded[0] and validations == 1


async def test_a_process_keeping_the_live_version_switches_when_told_or_when_its_cache_ends(
    sessions: async_sessionmaker[AsyncSession], redis: aioredis.Redis, menus: Path
) -> None:
    editor = library(sessions, redis, menus)
    await editor.reload(by="cli")
    node = MenuLibrary(sessions, redis, menus_dir=menus, key_prefix="t", live_cache_s=3600)
    assert (await node.live()).version_id == 1
    (menus / "main.yaml").write_text(SMALL.replace("Dzień dobry", "Witamy"), encoding="utf-8")
    await editor.reload(by="web:anna")
    assert (await node.live()).version_id == 1  # kept: no Redis read per call
    node.live_changed(2)  # what the broadcast of the change does
    assert (await node.live()).version_id == 2
    await editor.rollback(1, by="cli")
    node.live_cache_s = 0  # as when the kept id has aged
    assert (await node.live()).version_id == 1


async def test_step_labels_follow_the_live_version_in_each_language(
    sessions: async_sessionmaker[AsyncSession], redis: aioredis.Redis, menus: Path
) -> None:
    """What the reports read to name the callers' IVR branches (ivr.step_labels)."""
    lib = library(sessions, redis, menus)
    labels = LiveStepLabels(lib)
    assert await labels.step_labels() == {}  # nothing live yet: the report shows step ids
    await lib.reload(by="test")
    assert (await labels.step_labels())["hello"] == {"pl": "hello", "en": "hello"}  # no label
    main = menus / "main.yaml"
    main.write_text(
        main.read_text(encoding="utf-8").replace(
            "hello: {type: say,", "hello: {label: {pl: Powitanie, en: Greeting}, type: say,"
        ),
        encoding="utf-8",
    )
    await lib.reload(by="test")
    assert (await labels.step_labels())["hello"] == {"pl": "Powitanie", "en": "Greeting"}
