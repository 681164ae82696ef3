"""Queue statistics from our own counters in Redis: JSON snapshot, live broadcast, Prometheus text.

Definitions: docs/statistics.md. The arithmetic is in `derive` (pure, tested with plain values).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

from aiohttp import web
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from kck.bus import EventBus, LiveSubscription
from kck.metrics import collector_text
from kck.stopping import TASK_STOP_S, raise_if_cancel_requested, stop_task
from queues.config import RoutingConfig
from queues.model import AgentState
from queues.store import RouterStore, period_keys

log = logging.getLogger(__name__)

COUNTERS = (
    "entered",
    "offers",
    "answered",
    "answered_in_sl",
    "wait_answered_ms",
    "abandoned",
    "abandoned_short",
    "abandoned_in_sl",
    "wait_abandoned_ms",
    "diverted",
    "callbacks_requested",
    "callbacks_answered",
    "callbacks_failed",
    "voicemail",
    "transferred",
    "fallback_answered",
    "fallback_abandoned",
    "not_answered",
    "handled",
    "talk_ms",
    "wrap_ms",
    "transfers_out",
    "transfers_in",
    "transfers_answered",
    "transfers_lost",
)
WORK_STATES = ("offered", "on_call", "wrap_up")
STAFFED_STATES = ("available", *WORK_STATES)


def _ratio(num: float, den: float) -> float | None:
    return None if den <= 0 else num / den


def derive(c: Mapping[str, int]) -> dict[str, float | None]:
    """Service level, ASA, abandon rate and AHT from one period's counters."""
    answered = c.get("answered", 0)
    abandoned = c.get("abandoned", 0)
    short = c.get("abandoned_short", 0)
    asa_ms = _ratio(c.get("wait_answered_ms", 0), answered)
    aht_ms = _ratio(c.get("talk_ms", 0) + c.get("wrap_ms", 0), c.get("handled", 0))
    return {
        "service_level": _ratio(c.get("answered_in_sl", 0), answered),
        "service_level_with_abandons": _ratio(
            c.get("answered_in_sl", 0), answered + abandoned - short
        ),
        "asa_s": None if asa_ms is None else asa_ms / 1000,
        "abandon_rate": _ratio(abandoned - short, c.get("entered", 0) - short),
        "aht_s": None if aht_ms is None else aht_ms / 1000,
    }


def occupancy(state_ms: Mapping[str, float]) -> float | None:
    """Time handling calls (offered, on call, wrap-up) / time staffed (those + available)."""
    work = sum(state_ms.get(s, 0) for s in WORK_STATES)
    staffed = sum(state_ms.get(s, 0) for s in STAFFED_STATES)
    return _ratio(work, staffed)


