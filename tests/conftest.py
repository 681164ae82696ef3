"""Shared fixtures: real Redis, real PostgreSQL and SQLite, migrated databases, Services."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine

from kck.bus import EventBus
from kck.config_files import SHIPPED_CONFIG
from kck.db import create_engine, session_factory, upgrade
from kck.services import Services
from kck.settings import Settings, load_settings
from tests.real_asterisk.pbx import find_asterisk
from tests.services import PostgresProcess, RedisProcess, start_postgres, start_redis


def pytest_report_header() -> str:
    """One line at the top of every run: which real Asterisk the `asterisk` tests use, or why
    they are skipped (never silently)."""
    install = find_asterisk()
    if isinstance(install, str):
        return f"real Asterisk: none, the asterisk tests are skipped: {install}"
    return f"real Asterisk: {install.folder}"


_counter = itertools.count()


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    """A real Redis for the whole run: KCK_TEST_REDIS_URL, else a private redis-server."""
    if url := os.environ.get("KCK_TEST_REDIS_URL"):
        yield url
        return
    server: RedisProcess = start_redis()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
async def redis(redis_server_url: str) -> AsyncIterator[aioredis.Redis]:
    """A client on an emptied database; each test starts from nothing."""
    client = aioredis.from_url(redis_server_url)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.flushdb()
        await client.aclose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresProcess | str]:
    """A real PostgreSQL: KCK_TEST_POSTGRES_URL (a server URL ending in /postgres), else a throwaway cluster."""
    if url := os.environ.get("KCK_TEST_POSTGRES_URL"):
        yield url
        return
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


def _pg_url(server: PostgresProcess | str, database: str) -> str:
    if isinstance(server, str):
        base, _, _ = server.rpartition("/")
        return f"{base}/{database}"
    return server.url(database)


def _asyncpg_dsn(sqlalchemy_url: str) -> dict[str, object]:
    from sqlalchemy.engine import make_url

    url = make_url(sqlalchemy_url)
    port = url.query.get("port")  # a unix-socket URL names the socket's port in the query
    if isinstance(port, tuple):
        raise ValueError(f"{sqlalchemy_url}: more than one port in the query")
    return {
        "user": url.username,
        "password": url.password,
        "database": url.database,
        "host": url.query.get("host", url.host),
        "port": int(port) if port is not None else url.port or 5432,
    }


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresProcess | str) -> str:
    """A database migrated to head once; each test copies it (CREATE DATABASE … TEMPLATE)."""
    name = f"kck_template_{os.getpid()}"

    async def make() -> None:
        conn = await asyncpg.connect(**_asyncpg_dsn(_pg_url(postgres_server, "postgres")))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        engine = create_engine(_pg_url(postgres_server, name))
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(make())
    return name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"

    async def make() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(make())
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database URL — the test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "kck.db"
        shutil.copy(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    yield from _postgres_database(request)


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated, empty PostgreSQL database URL (for tests that need what SQLite cannot: several
    processes on one database)."""
    yield from _postgres_database(request)


def _postgres_database(request: pytest.FixtureRequest) -> Iterator[str]:
    server = request.getfixturevalue("postgres_server")
    template_name = request.getfixturevalue("postgres_template")
    name = f"kck_test_{os.getpid()}_{next(_counter)}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(**_asyncpg_dsn(_pg_url(server, "postgres")))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    try:
        yield _pg_url(server, name)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated SQLite database only (for tests that are not about the database)."""
    path = tmp_path / "kck.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(database_url)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Defaults with every folder inside the test's temporary folder."""
    return load_settings(
        Path(__file__).parent / "data" / "settings-empty.yaml",
        environ={},
        overrides={"base_dir": tmp_path, "paths": {"var": str(tmp_path / "var")}},
    )


@pytest.fixture
async def services(
    settings: Settings, sqlite_url: str, redis: aioredis.Redis
) -> AsyncIterator[Services]:
    """Services on SQLite and the test Redis (use `engine` directly to cover PostgreSQL too)."""
    eng = create_engine(sqlite_url)
    try:
        yield Services(
            settings=settings,
            engine=eng,
            sessions=session_factory(eng),
            redis=redis,
            bus=EventBus(redis, prefix=f"t{next(_counter)}"),
        )
    finally:
        await eng.dispose()


@pytest.fixture
def configured_services(services: Services) -> Services:
    """`services` reading the config/ folder we ship (skills, queues, agents, menus), as an
    installation that copied it does: kck reads no folder but the ones its settings name."""
    paths = services.settings.paths.model_copy(
        update={"config": SHIPPED_CONFIG, "menus": SHIPPED_CONFIG / "menus"}
    )
    return replace(services, settings=services.settings.model_copy(update={"paths": paths}))
