"""Live callers at real durations: thousands of callers in the IVR and queues of ONE controller.

`bench/day.py` plays every duration 60× faster, so a 1,000,000-call day holds ~74 live calls
instead of the ~5,000 connected at a real peak. Here nothing is compressed: prompts, key presses,
music on hold, announcements, ringing, talk and wrap-up take their real time (the controller's
clock is day.py's at speed 1: a working Tuesday from 10:00 Europe/Warsaw, the office open).

Two processes, as in day.py: the controller (`kck.runtime.Runtime`: FastAGI server + IVR route,
router with its timer, call-history writer on SQLite, one private Redis, AMI client, web app)
runs `day._controller_main`; this process runs the PBX simulator (AMI server, FastAGI clients,
agents' phones) and places `demo.DemoCallers` callers as a Poisson stream at the peak arrival
rate (1,000,000 calls/day at the 10:00 peak: 31.9 calls/s) while fewer than `--live` calls are
connected; once `--live` are, it holds them `--hold` seconds (topping up as calls end), then
every caller still connected hangs up (they are counted as abandoned). A few agents
(`--agents`) take calls as the day's agents do, so offers and talks run beside the waiting.
Callers are patient: they stay until the end of the hold (their drawn patience would decide
how many are connected), then hang up at once or over `--hangup-over` seconds.

Measured: nothing lost (every simulated call's outcome against the calls table: served, ended
by the controller, abandoned; fallback-queue calls, rows in progress or failed and missing rows
are lost); the controller's event-loop lag (a 10 ms ticker) p50/p99 over the ramp and hold;
resident memory of the controller at idle (after warm-up calls) and while `--live` calls are
connected, per live call (FastAGI sessions open at that moment); Redis `used_memory` before and
during the hold per waiting call (router queues' ZCARD), with the streams' share apart.
`--tracemalloc N` starts tracemalloc (N frames) in the controller at idle and compares a
snapshot at the end of the hold with the idle one: the top 15 allocation sites (file:line) and
the top tracebacks, per live call (tracemalloc slows the controller: loop lag in such a run
means nothing).
Usage: uv run python bench/live_callers.py [--live 5000] [--rate 31.9] [--hold 120]
       [--agents 10] [--hangup-over 20] [--tracemalloc 6]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import multiprocessing
import os
import random
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from day import (
    SECRET,
    _ask,
    _controller_main,
    _free_port,
    _outcome,
    _prepare_config,
    _proc_stat,
    _until_idle,
    add_agent_phones,
    controller_ready,
    stop_controller,
)
from record import distribution, machine, save, table

PEAK_RATE = 1_000_000 * 0.115 / 3600  # calls/s at the 10:00 peak of a 1,000,000-call day
WARM_UP_CALLS = 20
TOP = 15
_SNAPSHOTS: dict[str, tracemalloc.Snapshot] = {}


# -- the controller process: memory figures on request ------------------------------------------
async def _waiting_calls(redis: Any) -> int:
    total = 0
    async for key in redis.scan_iter(match="*:q:queue:*", count=1000):
        total += int(await redis.zcard(key))
    return total


async def _stream_bytes(redis: Any) -> int:
    total = 0
    async for key in redis.scan_iter(count=1000, _type="STREAM"):
        total += int(await redis.memory_usage(key) or 0)
    return total


def _where(frame: Any) -> str:
    parts = Path(frame.filename).parts
    short = (
        "/".join(parts[-3:])
        if "site-packages" in parts or "python3" in frame.filename
        else ("/".join(parts[-2:]))
    )
    return f"{short}:{frame.lineno}"


def _compare(base: str, now: str, live: int) -> dict[str, Any]:
    """Top allocation sites grown from `base` to `now`, by line and by traceback."""
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    old = _SNAPSHOTS[base].filter_traces(ignore)
    new = _SNAPSHOTS[now].filter_traces(ignore)
    by_line = new.compare_to(old, "lineno")
    by_trace = new.compare_to(old, "traceback")
    growth = sum(s.size_diff for s in by_line)
    per = max(live, 1)
    return {
        "python_bytes_grown": growth,
        "python_bytes_per_live_call": round(growth / per),
        "top_lines": [
            {
                "where": _where(s.traceback[0]),
                "bytes_per_call": round(s.size_diff / per),
                "blocks_per_call": round(s.count_diff / per, 2),
            }
            for s in by_line[:TOP]
        ],
        "top_tracebacks": [
            {
                "bytes_per_call": round(s.size_diff / per),
                "blocks_per_call": round(s.count_diff / per, 2),
                "stack": [_where(f) for f in reversed(s.traceback)][:8],
            }
            for s in by_trace[:TOP]
        ],
    }


async def _writer_backlog(runtime: Any) -> int:
    """Events of the calls stream the call-history writer has not read or not acknowledged."""
    from kck.call_events import CALLS_STREAM
    from queues.recorder import QueueRecorder

    key = runtime.services.bus.key(CALLS_STREAM)
    for group in await runtime.services.redis.xinfo_groups(key):
        name = group.get("name", group.get(b"name"))
        if (name.decode() if isinstance(name, bytes) else name) == QueueRecorder.GROUP:
            return int(group.get("lag") or 0) + int(group.get("pending") or 0)
    return -1


async def _controller_command(command: Any, runtime: Any) -> Any:
    kind = command[0]
    if kind == "memory":
        redis = runtime.services.redis
        info = await redis.info("memory")
        return {
            "rss": _proc_stat(os.getpid())[1],
            "redis_used_memory": int(info["used_memory"]),
            "redis_clients_memory": int(info.get("mem_clients_normal", 0)),
            "redis_stream_bytes": await _stream_bytes(redis),
            "waiting": await _waiting_calls(redis),
            "agi_sessions": runtime.controller.ivr._server.active_sessions,
            "writer_backlog": await _writer_backlog(runtime),
            "tasks": len(asyncio.all_tasks()),
            "redis_pool_connections": len(redis.connection_pool._in_use_connections)
            + len(redis.connection_pool._available_connections),
        }
    if kind == "one_call_keys":  # what one waiting call keeps in Redis, key by key
        redis = runtime.services.redis
        async for queue in redis.scan_iter(match="*:q:queue:*", count=1000):
            for member in await redis.zrange(queue, 0, 0):
                call_id = member.decode()
                sizes = {}
                async for key in redis.scan_iter(match=f"*{call_id}*", count=5000):
                    name = key.decode().replace(call_id, "<call>")
                    sizes[name] = int(await redis.memory_usage(key) or 0)
                return sizes
        return {}
    if kind == "trace_start":
        tracemalloc.start(int(command[1]))
        return "ok"
    if kind == "trace_snapshot":
        _SNAPSHOTS[command[1]] = tracemalloc.take_snapshot()
        return "ok"
    if kind == "trace_compare":
        return _compare(command[1], command[2], int(command[3]))
    raise ValueError(f"unknown command {command!r}")


def _controller(conn: Any, cfg: dict[str, Any]) -> None:
    asyncio.run(_controller_main(conn, cfg, extra=_controller_command))


# -- the simulator side -------------------------------------------------------------------------
async def run(args: argparse.Namespace) -> dict[str, Any]:
    from demo import DemoCallers
    from demo.simulator import CallResult, PBXSimulator

    callers = DemoCallers()
    rng = random.Random(5)
    patience = 3600.0  # they stay until the hold ends (then they hang up)

    def script(n: int, patient: bool = True) -> Any:
        drawn = callers.script(n, rng)
        return dataclasses.replace(drawn, patience=patience) if patient else drawn

    with tempfile.TemporaryDirectory(prefix="kck-bench-live-") as tmp:
        folder = Path(tmp)
        config = await asyncio.to_thread(_prepare_config, folder, args.agents)
        pbx = PBXSimulator(users={"kck": SECRET}, speed=1.0)
        await pbx.start()
        agi_port = _free_port()
        pbx.set_agi_urls(f"agi://127.0.0.1:{agi_port}/ivr")
        add_agent_phones(pbx, args.agents)
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        cfg = {
            "speed": 1.0,
            "folder": tmp,
            "config": str(config),
            "agents": args.agents,
            "ami_port": pbx.ami_port,
            "agi_port": agi_port,
            "database_url": f"sqlite+aiosqlite:///{folder / 'kck.db'}",
        }
        process = ctx.Process(target=_controller, args=(child, cfg))
        process.start()
        try:
            pid = await controller_ready(parent)
            await _until_idle(pid)
            # Warm-up: first menu load, first SQL statements, first offers (not measured).
            warm = [pbx.place_call(script(n, patient=False)) for n in range(WARM_UP_CALLS)]
            await asyncio.sleep(20.0)
            for call in warm:
                if not call.done:
                    call.caller_hangup(None, by="caller")
            await asyncio.gather(*(_outcome(c) for c in warm), return_exceptions=True)
            await _until_idle(pid)
            idle = await _ask(parent, ("memory",))
            if args.tracemalloc:
                await _ask(parent, ("trace_start", args.tracemalloc))
                await _ask(parent, ("trace_snapshot", "idle"))
            await _ask(parent, "reset")
            placed: list[Any] = []
            samples: list[dict[str, Any]] = []
            sim_lags: list[float] = []

            async def sampler() -> None:
                while True:
                    t0 = time.perf_counter()
                    await asyncio.sleep(1.0)
                    sim_lags.append(time.perf_counter() - t0 - 1.0)
                    samples.append(
                        {
                            "t": round(time.perf_counter() - started, 1),
                            "live": len(pbx.calls),
                            "on_music": sum(1 for c in pbx.calls if c.moh_class is not None),
                            "rss": _proc_stat(pid)[1],
                        }
                    )

            started = time.perf_counter()
            sampling = asyncio.create_task(sampler())
            reached: float | None = None
            placed_by_then = 0
            hold_memory: list[dict[str, Any]] = []
            next_memory = 0.0
            n = WARM_UP_CALLS
            arrival = time.perf_counter()  # arrival times are drawn ahead: a late loop
            while reached is None or time.perf_counter() < reached + args.hold:
                if len(pbx.calls) < args.live:
                    arrival = max(arrival, time.perf_counter() - 1.0)  # no burst after the hold
                # places every caller due by now, so the rate holds even when this loop lags
                while arrival <= time.perf_counter() and len(pbx.calls) < args.live:
                    placed.append(pbx.place_call(script(n)))
                    n += 1
                    arrival += rng.expovariate(args.rate)
                if reached is None and len(pbx.calls) >= args.live:
                    reached = time.perf_counter()
                    placed_by_then = len(placed)
                    next_memory = reached + args.hold / 4
                if reached is not None and time.perf_counter() >= next_memory:
                    hold_memory.append(await _ask(parent, ("memory",)))
                    next_memory += args.hold / 4
                if time.perf_counter() - started > args.ramp_limit and reached is None:
                    break  # the controller cannot take --live calls at this rate: say so
                await asyncio.sleep(min(max(arrival - time.perf_counter(), 0.02), 1.0))
            ramp_s = (reached or time.perf_counter()) - started
            end_memory = await _ask(parent, ("memory",))
            hold_memory.append(end_memory)
            one_call_keys = await _ask(parent, ("one_call_keys",))
            if args.tracemalloc:
                await _ask(parent, ("trace_snapshot", "hold"))
            sampling.cancel()
            still = list(pbx.calls)
            for k, call in enumerate(still):  # spread over --hangup-over seconds
                if args.hangup_over and k % 50 == 0:
                    await asyncio.sleep(args.hangup_over * 50 / len(still))
                if not call.done:
                    call.caller_hangup(None, by="caller")
            outcomes = await asyncio.gather(*(_outcome(c) for c in placed), return_exceptions=True)
            for _ in range(360):  # every session closed, every event of the calls in SQL
                left = await _ask(parent, ("memory",))
                if left["agi_sessions"] == 0 and left["writer_backlog"] <= 0:
                    break
                await asyncio.sleep(0.5)
            ctl = await _ask(parent, "collect")
            trace = None
            if args.tracemalloc:
                trace = await _ask(
                    parent, ("trace_compare", "idle", "hold", end_memory["agi_sessions"])
                )
            await _ask(parent, "stop")
        finally:
            await stop_controller(parent, process, pbx)

    failed = [o for o in outcomes if isinstance(o, BaseException)]
    sim = Counter(o.result.value for o in outcomes if not isinstance(o, BaseException))
    rows = sum(ctl["calls_table"].values())
    lost = (
        sim.get(CallResult.FALLBACK_QUEUE.value, 0)
        + ctl["calls_table"].get("in_progress", 0)
        + ctl["calls_table"].get("failed", 0)
        + abs(len(placed) - rows)
        + len(failed)
    )
    live_hold = [m["agi_sessions"] for m in hold_memory]
    rss_per_call = [(m["rss"] - idle["rss"]) / max(m["agi_sessions"], 1) for m in hold_memory]
    redis_per_waiting = [
        (m["redis_used_memory"] - idle["redis_used_memory"]) / max(m["waiting"], 1)
        for m in hold_memory
    ]
    redis_per_waiting_no_streams = [
        (
            m["redis_used_memory"]
            - m["redis_stream_bytes"]
            - idle["redis_used_memory"]
            + idle["redis_stream_bytes"]
        )
        / max(m["waiting"], 1)
        for m in hold_memory
    ]
    redis_keys_per_waiting = [
        (
            m["redis_used_memory"]
            - m["redis_stream_bytes"]
            - m["redis_clients_memory"]
            - idle["redis_used_memory"]
            + idle["redis_stream_bytes"]
            + idle["redis_clients_memory"]
        )
        / max(m["waiting"], 1)
        for m in hold_memory
    ]
    return {
        "live_target": args.live,
        "reached": reached is not None,
        "ramp_s": round(ramp_s, 1),
        "hold_s": args.hold,
        "calls_placed": len(placed),
        "arrivals_per_s_during_ramp": round(placed_by_then / max(ramp_s, 1e-9), 2),
        "live_peak": max((s["live"] for s in samples), default=0),
        "on_music_peak": max((s["on_music"] for s in samples), default=0),
        "agi_sessions_during_hold": live_hold,
        "waiting_in_router_during_hold": [m["waiting"] for m in hold_memory],
        "controller_rss_idle_mb": round(idle["rss"] / 2**20, 1),
        "controller_rss_hold_mb": [round(m["rss"] / 2**20, 1) for m in hold_memory],
        "controller_rss_kib_per_live_call": [round(x / 1024, 1) for x in rss_per_call],
        "controller_tasks_idle_hold": [idle["tasks"], end_memory["tasks"]],
        "controller_redis_connections_idle_hold": [
            idle["redis_pool_connections"],
            end_memory["redis_pool_connections"],
        ],
        "redis_used_memory_idle_mb": round(idle["redis_used_memory"] / 2**20, 2),
        "redis_used_memory_hold_mb": [
            round(m["redis_used_memory"] / 2**20, 2) for m in hold_memory
        ],
        "redis_bytes_per_waiting_call": [round(x) for x in redis_per_waiting],
        "redis_bytes_per_waiting_call_without_streams": [
            round(x) for x in redis_per_waiting_no_streams
        ],
        "redis_bytes_per_waiting_call_keys_only": [round(x) for x in redis_keys_per_waiting],
        "redis_keys_of_one_waiting_call_bytes": one_call_keys,
        "redis_clients_memory_idle_hold_mb": [
            round(idle["redis_clients_memory"] / 2**20, 2),
            round(end_memory["redis_clients_memory"] / 2**20, 2),
        ],
        "controller_loop_lag": distribution(ctl["lags"]),
        "simulator_loop_lag": distribution(sim_lags),
        "offer_latency_agent_free": distribution(ctl["offer_immediate"]),
        "simulator_outcomes": dict(sim),
        "simulator_errors": [repr(e) for e in failed[:5]],
        "calls_table_outcomes": ctl["calls_table"],
        "lost": lost,
        "samples": samples,
        "tracemalloc": trace,
    }


async def main() -> None:
    import logging

    logging.disable(logging.WARNING)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--live", type=int, default=5000, help="callers connected at once")
    parser.add_argument("--rate", type=float, default=PEAK_RATE, help="arrivals per second")
    parser.add_argument("--hold", type=float, default=120.0, help="seconds held at --live")
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument(
        "--ramp-limit", type=float, default=600.0, help="give up reaching --live after this"
    )
    parser.add_argument(
        "--tracemalloc", type=int, default=0, help="frames: compare snapshots idle → hold"
    )
    parser.add_argument(
        "--hangup-over",
        type=float,
        default=0.0,
        help="seconds over which the callers still connected hang up at the end (0: at once)",
    )
    parser.add_argument("--label", default="", help="added to the result file's name")
    args = parser.parse_args()
    info = machine()
    r = await run(args)
    rows = [
        (
            "live",
            "reached",
            "ramp s",
            "placed",
            "lag p50/p99 ms",
            "RSS KiB/call",
            "Redis B/waiting (keys)",
            "lost",
        ),
        (
            str(r["live_peak"]),
            str(r["reached"]),
            f"{r['ramp_s']:.0f}",
            str(r["calls_placed"]),
            f"{r['controller_loop_lag']['p50_ms']:.1f}/{r['controller_loop_lag']['p99_ms']:.1f}",
            "/".join(f"{x:.0f}" for x in r["controller_rss_kib_per_live_call"]),
            "/".join(str(x) for x in r["redis_bytes_per_waiting_call_keys_only"]),
            str(r["lost"]),
        ),
    ]
    print(table(rows))
    print("simulator:", r["simulator_outcomes"], "calls table:", r["calls_table_outcomes"])
    if r["tracemalloc"]:
        t = r["tracemalloc"]
        print(f"Python bytes per live call (tracemalloc): {t['python_bytes_per_live_call']}")
        for line in t["top_lines"]:
            print(f"  {line['bytes_per_call']:>7} B  {line['blocks_per_call']:>6}  {line['where']}")
    params = {k: v for k, v in vars(args).items()}
    name = "live_callers" + (f"-{args.label}" if args.label else "")
    print("written", save(name, info, params, r))


if __name__ == "__main__":
    asyncio.run(main())
