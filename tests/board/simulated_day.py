"""A simulated contact-centre day with known ground truth, written into the calls / state-log tables."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kck.db.models import AgentStateLog, Call, Role, User

WARSAW = ZoneInfo("Europe/Warsaw")
QUEUES = ("citizens_affairs", "vehicles", "city_issues")
BRANCHES = (
    [{"step_id": "lang", "label": "Polski"}, {"step_id": "m1", "label": "Dowody osobiste"}],
    [{"step_id": "lang", "label": "Polski"}, {"step_id": "m2", "label": "Pojazdy"}],
    [
        {"step_id": "lang", "label": "Polski"},
        {"step_id": "m3", "label": "Zgłoszenie problemu"},
        {"step_id": "m31", "label": "Zieleń"},
    ],
    [{"step_id": "lang", "label": "English"}, {"step_id": "m1", "label": "ID cards"}],
)
WRAPUPS = ("resolved_first_line", "resolved_first_line", "ticket_created", "callback_needed")


@dataclass
class SimCall:
    """Ground truth of one simulated call, in the generator's own terms (seconds, not rows)."""

    call_id: str
    arrived_at: datetime
    branch: str
    path: list[dict[str, str]]
    queue: str | None  # None: ended in the IVR (self-service)
    ivr_s: float
    wait_s: float = 0.0
    fate: str = "self_service"  # answered / abandoned / callback / self_service
    talk_s: float = 0.0
    wrap_s: float = 0.0
    wrapup: str | None = None
    agent: str | None = None

    @property
    def queued_at(self) -> datetime | None:
        return self.arrived_at + timedelta(seconds=self.ivr_s) if self.queue else None


def local_moment(day: date, seconds: float) -> datetime:
    """`seconds` of real elapsed time after local midnight of `day` (DST-proof)."""
    return datetime.combine(day, time(0), tzinfo=WARSAW).astimezone(UTC) + timedelta(
        seconds=seconds
    )


def day_length_s(day: date) -> float:
    start = local_moment(day, 0)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=WARSAW).astimezone(UTC)
    return (end - start).total_seconds()


def generate(days: list[date], calls_per_day: int, seed: int = 12616555) -> list[SimCall]:
    rng = random.Random(seed)
    calls: list[SimCall] = []
    number = 0
    for day in days:
        length = day_length_s(day)
        for _ in range(calls_per_day):
            number += 1
            branch_path = rng.choice(BRANCHES)
            call = SimCall(
                call_id=f"sim{number:05d}",
                arrived_at=local_moment(day, rng.uniform(0, length - 3600)),
                branch=" → ".join(step["step_id"] for step in branch_path),
                path=[dict(step) for step in branch_path],
                queue=None if rng.random() < 0.1 else rng.choice(QUEUES),
                ivr_s=round(rng.uniform(5, 60), 3),
            )
            if call.queue is not None:
                roll = rng.random()
                if roll < 0.75:
                    call.fate = "answered"
                    call.wait_s = round(rng.choice([rng.uniform(0, 20), rng.uniform(0, 180)]), 3)
                    call.talk_s = round(rng.uniform(30, 400), 3)
                    call.wrap_s = round(rng.uniform(5, 60), 3)
                    call.wrapup = rng.choice(WRAPUPS)
                elif roll < 0.93:
                    call.fate = "abandoned"
                    call.wait_s = round(rng.choice([rng.uniform(0, 4.9), rng.uniform(5, 240)]), 3)
                else:
                    call.fate = "callback"
                    call.wait_s = round(rng.uniform(300, 600), 3)
            calls.append(call)
    return calls


async def store(sessions: async_sessionmaker[AsyncSession], calls: list[SimCall]) -> None:
    """Write the calls as the IVR, router and desk would leave them, plus agents' state rows."""
    agents = [f"agent{n:02d}" for n in range(1, 31)]
    free_at: dict[str, datetime] = {}
    async with sessions.begin() as session:
        users = {
            name: User(
                username=name, display_name=name.title(), password_hash="x", role=Role.AGENT.value
            )
            for name in agents
        }
        session.add_all(users.values())
        await session.flush()
        for call in sorted(calls, key=lambda c: c.arrived_at):
            row = Call(
                id=call.call_id,
                uniqueid=f"1700000000.{call.call_id}",
                arrived_at=call.arrived_at,
                ivr_path=call.path,
                queue=call.queue,
            )
            queued = call.queued_at
            if call.queue is None or queued is None:
                row.outcome = "self_service"
                row.ended_at = call.arrived_at + timedelta(seconds=call.ivr_s)
            elif call.fate == "answered":
                answered = queued + timedelta(seconds=call.wait_s)
                ended = answered + timedelta(seconds=call.talk_s)
                row.queued_at, row.answered_at, row.ended_at = queued, answered, ended
                row.outcome, row.wrapup_outcome = "answered", call.wrapup
                agent = next((a for a in agents if free_at.get(a, queued) <= answered), None)
                if agent is None:  # every agent busy: this call's wrap-up is simply not logged
                    call.wrap_s = 0.0
                else:
                    call.agent = agent
                    row.agent_id = users[agent].id
                    free_at[agent] = ended + timedelta(seconds=call.wrap_s)
                    for state, at, call_id in (
                        ("on_call", answered, call.call_id),
                        ("wrap_up", ended, call.call_id),
                        ("available", free_at[agent], None),
                    ):
                        session.add(
                            AgentStateLog(
                                agent_id=users[agent].id, state=state, at=at, call_id=call_id
                            )
                        )
            else:
                row.queued_at = queued
                row.ended_at = queued + timedelta(seconds=call.wait_s)
                row.outcome = call.fate
            session.add(row)
