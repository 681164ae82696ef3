"""Apply and check Alembic migrations on an async engine (`kck db upgrade`, start-up check)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from kck.db.engine import DatabaseUnavailable, safe_url


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("kck") / "migrations"))
    return config


@dataclass(frozen=True)
class SchemaStatus:
    current: tuple[str, ...]
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == (self.head,)


class SchemaNotMigrated(Exception):
    """The database schema is older than this kck; run `kck db upgrade`."""


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations are shipped")
    return head


def _current(conn: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(conn).get_current_heads())


def _upgrade(conn: Connection, target: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = conn
    command.upgrade(config, target)


async def upgrade(engine: AsyncEngine, target: str = "head") -> SchemaStatus:
    """Bring the schema to `target` (idempotent) and return the resulting status."""
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade, target)
    except (OperationalError, DBAPIError, OSError) as exc:
        raise DatabaseUnavailable(f"database {safe_url(str(engine.url))}: {_short(exc)}") from None
    return await status(engine)


async def status(engine: AsyncEngine) -> SchemaStatus:
    try:
        async with engine.connect() as conn:
            current = await conn.run_sync(_current)
    except (OperationalError, DBAPIError, OSError) as exc:
        raise DatabaseUnavailable(f"database {safe_url(str(engine.url))}: {_short(exc)}") from None
    return SchemaStatus(current=current, head=_head())


async def require_current_schema(engine: AsyncEngine) -> None:
    """Refuse to run on a database that `kck db upgrade` has not brought up to date."""
    state = await status(engine)
    if not state.up_to_date:
        have = ", ".join(state.current) or "empty"
        raise SchemaNotMigrated(
            f"database {safe_url(str(engine.url))} is at revision {have}, this kck needs "
            f"{state.head}: run `kck db upgrade`"
        )


def _short(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__