def _ints(raw: Mapping[Any, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for k, v in raw.items():
        key = k.decode() if isinstance(k, bytes) else str(k)
        out[key] = int(v)
    return out


class QueueStatistics:
    """Reads counters and live indexes; one snapshot is a handful of pipelined reads."""

    def __init__(self, store: RouterStore, config: RoutingConfig) -> None:
        self.store = store
        self.config = config

    async def _counters(self, period: str, kind: str, name: str) -> dict[str, int]:
        raw: Any = await self.store.redis.hgetall(self.store.key("st", period, kind, name))
        counters = {c: 0 for c in COUNTERS}
        counters.update(_ints(raw))
        return counters

    async def _waiting(self, zset: str, now_ms: float) -> tuple[int, float]:
        redis = self.store.redis
        count = int(await redis.zcard(zset))
        oldest: Any = await redis.zrange(zset, 0, 0, withscores=True)
        longest = max(0.0, (now_ms - float(oldest[0][1])) / 1000) if oldest else 0.0
        return count, longest

    async def snapshot(self, day: str | None = None) -> dict[str, Any]:
        """Live waiting and agent states, and the counters of `day` (today by default) with
        every hour of that day, per queue and per primary skill."""
        now = self.store.clock.now()
        now_ms = now.timestamp() * 1000
        today, _ = period_keys(now, self.store.tz)
        day = day or today
        hours = [f"{day}T{h:02d}" for h in range(24)]
        queues: dict[str, Any] = {}
        for name, queue in self.config.queues.items():
            waiting, longest = await self._waiting(self.store.key("qarr", name), now_ms)
            counters = await self._counters(f"d:{day}", "q", name)
            per_hour = {}
            for hour in hours:
                hc = await self._counters(f"h:{hour}", "q", name)
                if hc["entered"] or hc["handled"] or hc["wrap_ms"]:
                    per_hour[hour[-2:]] = {**hc, **derive(hc)}
            queues[name] = {
                "name_pl": queue.name_pl,
                "name_en": queue.name_en,
                "waiting": waiting,
                "longest_wait_s": round(longest, 1),
                "service_level_target": {
                    "pct": queue.service_level.target_pct,
                    "within_s": queue.service_level.within_s,
                },
                **counters,
                **derive(counters),
                "hours": per_hour,
            }
        skills: dict[str, Any] = {}
        for skill in self.config.skills:
            waiting, longest = await self._waiting(self.store.key("skwait", skill), now_ms)
            counters = await self._counters(f"d:{day}", "s", skill)
            skills[skill] = {
                "waiting": waiting,
                "longest_wait_s": round(longest, 1),
                **counters,
                **derive(counters),
            }
        agents = await self._agents(now_ms, day == today)
        state_ms = agents.pop("_state_ms")
        return {
            "at": now.isoformat(),
            "day": day,
            "short_abandon_s": self.config.short_abandon_s,
            "queues": queues,
            "skills": skills,
            "agents": {**agents, "occupancy": occupancy(state_ms), "state_ms": state_ms},
        }

    async def _agents(self, now_ms: float, include_live: bool) -> dict[str, Any]:
        by_state = {s.value: 0 for s in AgentState}
        paused_reasons: dict[str, int] = {}
        day = period_keys(self.store.clock.now(), self.store.tz)[0]
        raw: Any = await self.store.redis.hgetall(self.store.key("st", f"d:{day}", "agents"))
        state_ms: dict[str, float] = {}
        for k, v in _ints(raw).items():
            state_ms[k.removesuffix("_ms")] = float(v)
        listing = []
        for username in await self.store.agents():
            data = await self.store.agent(username) or {}
            state = data.get("state", AgentState.LOGGED_OUT.value)
            by_state[state] = by_state.get(state, 0) + 1
            if state == AgentState.PAUSED:
                reason = data.get("reason") or "?"
                paused_reasons[reason] = paused_reasons.get(reason, 0) + 1
            in_state_s = max(0.0, (now_ms - float(data.get("since", now_ms))) / 1000)
            if include_live:
                state_ms[state] = state_ms.get(state, 0.0) + in_state_s * 1000
            listing.append(
                {
                    "agent": username,
                    "state": state,
                    "reason": data.get("reason") or None,
                    "since": data.get("since_iso"),
                    "in_state_s": round(in_state_s, 1),
                    "call_id": data.get("call") or None,
                }
            )
        return {
            "by_state": by_state,
            "paused_reasons": paused_reasons,
            "list": listing,
            "_state_ms": state_ms,
        }


class QueueMetrics(Collector):
    """The gauges of one statistics snapshot (`QueueStatistics.snapshot`): live waiting and
    agent states, today's totals and derived ratios. Built per scrape from a snapshot read
    just before (the registry calls `collect` synchronously; Redis is read asynchronously)."""

    OUTCOMES = (
        "entered",
        "answered",
        "abandoned",
        "abandoned_short",
        "diverted",
        "callbacks_requested",
        "callbacks_answered",
        "handled",
    )
    # snapshot key, metric name, help text: one gauge per queue each
    DERIVED = (
        (
            "service_level",
            "kck_queue_service_level_ratio",
            "Answered within target / answered, today.",
        ),
        (
            "service_level_with_abandons",
            "kck_queue_service_level_with_abandons_ratio",
            "Answered within target / (answered + abandoned - short abandons), today.",
        ),
        ("asa_s", "kck_queue_asa_seconds", "Average speed of answer today."),
        (
            "abandon_rate",
            "kck_queue_abandon_ratio",
            "Abandoned (not short) / entered (not short), today.",
        ),
        ("aht_s", "kck_queue_aht_seconds", "Average handle time (talk + wrap-up) today."),
    )

    def __init__(self, snapshot: Mapping[str, Any]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[GaugeMetricFamily]:
        queues = self._snapshot["queues"]
        yield _gauge(
            "kck_queue_waiting_calls",
            "Calls waiting now.",
            ["queue"],
            [([q], v["waiting"]) for q, v in queues.items()],
        )
        yield _gauge(
            "kck_queue_longest_wait_seconds",
            "Wait of the longest-waiting call now.",
            ["queue"],
            [([q], v["longest_wait_s"]) for q, v in queues.items()],
        )
        yield _gauge(
            "kck_skill_waiting_calls",
            "Calls waiting now by primary skill.",
            ["skill"],
            [([s], v["waiting"]) for s, v in self._snapshot["skills"].items()],
        )
        yield _gauge(
            "kck_queue_calls_today",
            "Calls of today (Europe/Warsaw) by what happened.",
            ["queue", "kind"],
            [([q, o], v[o]) for q, v in queues.items() for o in self.OUTCOMES],
        )
        for key, name, text in self.DERIVED:
            yield _gauge(name, text, ["queue"], [([q], v[key]) for q, v in queues.items()])
        agents = self._snapshot["agents"]
        yield _gauge(
            "kck_agents",
            "Agents per state now.",
            ["state"],
            [([s], n) for s, n in agents["by_state"].items()],
        )
        yield _gauge(
            "kck_agent_occupancy_ratio",
            "Handling time / staffed time, today.",
            [],
            [([], agents["occupancy"])],
        )


def _gauge(
    name: str,
    help_text: str,
    labels: list[str],
    samples: list[tuple[list[str], float | None]],
) -> GaugeMetricFamily:
    """One gauge; samples without a value (a ratio of nothing) are left out."""
    family = GaugeMetricFamily(name, help_text, labels=labels)
    for label_values, value in samples:
        if value is not None:
            family.add_metric(label_values, value)
    return family


def prometheus_text(snapshot: Mapping[str, Any]) -> str:
    """The snapshot in Prometheus text exposition format (gauges; today's totals)."""
    return collector_text(QueueMetrics(snapshot))


def metrics_handler(stats: QueueStatistics) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler for `/metrics` (the web app mounts it)."""

    async def handle(request: web.Request) -> web.Response:
        body = prometheus_text(await stats.snapshot())
        return web.Response(
            text=body,
            content_type="text/plain",
            charset="utf-8",
            headers={"X-Prometheus-Format": "0.0.4"},
        )

    return handle


class StatsBroadcaster:
    """Broadcasts a snapshot on live channel `stats` after queue or agent changes, at most once
    per `min_interval_s` (changes inside the interval are folded into one broadcast)."""

    def __init__(
        self, stats: QueueStatistics, bus: EventBus, *, min_interval_s: float = 1.0
    ) -> None:
        self.stats = stats
        self.bus = bus
        self.min_interval_s = min_interval_s
        self._changes: LiveSubscription | None = None
        self._task: asyncio.Task[None] | None = None
        self.broadcasts = 0

    async def start(self) -> None:
        """Return once subscribed to the changes, so none made after start is missed."""
        if self._task is None:
            self._changes = await self.bus.subscription("agents", "queue_calls").open()
            self._task = asyncio.create_task(self._run(self._changes), name="stats-broadcaster")

    async def stop(self) -> None:
        if self._task is not None:
            await stop_task(self._task, within=TASK_STOP_S, what="statistics broadcaster")
            self._task = None
        if self._changes is not None:
            await self._changes.close()
            self._changes = None

    async def _run(self, changes: LiveSubscription) -> None:
        changed = asyncio.Event()

        async def listen() -> None:
            # any message, RESUBSCRIBED too: after a gap the boards get a fresh snapshot
            async for _ in changes:
                changed.set()

        listener = asyncio.create_task(listen())
        try:
            while True:
                raise_if_cancel_requested()  # Redis below may have swallowed our stop's cancel
                await changed.wait()
                await asyncio.sleep(self.min_interval_s)
                changed.clear()
                try:
                    snap = await self.stats.snapshot()
                    await self.bus.broadcast("stats", "snapshot", snap)
                    self.broadcasts += 1
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("statistics broadcast failed")
        finally:
            await stop_task(listener, within=TASK_STOP_S, what="statistics listener")
