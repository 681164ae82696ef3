"""A person at the agents' desk (agentdesk/tasks): their callback and voicemail tasks
(`agent_tasks`: their number, the agent's note) and the voicemail they left
(`<paths.recordings>/voicemail/<box>/<call_id>.wav`). Read for an export; for an erasure the
files are deleted and the number and note cleared (the rows, kinds, states and times stay for
the desk's counts); past `privacy.calls_days` the same is done by the purge."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agentdesk.tasks.models import AgentTask, TaskKind, TaskState

IDENTITY_CLEARED = {"number": None, "note": None}


async def tasks_of(
    db: AsyncSession, call_ids: Iterable[str], identities: Iterable[str]
) -> list[AgentTask]:
    """The tasks of the person's calls, or for one of their numbers (a callback to a number
    they gave)."""
    query = select(AgentTask).where(
        or_(AgentTask.call_id.in_(sorted(call_ids)), AgentTask.number.in_(sorted(identities)))
    )
    return list(await db.scalars(query.order_by(AgentTask.created_at, AgentTask.id)))


def still_open(tasks: Iterable[AgentTask]) -> list[AgentTask]:
    """Tasks an agent or the callback scheduler still works on (an erasure waits for them)."""
    return [t for t in tasks if t.state != TaskState.CLOSED.value]


def voicemail_files(folder: Path, call_ids: Iterable[str]) -> list[Path]:
    """The messages the person's calls left in any box (blocking: run in a thread)."""
    if not folder.is_dir():
        return []
    return sorted(p for call_id in call_ids for p in folder.glob(f"*/{call_id}.wav"))


async def erase_tasks(db: AsyncSession, tasks: Iterable[AgentTask]) -> int:
    """Clear the number and note of `tasks`; returns how many held either."""
    ids = [t.id for t in tasks if t.number is not None or t.note is not None]
    if ids:
        await db.execute(update(AgentTask).where(AgentTask.id.in_(ids)).values(IDENTITY_CLEARED))
    return len(ids)


async def purge_tasks(db: AsyncSession, calls_before: datetime, held: Select[str]) -> int:
    """Closed tasks made before `calls_before` (none of a call whose recording is held) lose the
    number and note."""
    cleared = await db.execute(
        update(AgentTask)
        .where(
            AgentTask.created_at < calls_before,
            AgentTask.state == TaskState.CLOSED.value,
            or_(AgentTask.number.is_not(None), AgentTask.note.is_not(None)),
            AgentTask.call_id.not_in(held),
        )
        .values(IDENTITY_CLEARED)
    )
    return cleared.rowcount or 0  # type: ignore[attr-defined]


async def unheard_voicemail(db: AsyncSession) -> set[str]:
    """The calls whose voicemail task is not closed yet (the purge leaves their files)."""
    query = select(AgentTask.call_id).where(
        AgentTask.kind == TaskKind.VOICEMAIL.value, AgentTask.state != TaskState.CLOSED.value
    )
    return set(await db.scalars(query))


def old_voicemail(folder: Path, before: float, keep: set[str]) -> list[Path]:
    """Messages written before `before` (a timestamp), but those of `keep`'s calls (blocking)."""
    if not folder.is_dir():
        return []
    return [
        p
        for p in folder.glob("*/*.wav")
        if p.stem not in keep and p.is_file() and p.stat().st_mtime < before
    ]
