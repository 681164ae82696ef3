"""Menu versions: each loaded set is stored; the live one is named in Redis so every process agrees.

A call takes `await library.live()` once when it starts and keeps that LoadedMenu to its end, so a
reload never changes a call in progress. A set that fails validation is stored as rejected (with
its problems, for the editors) and the live version stays.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.loader import MAIN_FILE, MenuFiles, MenuSet, read_menu_files
from ivr.models import MenuVersionRow
from ivr.problems import Problem, ProblemList
from ivr.skills import SkillDirectory, read_skill_directory
from ivr.validation import SoundExists, ValidatedMenu, validate_files
from kck.clock import Clock, SystemClock
from kck.db.models import AuditEntry
from kck.errors import UserError

log = logging.getLogger(__name__)


class MenuRejected(UserError):
    """A menu set failed validation; `problems` has every error with its file:line:column."""

    def __init__(self, version_id: int | None, problems: list[Problem]) -> None:
        self.version_id = version_id
        self.problems = problems
        errors = [p for p in problems if p.severity.value == "error"]
        lines = "\n  ".join(str(p) for p in errors)
        label = f"version {version_id} " if version_id else ""
        super().__init__(f"menu {label}rejected, the live menu stays:\n  {lines}")


class NoMenuVersion(UserError):
    """No such version, or no live version yet."""


@dataclass(frozen=True)
class VersionInfo:
    id: int
    content_hash: str
    created_at: datetime
    loaded_by: str
    message: str | None
    accepted: bool
    activated_at: datetime | None
    error_count: int
    warning_count: int

    @property
    def label(self) -> str:
        return version_label(self.id, self.content_hash)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "content_hash": self.content_hash,
            "created_at": self.created_at.isoformat(),
            "loaded_by": self.loaded_by,
            "message": self.message,
            "accepted": self.accepted,
            "activated_at": self.activated_at.isoformat() if self.activated_at else None,
            "errors": self.error_count,
            "warnings": self.warning_count,
        }


@dataclass(frozen=True)
class LoadedMenu:
    """A validated menu version, ready to run calls."""

    version_id: int
    label: str
    menu: MenuSet
    warnings: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class ReloadResult:
    version: VersionInfo
    problems: tuple[Problem, ...]
    changed: bool  # False when this content was already live


def version_label(version_id: int, content_hash: str) -> str:
    return f"v{version_id}@{content_hash[:8]}"


def _info(row: MenuVersionRow) -> VersionInfo:
    errors = sum(1 for p in row.problems if p.get("severity") == "error")
    return VersionInfo(
        id=row.id,
        content_hash=row.content_hash,
        created_at=row.created_at,
        loaded_by=row.loaded_by,
        message=row.message,
        accepted=row.accepted,
        activated_at=row.activated_at,
        error_count=errors,
        warning_count=len(row.problems) - errors,
    )


class MenuLibrary:
    """Loads, validates, stores and activates menu versions; hands out the live one."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        redis: aioredis.Redis,
        *,
        menus_dir: Path,
        config_dir: Path | None = None,
        sound_exists: SoundExists | None = None,
        key_prefix: str = "kck",
        clock: Clock | None = None,
        on_change: Callable[[VersionInfo], Any] | None = None,
        live_cache_s: float = 0.0,
    ) -> None:
        """`live_cache_s`: how long this process may keep using the live version id it read
        without asking Redis again (0: every call asks). A process that is told of a change
        (`live_changed`, the IVR component's broadcast listener) switches at once."""
        self.live_cache_s = live_cache_s
        self._live_seen: tuple[int, float] | None = None  # (version id, time.monotonic())
        self.sessions = sessions
        self.redis = redis
        self.menus_dir = menus_dir
        self.config_dir = config_dir
        self.sound_exists = sound_exists
        self.live_key = f"{key_prefix}:ivr:live_version"
        self.lock_key = f"{key_prefix}:ivr:reload_lock"
        self.clock = clock or SystemClock()
        self.on_change = on_change
        self._cache: dict[int, LoadedMenu] = {}
        self._loading: dict[int, asyncio.Future[LoadedMenu]] = {}
        self._lock = asyncio.Lock()

    # ---- reading --------------------------------------------------------------------------
    async def live_id(self) -> int | None:
        if self._live_seen is not None and self.live_cache_s > 0:
            version_id, seen_at = self._live_seen
            if time.monotonic() - seen_at < self.live_cache_s:
                return version_id
        raw = await self.redis.get(self.live_key)
        if raw is not None:
            self.live_changed(int(raw))
            return int(raw)
        # Redis lost its data (restart without persistence): the database remembers.
        async with self.sessions() as session:
            row = await session.scalar(
                select(MenuVersionRow)
                .where(MenuVersionRow.accepted.is_(True), MenuVersionRow.activated_at.is_not(None))
                .order_by(MenuVersionRow.activated_at.desc(), MenuVersionRow.id.desc())
                .limit(1)
            )
        if row is None:
            return None
        await self.redis.set(self.live_key, row.id, nx=True)
        self.live_changed(row.id)
        return row.id

    def live_changed(self, version_id: int) -> None:
        """`version_id` is live now (read from Redis, set here, or announced by another node)."""
        self._live_seen = (version_id, time.monotonic())

    async def live(self) -> LoadedMenu:
        """The version new calls run on (cached per version; one Redis GET per call, or per
        `live_cache_s`)."""
        version_id = await self.live_id()
        if version_id is None:
            raise NoMenuVersion("no menu version is live yet: run `kck ivr reload`")
        return await self.version(version_id)

    async def version(self, version_id: int) -> LoadedMenu:
        """A version, validated once: calls arriving while it loads wait for that one load.

        Without this, the first calls after a start or a reload each validated the menu (tens of
        ms of CPU each) at once. A caller hanging up does not cancel the load the others wait on.
        """
        cached = self._cache.get(version_id)
        if cached is not None:
            return cached
        loading = self._loading.get(version_id)
        if loading is None:
            loading = asyncio.ensure_future(self._load(version_id))
            self._loading[version_id] = loading
            loading.add_done_callback(lambda _done: self._loading.pop(version_id, None))
        return await asyncio.shield(loading)

    async def _load(self, version_id: int) -> LoadedMenu:
        async with self.sessions() as session:
            row = await session.get(MenuVersionRow, version_id)
        if row is None or not row.accepted:
            raise NoMenuVersion(f"menu version {version_id} does not exist or was rejected")
        files = MenuFiles(dict(row.files), origin=f"v{row.id}:")
        checked = await self.validate(files, with_sounds=False)
        if checked.menu is None or not checked.problems.ok:
            raise MenuRejected(row.id, checked.problems.sorted())
        loaded = LoadedMenu(
            row.id,
            version_label(row.id, row.content_hash),
            checked.menu,
            tuple(checked.problems.warnings),
        )
        self._cache[version_id] = loaded
        return loaded

    async def versions(self, limit: int = 50) -> list[VersionInfo]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(MenuVersionRow).order_by(MenuVersionRow.id.desc()).limit(limit)
            )
            return [_info(r) for r in rows]

    async def files_of(self, version_id: int) -> MenuFiles:
        async with self.sessions() as session:
            row = await session.get(MenuVersionRow, version_id)
        if row is None:
            raise NoMenuVersion(f"menu version {version_id} does not exist")
        return MenuFiles(dict(row.files), origin=f"v{row.id}:")

    # ---- changing -------------------------------------------------------------------------
    async def validate(self, files: MenuFiles, *, with_sounds: bool = True) -> ValidatedMenu:
        """The checks a reload makes (skills of the config folder, sounds), off the event loop."""
        loop = asyncio.get_running_loop()
        skills: SkillDirectory | None = None
        if self.config_dir is not None:
            skills = await loop.run_in_executor(None, read_skill_directory, self.config_dir)
        sounds = self.sound_exists if with_sounds else None
        return await loop.run_in_executor(None, lambda: validate_files(files, skills, sounds))

    async def reload(self, *, by: str, message: str | None = None) -> ReloadResult:
        """Read the menus folder, validate, store a version and make it live (or reject it)."""
        loop = asyncio.get_running_loop()
        main = self.menus_dir / MAIN_FILE
        if not await loop.run_in_executor(None, main.exists):
            raise NoMenuVersion(f"no menu to load: {main} does not exist")
        files = await loop.run_in_executor(None, read_menu_files, self.menus_dir)
        return await self.submit(files, by=by, message=message)

    async def submit(
        self, files: MenuFiles, *, by: str, message: str | None = None
    ) -> ReloadResult:
        """Validate a menu set (from files or the web editor) and make it live if it passes.

        Raises MenuRejected (after storing the rejected attempt) when it has errors.
        """
        # One reload at a time across processes (each process's file watcher sees the same
        # change): the second one then finds the content already live.
        async with self._lock, self.redis.lock(self.lock_key, timeout=60, blocking_timeout=30):
            checked = await self.validate(files)
            problems: ProblemList = checked.problems
            content_hash = files.content_hash
            live_id = await self.live_id()
            async with self.sessions() as session, session.begin():
                if problems.ok and checked.menu is not None and live_id is not None:
                    live_row = await session.get(MenuVersionRow, live_id)
                    if live_row is not None and live_row.content_hash == content_hash:
                        return ReloadResult(_info(live_row), tuple(problems.sorted()), False)
                now = self.clock.now()
                row = MenuVersionRow(
                    content_hash=content_hash,
                    created_at=now,
                    loaded_by=by[:100],
                    message=message,
                    accepted=problems.ok and checked.menu is not None,
                    activated_at=now if problems.ok else None,
                    files=dict(files.files),
                    problems=[p.as_dict() for p in problems.sorted()],
                )
                session.add(row)
                await session.flush()
                session.add(
                    AuditEntry(
                        actor=by[:64],
                        action="ivr.reload" if row.accepted else "ivr.reload_rejected",
                        target=version_label(row.id, content_hash),
                        details={"message": message, "errors": len(problems.errors)},
                    )
                )
                info = _info(row)
            if not info.accepted:
                log.warning("menu version %s rejected (%d errors)", info.id, info.error_count)
                raise MenuRejected(info.id, problems.sorted())
            await self.redis.set(self.live_key, info.id)
            self.live_changed(info.id)
            log.info("menu version %s is live (%s)", info.label, by)
            await self._changed(info)
            return ReloadResult(info, tuple(problems.sorted()), True)

    async def rollback(self, version_id: int, *, by: str, reason: str | None = None) -> VersionInfo:
        """Make an earlier accepted version live again (it is re-checked first); `reason` goes
        to the audit log with who did it."""
        async with self._lock, self.redis.lock(self.lock_key, timeout=60, blocking_timeout=30):
            await self.version(version_id)  # must still load and validate
            async with self.sessions() as session, session.begin():
                row = await session.get(MenuVersionRow, version_id)
                assert row is not None
                row.activated_at = self.clock.now()
                session.add(
                    AuditEntry(
                        actor=by[:64],
                        action="ivr.rollback",
                        target=version_label(row.id, row.content_hash),
                        details={"reason": reason} if reason else {},
                    )
                )
                info = _info(row)
            await self.redis.set(self.live_key, version_id)
            self.live_changed(version_id)
            log.info("menu version %s is live again (rollback by %s)", info.label, by)
            await self._changed(info)
            return info

    async def ensure_live(self, *, by: str = "startup") -> LoadedMenu:
        """The live version; when there is none yet, load the menus folder."""
        if await self.live_id() is None:
            await self.reload(by=by, message="first load")
        return await self.live()

    async def _changed(self, info: VersionInfo) -> None:
        if self.on_change is None:
            return
        try:
            outcome = self.on_change(info)
            if asyncio.iscoroutine(outcome):
                await outcome
        except Exception:  # a notification must not undo an activation
            log.exception("menu version change notification failed")
