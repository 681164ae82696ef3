"""Today's board counted from the tables (SQLite and PostgreSQL), and live router fields laid over it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from agentdesk.board.snapshot import apply_agent_event, build_board, merge_live
from agentdesk.reports.metrics import CountingRules, ServiceLevelTarget
from agentdesk.reports.rules import QueueNames
from kck.db import AgentStateLog, Call, Role, User, session_factory
from tests.board.simulated_day import WARSAW

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # 11:00 in Kraków
RULES = CountingRules(
    default_target=ServiceLevelTarget(80, 20),
    targets=(("social", ServiceLevelTarget(90, 30)),),
    short_abandon_s=5,
)
NAMES = QueueNames((("vehicles", "Pojazdy", "Vehicles"), ("social", "Pomoc społeczna", "Social")))


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


async def seed(engine: AsyncEngine) -> None:
    async with session_factory(engine).begin() as session:
        anna = User(
            username="anna", display_name="Anna Nowak", password_hash="x", role=Role.AGENT.value
        )
        bartek = User(
            username="bartek", display_name="Bartek", password_hash="x", role=Role.AGENT.value
        )
        boss = User(
            username="sylwia", display_name="Sylwia", password_hash="x", role=Role.SUPERVISOR.value
        )
        session.add_all([anna, bartek, boss])
        await session.flush()
        session.add_all(
            [
                # anna: available 2 h, on a call 1 h → occupancy 1/3 of her staffed time so far
                AgentStateLog(agent_id=anna.id, state="available", at=ago(hours=3)),
                AgentStateLog(agent_id=anna.id, state="on_call", at=ago(hours=1), call_id="c1"),
                # bartek: paused since 10 minutes (not staffed time)
                AgentStateLog(
                    agent_id=bartek.id, state="paused", reason="break", at=ago(minutes=10)
                ),
            ]
        )
        session.add_all(
            [
                # yesterday (local): not on today's board
                Call(
                    id="old",
                    uniqueid="0",
                    arrived_at=ago(hours=12),
                    queued_at=ago(hours=12),
                    answered_at=ago(hours=12),
                    ended_at=ago(hours=11),
                    queue="vehicles",
                    outcome="answered",
                ),
                # answered in 10 s, resolved at the first line, 2 hours ago
                Call(
                    id="c0",
                    uniqueid="1",
                    arrived_at=ago(hours=2),
                    queued_at=ago(hours=2),
                    answered_at=ago(hours=2) + timedelta(seconds=10),
                    ended_at=ago(hours=1, minutes=55),
                    queue="vehicles",
                    outcome="answered",
                    wrapup_outcome="resolved_first_line",
                ),
                # answered in 40 s (late) 10 minutes ago, a ticket was needed
                Call(
                    id="c1",
                    uniqueid="2",
                    arrived_at=ago(minutes=10),
                    queued_at=ago(minutes=10),
                    answered_at=ago(minutes=10) + timedelta(seconds=40),
                    ended_at=ago(minutes=5),
                    queue="vehicles",
                    outcome="answered",
                    wrapup_outcome="ticket_created",
                ),
                # short abandon (2 s): not counted against the service level
                Call(
                    id="c2",
                    uniqueid="3",
                    arrived_at=ago(minutes=20),
                    queued_at=ago(minutes=20),
                    ended_at=ago(minutes=20) + timedelta(seconds=2),
                    queue="vehicles",
                    outcome="abandoned",
                ),
                # still waiting for 90 s in social
                Call(
                    id="c3",
                    uniqueid="4",
                    arrived_at=ago(seconds=100),
                    queued_at=ago(seconds=90),
                    queue="social",
                ),
                # self-service in the IVR: not offered
                Call(
                    id="c4",
                    uniqueid="5",
                    arrived_at=ago(minutes=3),
                    ended_at=ago(minutes=2),
                    outcome="self_service",
                ),
            ]
        )


async def test_board_counts_today_per_queue_and_in_total(engine: AsyncEngine) -> None:
    await seed(engine)
    board = await build_board(session_factory(engine), RULES, NAMES, WARSAW, NOW)

    total = board["total"]
    assert (total["offered"], total["answered"], total["abandoned"], total["waiting"]) == (
        4,
        2,
        1,
        1,
    )
    assert total["short_abandoned"] == 1
    assert total["service_level_pct"] == 50.0  # 1 of 2 decided (the short abandon is left out)
    assert total["fcr_pct"] == 50.0
    assert total["asa_s"] == 25.0
    assert total["longest_wait_s"] == 90.0
    assert total["occupancy_pct"] is not None
    assert round(total["occupancy_pct"], 3) == round(100 / 3, 3)
    assert total["agents_by_state"]["on_call"] == 1 and total["agents_by_state"]["paused"] == 1

    vehicles = next(q for q in board["queues"] if q["id"] == "vehicles")
    assert vehicles["name"] == "Pojazdy"
    assert vehicles["service_level_30min_pct"] == 0.0  # the only decided call in 30 min was late
    assert vehicles["below_target"] and vehicles["below_target_30min"]
    social = next(q for q in board["queues"] if q["id"] == "social")
    assert (social["waiting"], social["target_pct"], social["target_within_s"]) == (1, 90, 30)
    assert social["service_level_pct"] is None  # nothing decided yet: "—", not 0 %

    agents = {a["agent"]: a for a in board["agents"]}
    assert set(agents) == {"anna", "bartek"}  # the supervisor is not an agent
    assert agents["bartek"]["state"] == "paused" and agents["bartek"]["reason"] == "break"
    assert agents["anna"]["since"] == ago(hours=1).isoformat()


async def test_live_router_fields_override_the_counted_waiting_calls(engine: AsyncEngine) -> None:
    await seed(engine)
    board = await build_board(session_factory(engine), RULES, NAMES, WARSAW, NOW)

    merged = merge_live(
        board, {"queues": [{"queue": "social", "waiting": 3, "longest_wait_s": 120}]}
    )

    social = next(q for q in merged["queues"] if q["id"] == "social")
    assert (social["waiting"], social["longest_wait_s"]) == (3, 120)
    assert merged["total"]["waiting"] == 3


async def test_agent_event_moves_an_agent_between_state_counts(engine: AsyncEngine) -> None:
    await seed(engine)
    board = await build_board(session_factory(engine), RULES, NAMES, WARSAW, NOW)

    apply_agent_event(board, {"agent": "bartek", "state": "available", "since": NOW.isoformat()})

    assert board["total"]["agents_by_state"]["paused"] == 0
    assert board["total"]["agents_by_state"]["available"] == 1
    bartek = next(a for a in board["agents"] if a["agent"] == "bartek")
    assert (bartek["state"], bartek["reason"]) == ("available", None)


async def test_router_snapshot_counters_replace_the_counted_ones_with_the_same_arithmetic(
    engine: AsyncEngine,
) -> None:
    await seed(engine)
    board = await build_board(session_factory(engine), RULES, NAMES, WARSAW, NOW)
    # The shape `queues.stats.QueueStatistics.snapshot()` broadcasts on channel `stats`.
    router = {
        "at": NOW.isoformat(),
        "queues": {
            "vehicles": {
                "waiting": 2,
                "longest_wait_s": 45.0,
                "entered": 10,
                "answered": 6,
                "answered_in_sl": 3,
                "abandoned": 3,
                "abandoned_short": 1,
                "wait_answered_ms": 60000,
                "handled": 5,
                "talk_ms": 500000,
                "wrap_ms": 100000,
            },
        },
        "agents": {
            "list": [
                {"agent": "celina", "state": "available", "reason": None, "since": NOW.isoformat()}
            ],
            "occupancy": 0.5,
        },
    }

    merged = merge_live(board, router, RULES)

    vehicles = next(q for q in merged["queues"] if q["id"] == "vehicles")
    assert (vehicles["offered"], vehicles["answered"], vehicles["abandoned"]) == (10, 6, 3)
    assert vehicles["service_level_pct"] == 3 / (6 + 3 - 1) * 100
    assert vehicles["asa_s"] == 10.0 and vehicles["aht_s"] == 120.0
    assert vehicles["abandon_rate_pct"] == 2 / 9 * 100
    assert vehicles["fcr_pct"] == 50.0  # first-contact resolution stays counted from SQL
    assert vehicles["oldest_waiting_since"] == (NOW - timedelta(seconds=45)).isoformat()
    assert merged["total"]["waiting"] == 2 and merged["total"]["offered"] == 10
    assert merged["total"]["occupancy_pct"] == 50.0
    assert any(a["agent"] == "celina" and a["state"] == "available" for a in merged["agents"])


async def test_failed_callbacks_of_today_are_listed_for_supervisors_newest_first(
    engine: AsyncEngine,
) -> None:
    async with session_factory(engine).begin() as session:
        for call_id, ended, cause in (
            ("cb-yesterday", ago(hours=13), "BUSY"),
            ("cb-early", ago(hours=2), "NOANSWER"),
            ("cb-late", ago(minutes=5), "originate_failed"),
        ):
            session.add(
                Call(
                    id=call_id,
                    uniqueid=call_id,
                    caller_number="+48600100200",
                    arrived_at=ended - timedelta(minutes=20),
                    queued_at=ended - timedelta(minutes=20),
                    ended_at=ended,
                    queue="social",
                    outcome="callback_failed",
                    hangup_cause=cause,
                )
            )
        session.add(  # a callback that reached the citizen is not listed
            Call(id="cb-done", uniqueid="9", arrived_at=ago(hours=1), outcome="callback")
        )
    board = await build_board(session_factory(engine), RULES, NAMES, WARSAW, NOW)
    assert board["failed_callbacks"] == [
        {
            "call_id": "cb-late",
            "number": "+48 600 100 200",
            "queue": "Pomoc społeczna",
            "at": "10:55",
            "why": "originate_failed",
        },
        {
            "call_id": "cb-early",
            "number": "+48 600 100 200",
            "queue": "Pomoc społeczna",
            "at": "09:00",
            "why": "NOANSWER",
        },
    ]
