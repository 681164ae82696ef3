"""The agents' tasks in SQL: create (idempotently, one per call and kind), list, claim, close.

Every change is audited (`audit_log`, actions `task.*`). A claim is one conditional UPDATE, so
two agents clicking at once cannot both hold a task.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentdesk.tasks.models import AgentTask, TaskKind, TaskState
from kck.clock import Clock
from kck.db.models import AuditEntry, Call
from kck.phone import to_e164

# what an agent may close a task with (the desk's words: `task.outcome.<code>`)
TASK_OUTCOMES = ("resolved", "called_back", "no_action_needed", "wrong_number")
NOTE_MAX = 2000
# a callback's call ended so (calls.outcome) → the task's outcome
CALLBACK_ENDS = {"callback": "called_back", "callback_failed": "callback_failed"}


class TaskRefused(Exception):
    """The task cannot be changed so: `reason` is a code the desk words (`task.refused.<code>`):
    `not_found`, `claimed` (by someone else), `closed`, `no_number`, `outcome`, `window`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class CallbackWish:
    """What the agent asks for at wrap-up: when (a window, both optional) and a note."""

    window_from: datetime | None = None
    window_until: datetime | None = None
    note: str = ""


@dataclass(frozen=True)
class TaskView:
    id: int
    kind: str
    call_id: str
    state: str
    skill: str | None
    queue: str | None
    number: str | None
    note: str | None
    window_from: datetime | None
    window_until: datetime | None
    claimed_by: str | None
    outcome: str | None
    created_at: datetime
    has_audio: bool
    router_call_id: str | None = None

    @classmethod
    def of(cls, row: AgentTask) -> TaskView:
        return cls(
            id=row.id,
            kind=row.kind,
            call_id=row.call_id,
            state=row.state,
            skill=row.skill,
            queue=row.queue,
            number=row.number,
            note=row.note,
            window_from=row.window_from,
            window_until=row.window_until,
            claimed_by=row.claimed_by,
            outcome=row.outcome,
            created_at=row.created_at,
            has_audio=bool(row.recording),
            router_call_id=row.router_call_id,
        )


class TaskStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    async def _audit(
        self, db: AsyncSession, actor: str, action: str, task: AgentTask, **details: Any
    ) -> None:
        db.add(
            AuditEntry(
                actor=actor,
                action=f"task.{action}",
                target=f"task:{task.id}",
                details={"kind": task.kind, "call_id": task.call_id, **details},
                at=self.clock.now(),
            )
        )

    async def callback_for_call(
        self, call_id: str, agent: str, wish: CallbackWish, number: str | None = None
    ) -> TaskView:
        """The callback task of `call_id` (made now, or the one made before: one per call).
        The number is the call's caller's (E.164) unless given; a call without one is refused."""
        if (
            wish.window_from is not None
            and wish.window_until is not None
            and wish.window_until <= wish.window_from
        ):
            raise TaskRefused("window", f"call {call_id}: the window ends before it starts")
        async with self.sessions.begin() as db:
            existing = await self._by_call(db, TaskKind.CALLBACK, call_id)
            if existing is not None:
                return TaskView.of(existing)
            call = await db.get(Call, call_id)
            e164 = to_e164(number or (call.caller_number if call is not None else None))
            if not e164:
                raise TaskRefused("no_number", f"call {call_id}: no number to call back")
            now = self.clock.now()
            task = AgentTask(  # scheduled: `CallbackScheduler` hands it to the router when due
                kind=TaskKind.CALLBACK.value,
                call_id=call_id,
                state=TaskState.SCHEDULED.value,
                skill=_primary(call.skills if call is not None else None),
                queue=call.queue if call is not None else None,
                number=e164,
                note=wish.note[:NOTE_MAX] or None,
                window_from=wish.window_from,
                window_until=wish.window_until,
                router_call_id=callback_call_id(call_id),
                created_by=agent,
                created_at=now,
            )
            db.add(task)
            try:
                await db.flush()
            except IntegrityError:
                await db.rollback()  # another request made it a moment ago
                return await self._existing(TaskKind.CALLBACK, call_id)
            await self._audit(db, agent, "created", task, state=task.state)
            return TaskView.of(task)

    async def voicemail(
        self, call_id: str, box: str, recording: str, skill: str | None
    ) -> tuple[TaskView, bool]:
        """The task of the voicemail `recording` (relative to the recordings folder) left in
        `box`; True when it was made now."""
        async with self.sessions.begin() as db:
            existing = await self._by_call(db, TaskKind.VOICEMAIL, call_id)
            if existing is not None:
                return TaskView.of(existing), False
            call = await db.get(Call, call_id)
            task = AgentTask(
                kind=TaskKind.VOICEMAIL.value,
                call_id=call_id,
                state=TaskState.OPEN.value,
                skill=skill,
                queue=box,
                number=to_e164(call.caller_number) if call is not None else None,
                recording=recording,
                created_by="system",
                created_at=self.clock.now(),
            )
            db.add(task)
            try:
                await db.flush()
            except IntegrityError:
                await db.rollback()
                return await self._existing(TaskKind.VOICEMAIL, call_id), False
            await self._audit(db, "system", "created", task, box=box)
            return TaskView.of(task), True

    async def _existing(self, kind: TaskKind, call_id: str) -> TaskView:
        async with self.sessions() as db:
            row = await self._by_call(db, kind, call_id)
            if row is None:
                raise TaskRefused("not_found", f"{kind} task of call {call_id} vanished")
            return TaskView.of(row)

    async def _by_call(self, db: AsyncSession, kind: TaskKind, call_id: str) -> AgentTask | None:
        found = await db.execute(
            select(AgentTask).where(AgentTask.kind == kind.value, AgentTask.call_id == call_id)
        )
        return found.scalar_one_or_none()

    async def known_calls(self, kind: TaskKind) -> set[str]:
        async with self.sessions() as db:
            found = await db.execute(select(AgentTask.call_id).where(AgentTask.kind == kind.value))
            return set(found.scalars())

    async def open_for(self, agent: str, skills: Collection[str]) -> list[TaskView]:
        """What `agent` sees: tasks not closed whose skill is one of theirs (or none), and the
        ones they hold; oldest first."""
        async with self.sessions() as db:
            found = await db.execute(
                select(AgentTask)
                .where(
                    AgentTask.state != TaskState.CLOSED.value,
                    or_(
                        AgentTask.skill.is_(None),
                        AgentTask.skill.in_(list(skills)),
                        AgentTask.claimed_by == agent,
                    ),
                )
                .order_by(AgentTask.created_at, AgentTask.id)
                .limit(200)
            )
            return [TaskView.of(row) for row in found.scalars()]

    async def get(self, task_id: int) -> TaskView | None:
        async with self.sessions() as db:
            row = await db.get(AgentTask, task_id)
            return None if row is None else TaskView.of(row)

    async def recording_of(self, task_id: int, agent: str) -> str:
        """The voicemail file's relative path, for the agent who holds the task (audited)."""
        async with self.sessions.begin() as db:
            row = await db.get(AgentTask, task_id)
            if row is None or not row.recording:
                raise TaskRefused("not_found", f"task {task_id}: no such voicemail")
            if row.claimed_by != agent:
                raise TaskRefused("claimed", f"task {task_id}: claim it before playing it")
            await self._audit(db, agent, "played", row)
            return row.recording

    async def claim(self, task_id: int, agent: str) -> TaskView:
        """`agent` takes the task; refused while another agent holds it."""
        async with self.sessions.begin() as db:
            done = await db.execute(
                update(AgentTask)
                .where(
                    AgentTask.id == task_id,
                    AgentTask.kind == TaskKind.VOICEMAIL.value,
                    or_(
                        AgentTask.state == TaskState.OPEN.value,
                        (AgentTask.state == TaskState.CLAIMED.value)
                        & (AgentTask.claimed_by == agent),
                    ),
                )
                .values(
                    state=TaskState.CLAIMED.value, claimed_by=agent, claimed_at=self.clock.now()
                )
            )
            row = await db.get(AgentTask, task_id)
            if row is None:
                raise TaskRefused("not_found", f"task {task_id}: not found")
            if getattr(done, "rowcount", 0) != 1:
                await db.refresh(row)
                why = "closed" if row.state == TaskState.CLOSED.value else "claimed"
                raise TaskRefused(why, f"task {task_id}: {row.state} by {row.claimed_by}")
            await db.refresh(row)
            await self._audit(db, agent, "claimed", row)
            return TaskView.of(row)

    async def close(self, task_id: int, agent: str, outcome: str, note: str = "") -> TaskView:
        """The agent who holds the task closes it with an outcome."""
        if outcome not in TASK_OUTCOMES:
            raise TaskRefused("outcome", f"task {task_id}: unknown outcome {outcome!r}")
        async with self.sessions.begin() as db:
            row = await db.get(AgentTask, task_id, with_for_update=True)
            if row is None:
                raise TaskRefused("not_found", f"task {task_id}: not found")
            if row.state == TaskState.CLOSED.value:
                raise TaskRefused("closed", f"task {task_id}: already closed")
            if row.kind == TaskKind.VOICEMAIL.value and row.claimed_by != agent:
                raise TaskRefused("claimed", f"task {task_id}: held by {row.claimed_by}")
            row.state = TaskState.CLOSED.value
            row.outcome, row.closed_by, row.closed_at = outcome, agent, self.clock.now()
            if note:
                row.note = ((row.note or "") + "\n" + note[:NOTE_MAX]).strip()
            await self._audit(db, agent, "closed", row, outcome=outcome)
            return TaskView.of(row)

    async def due_callbacks(self, now: datetime) -> list[TaskView]:
        """Callbacks whose window has opened and that are not in the router yet."""
        async with self.sessions() as db:
            found = await db.execute(
                select(AgentTask)
                .where(
                    AgentTask.kind == TaskKind.CALLBACK.value,
                    AgentTask.state == TaskState.SCHEDULED.value,
                    or_(AgentTask.window_from.is_(None), AgentTask.window_from <= now),
                )
                .order_by(AgentTask.window_from, AgentTask.id)
            )
            return [TaskView.of(row) for row in found.scalars()]

    async def next_window(self) -> datetime | None:
        """When the earliest scheduled window opens (None: no callback waits for one)."""
        async with self.sessions() as db:
            found = await db.execute(
                select(AgentTask.window_from)
                .where(
                    AgentTask.kind == TaskKind.CALLBACK.value,
                    AgentTask.state == TaskState.SCHEDULED.value,
                    AgentTask.window_from.is_not(None),  # NULL sorts first in SQLite, last in PG
                )
                .order_by(AgentTask.window_from)
                .limit(1)
            )
            return found.scalar_one_or_none()

    async def settle_callbacks(self) -> int:
        """Close the queued callbacks whose call the router has ended (the call history's row
        of the callback says `callback` or `callback_failed`); returns how many."""
        async with self.sessions.begin() as db:
            found = await db.execute(
                select(AgentTask, Call.outcome)
                .join(Call, Call.id == AgentTask.router_call_id)
                .where(
                    AgentTask.kind == TaskKind.CALLBACK.value,
                    AgentTask.state == TaskState.QUEUED.value,
                    Call.outcome.in_(CALLBACK_ENDS),
                )
            )
            settled = 0
            for row, outcome in found.all():
                row.state, row.closed_by, row.closed_at = (
                    TaskState.CLOSED.value,
                    "system",
                    self.clock.now(),
                )
                row.outcome = CALLBACK_ENDS[outcome]
                await self._audit(db, "system", "closed", row, outcome=row.outcome)
                settled += 1
            return settled

    async def mark_queued(self, task_id: int) -> bool:
        """A scheduled callback went to the router; False when another process did it first."""
        async with self.sessions.begin() as db:
            done = await db.execute(
                update(AgentTask)
                .where(AgentTask.id == task_id, AgentTask.state == TaskState.SCHEDULED.value)
                .values(state=TaskState.QUEUED.value)
            )
            if getattr(done, "rowcount", 0) != 1:
                return False
            row = await db.get(AgentTask, task_id)
            assert row is not None
            await self._audit(db, "system", "queued", row)
            return True


def callback_call_id(call_id: str) -> str:
    """The router's id of the callback for `call_id`: one per call, and as short as a call id
    (the calls table keeps 32 characters; the call history writes the callback's row by it)."""
    return "cb" + hashlib.sha1(call_id.encode(), usedforsecurity=False).hexdigest()[:30]


def _primary(skills: dict[str, Any] | None) -> str | None:
    """The first (primary) skill of a call's routing request."""
    return next(iter(skills), None) if skills else None
