"""A simulated day: the PBX simulator drives the whole controller at 1×, 100× and 1,250× the city.

Two processes: this one runs the PBX simulator (AMI server + FastAGI client + agents' phones +
the caller stream); the controller (`kck.runtime.Runtime`: AMI client, router, IVR on FastAGI,
web app, statistics, one private Redis, SQLite or PostgreSQL) runs in its own process, so the
simulator's CPU is not counted against it. Time is compressed: every duration (prompts, key
presses, ringing, talk, patience, wrap-up, escalation, ring timeouts) runs `--speed` times faster
on both sides; arrivals come at the level's real peak-hour rate (the 1× level at the city's
peak-hour volume played `--speed`× faster, else it would be one call a minute). See README.md.
Usage: uv run python bench/day.py [--window 30] [--speed 60] [--levels 1x,100x,1250x] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import multiprocessing
import os
import random
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from record import distribution, machine, replace_method, save, table

SHAPE_PEAK_HOUR = 10.0
# 10:00 Europe/Warsaw on a working Tuesday: the office is open for the whole window.
DAY_EPOCH = datetime(2026, 11, 24, 9, 0, tzinfo=UTC).timestamp()
CITY_CALLS_PER_DAY = 800
LEVELS: dict[str, tuple[int, float]] = {  # name → (calls per day, arrival speed-up)
    "1x": (CITY_CALLS_PER_DAY, 0.0),  # 0: arrivals compressed like everything else (--speed)
    "100x": (100 * CITY_CALLS_PER_DAY, 1.0),
    "1250x": (1250 * CITY_CALLS_PER_DAY, 1.0),
}
BARE_COMMANDS = 10
SECRET = "benchsecret"


@dataclass(frozen=True)
class Level:
    name: str
    calls_per_day: int
    arrival_speedup: float  # 1.0 = the level's real peak rate; else × the clock speed

    def simulated_calls_per_day(self, speed: float) -> float:
        # The CallStream runs on the simulator's clock (speed S), so a day of C/S calls gives
        # the level's real arrival rate in wall time.
        factor = self.arrival_speedup or speed
        return self.calls_per_day * factor / speed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _agents_yaml(n: int, skills: list[str]) -> str:
    lines = ["agents:"]
    levels = ", ".join(f"{s}: 4" for s in skills)
    for i in range(n):
        lines += [
            f"  - username: bench{i:04d}",
            f"    name: Agent {i:04d}",
            f'    extension: "{7000 + i}"',
            f"    skills: {{{levels}}}",
        ]
    return "\n".join(lines) + "\n"


def _prepare_config(folder: Path, agents: int) -> Path:
    import shutil

    import yaml

    from kck.config_files import SHIPPED_CONFIG

    config = folder / "config"
    shutil.copytree(SHIPPED_CONFIG, config)
    skills = [s["id"] for s in yaml.safe_load((config / "skills.yaml").read_text())["skills"]]
    (config / "agents.yaml").write_text(_agents_yaml(agents, skills))
    return config


def add_agent_phones(pbx: Any, agents: int) -> None:
    """Agents' phones 7000…: answer after 2–5 s, talk 40–150 s (simulated), the same every run."""
    from demo.simulator import PhoneBehaviour

    rng = random.Random(11)
    for n in range(agents):
        pbx.add_phone(
            str(7000 + n),
            PhoneBehaviour(answer_after=rng.uniform(2.0, 5.0), talk_for=rng.uniform(40.0, 150.0)),
        )


# -- the controller process ---------------------------------------------------------------------
def _scale_controller_time(speed: float) -> None:
    """The controller's clock runs `speed`× faster from 10:00 Warsaw (timers, wrap-up,
    escalation, max wait, business hours); the router timer's sleep is shortened to match."""
    from kck import clock as kclock
    from queues.timer import RouterTimer

    mono0 = time.monotonic()

    def now(self: Any) -> datetime:
        return datetime.fromtimestamp(DAY_EPOCH + (time.monotonic() - mono0) * speed, UTC)

    def monotonic(self: Any) -> float:
        return mono0 + (time.monotonic() - mono0) * speed

    replace_method(kclock.SystemClock, "now", now)
    replace_method(kclock.SystemClock, "monotonic", monotonic)
    sleep_s = RouterTimer._sleep_s
    replace_method(RouterTimer, "_sleep_s", lambda self: sleep_s(self) / speed)


def controller_settings(cfg: dict[str, Any]) -> Any:
    """The controller's settings: the simulator's AMI and FastAGI ports, a folder of the run's."""
    from kck.settings import load_settings

    var = Path(cfg["folder"]) / "var"
    settings = load_settings(
        environ={},
        overrides={
            "database": {"url": cfg["database_url"], "pool_size": 20},
            "ami": {
                "host": "127.0.0.1",
                "port": cfg["ami_port"],
                "username": "kck",
                "secret": SECRET,
            },
            "agi": {"host": "127.0.0.1", "port": cfg["agi_port"]},
            "http": {"host": "127.0.0.1", "port": 0},
            "paths": {
                "var": str(var),
                "config": cfg["config"],
                "menus": str(Path(cfg["config"]) / "menus"),
                "sounds": str(var / "sounds"),
                "recordings": str(var / "recordings"),
            },
            "log": {"level": "ERROR"},
        },
    )
    return settings


def _controller(conn: Any, cfg: dict[str, Any]) -> None:
    asyncio.run(_controller_main(conn, cfg))


async def _controller_main(
    conn: Any,
    cfg: dict[str, Any],
    extra: Callable[[Any, Any], Awaitable[Any]] | None = None,
) -> None:
    """The controller's command loop (reset / collect / stop); `extra(command, runtime)` answers
    any other command (bench/live_callers.py asks for memory figures that way)."""
    import logging

    logging.basicConfig(level=logging.ERROR)
    logging.disable(logging.WARNING)  # a log line per call would measure the terminal
    _scale_controller_time(cfg["speed"])
    from sqlalchemy import func, select

    from kck.db import Call
    from kck.runtime import Runtime
    from queues.router import Router

    settings = controller_settings(cfg)
    runtime = Runtime(settings, migrate=True)
    services = await runtime.start()
    assert runtime.controller is not None
    router: Router = runtime.controller.router.router

    enqueued: dict[str, float] = {}
    offer_latency: list[float] = []
    immediate: list[float] = []
    enqueue = Router.enqueue
    run = Router._run

    async def timed_enqueue(self: Router, request: Any, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        enqueued[request.call_id] = t0
        offer = await enqueue(self, request, *args, **kwargs)
        if offer is not None:
            dt = time.perf_counter() - t0
            offer_latency.append(dt)
            immediate.append(dt)
            enqueued.pop(request.call_id, None)
        return offer

    async def timed_run(self: Router, op: str, *args: Any) -> Any:
        status, offers = await run(self, op, *args)
        if op != "enqueue":
            for offer in offers:
                t0 = enqueued.pop(offer.call_id, None)
                if t0 is not None:
                    offer_latency.append(time.perf_counter() - t0)
        return status, offers

    replace_method(Router, "enqueue", timed_enqueue)
    replace_method(Router, "_run", timed_run)

    async def bare(session: Any) -> None:  # the baseline: a bare FastAGI route, same server
        await session.answer()
        for _ in range(BARE_COMMANDS - 2):
            await session.noop()
        await session.hangup()

    runtime.controller.ivr._server.add_route("bare", bare)  # the same FastAGI server
    for n in range(cfg["agents"]):
        await router.agent_login(f"bench{n:04d}")

    lags: list[float] = []

    async def ticker() -> None:  # event-loop lag: how late a 10 ms sleep wakes up
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - t0 - 0.01)

    async def count_outcomes() -> dict[str, int]:
        """The calls table by outcome, once the recorder has caught up (nothing in progress)."""
        outcomes: dict[str, int] = {}
        for _ in range(40):
            async with services.sessions() as db:
                rows = await db.execute(select(Call.outcome, func.count()).group_by(Call.outcome))
                outcomes = {str(k): int(v) for k, v in rows.all()}
            if not outcomes.get("in_progress"):
                break
            await asyncio.sleep(0.25)
        return outcomes

    before: dict[str, int] = {}
    tick = asyncio.create_task(ticker())
    loop = asyncio.get_running_loop()
    conn.send(("ready", os.getpid()))
    try:
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command == "reset":
                before = await count_outcomes()
                lags.clear()
                offer_latency.clear()
                immediate.clear()
                enqueued.clear()
                conn.send("ok")
            elif command == "collect":
                after = await count_outcomes()
                outcomes = {k: v - before.get(k, 0) for k, v in after.items()}
                conn.send(
                    {
                        "lags": lags[:],
                        "offer": offer_latency[:],
                        "offer_immediate": immediate[:],
                        "calls_table": {k: v for k, v in outcomes.items() if v},
                        "never_offered": len(enqueued),
                    }
                )
            elif command == "stop":
                break
            elif extra is not None:
                conn.send(await extra(command, runtime))
    finally:
        tick.cancel()
        await runtime.stop()
        conn.send("stopped")


# -- the simulator side ------------------------------------------------------------------------
class Turnarounds:
    """AGI command turnaround as the PBX sees it: reply (or environment) written → next command
    line read, i.e. the controller's reaction time plus the loopback socket both ways. Replies
    with result=-1 are followed by the session's deliberate hang-up grace wait: kept apart."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.after_failure: list[float] = []  # after a result=-1 reply (see below)
        # by step: "previous command → next command", to see where the controller spends it
        self.by_step: dict[str, list[float]] = {}
        self.enabled = True

    def clear(self) -> None:
        self.samples.clear()
        self.after_failure.clear()
        self.by_step.clear()

    def slowest_steps(self, top: int = 6) -> list[dict[str, Any]]:
        """The steps with the highest p99 turnaround (at least 1 % of the samples each)."""
        least = max(10, len(self.samples) // 100)
        steps = [
            (step, distribution(samples))
            for step, samples in self.by_step.items()
            if len(samples) >= least
        ]
        steps.sort(key=lambda s: -s[1]["p99_ms"])
        return [{"step": step, **measured} for step, measured in steps[:top]]

    def install(self) -> None:
        from demo.simulator.agi_client import FastAGISession

        send, handle = FastAGISession.send, FastAGISession.handle
        samples = self

        async def timed_send(session: Any, text: str) -> None:
            await send(session, text)
            if not text.startswith("HANGUP"):
                session._bench_sent = time.perf_counter()
                # after result=-1 the controller waits up to 0.2 s for a HANGUP line on purpose
                # (asterisk/agi/session.py DEFAULT_HANGUP_GRACE): kept apart, not processing time
                session._bench_failed = "result=-1" in text

        async def timed_handle(session: Any, line: str) -> None:
            sent = getattr(session, "_bench_sent", None)
            verb = (
                " ".join(line.split()[:2])
                if line.startswith(("SET", "GET", "STREAM"))
                else (line.split() or ["?"])[0]
            )
            previous = getattr(session, "_bench_verb", "start")
            if sent is not None and samples.enabled:
                took = time.perf_counter() - sent
                bucket = samples.after_failure if session._bench_failed else samples.samples
                bucket.append(took)
                if not session._bench_failed:
                    samples.by_step.setdefault(f"{previous} → {verb}", []).append(took)
            session._bench_sent = None
            session._bench_verb = verb
            await handle(session, line)

        replace_method(FastAGISession, "send", timed_send)
        replace_method(FastAGISession, "handle", timed_handle)


def _proc_stat(pid: int) -> tuple[float, int]:
    """CPU seconds (user+system) and resident memory in bytes of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    return cpu, rss


async def _until_idle(pid: int, limit_s: float = 90.0) -> None:
    """Wait until the controller uses under 15 % of a core for a second (startup work done)."""
    deadline = time.monotonic() + limit_s
    cpu, _ = _proc_stat(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        now, _ = _proc_stat(pid)
        if now - cpu < 0.15:
            return
        cpu = now


async def controller_ready(parent: Any) -> int:
    """The controller process's pid once it says it is ready (2 minutes at most)."""
    loop = asyncio.get_running_loop()
    ready = await asyncio.wait_for(loop.run_in_executor(None, parent.recv), 120)
    return int(ready[1])


async def stop_controller(parent: Any, process: Any, pbx: Any) -> None:
    """End the controller process (told to stop, killed after 30 s) and the simulator."""
    with contextlib.suppress(Exception):
        parent.send("stop")
    process.join(30)
    if process.is_alive():
        process.kill()
    await pbx.stop()


async def _outcome(call: Any) -> Any:
    return await call


async def _ask(conn: Any, message: Any) -> Any:
    loop = asyncio.get_running_loop()
    conn.send(message)
    return await loop.run_in_executor(None, conn.recv)


async def run_level(
    level: Level, args: argparse.Namespace, turnarounds: Turnarounds, database_url: str | None
) -> dict[str, Any]:
    from demo import DemoCallers
    from demo.simulator import (
        CallerScript,
        CallResult,
        CallStream,
        PBXSimulator,
    )

    speed = args.speed
    rate = level.simulated_calls_per_day(speed) * 11.5 / 100.0 / 3600 * speed  # wall calls/s
    # Busy agent time per call ≈ ring 3.5 + talk 95 + wrap-up ≤ 60 simulated seconds.
    agents = math.ceil(1.6 * rate * 160 / speed) + 4
    with tempfile.TemporaryDirectory(prefix=f"kck-bench-day-{level.name}-") as tmp:
        folder = Path(tmp)
        config = await asyncio.to_thread(_prepare_config, folder, agents)
        pbx = PBXSimulator(users={"kck": SECRET}, speed=speed)
        await pbx.start()
        agi_port = _free_port()
        pbx.set_agi_urls(f"agi://127.0.0.1:{agi_port}/bare")
        add_agent_phones(pbx, agents)
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        cfg = {
            "speed": speed,
            "folder": tmp,
            "config": str(config),
            "agents": agents,
            "ami_port": pbx.ami_port,
            "agi_port": agi_port,
            "database_url": database_url or f"sqlite+aiosqlite:///{folder / 'kck.db'}",
        }
        process = ctx.Process(target=_controller, args=(child, cfg))
        process.start()
        try:
            pid = await controller_ready(parent)
            # Baseline: bare FastAGI route on the same server, same arrival rate, same run.
            await _until_idle(pid)  # the web app builds the KB index in the background
            turnarounds.clear()
            bare_calls = max(50, min(400, int(rate * 10)))
            calls = []
            for _ in range(bare_calls):
                calls.append(pbx.place_call(CallerScript(number="+48600000000", patience=600)))
                await asyncio.sleep(1 / max(rate, 5.0))
            await asyncio.gather(*(_outcome(c) for c in calls), return_exceptions=True)
            bare = turnarounds.samples[:]
            # Warm-up (first menu load, first SQL statements, first offer), not measured.
            pbx.set_agi_urls(f"agi://127.0.0.1:{agi_port}/ivr")
            callers = DemoCallers()
            warm_rng = random.Random(99)
            warm = [pbx.place_call(callers.script(n, warm_rng)) for n in range(3)]
            await asyncio.gather(*(_outcome(c) for c in warm), return_exceptions=True)
            # The level.
            await _ask(parent, "reset")
            turnarounds.clear()
            sim_lags: list[float] = []
            samples: list[tuple[float, float, int, int]] = []  # wall, cpu, rss, live calls
            stream = CallStream(
                pbx,
                DemoCallers().script,
                calls_per_day=level.simulated_calls_per_day(speed),
                start_hour=SHAPE_PEAK_HOUR,
                seed=3,
            )

            async def sampler() -> None:
                while True:
                    t0 = time.perf_counter()
                    await asyncio.sleep(0.25)
                    sim_lags.append(time.perf_counter() - t0 - 0.25)
                    cpu, rss = _proc_stat(pid)
                    live = sum(1 for c in stream.calls if not c.done)
                    samples.append((time.perf_counter(), cpu, rss, live))

            cpu0, rss0 = _proc_stat(pid)
            started = time.perf_counter()
            sampling = asyncio.create_task(sampler())
            hours = args.window * speed / 3600
            outcomes = await stream.run(hours=hours)
            elapsed = time.perf_counter() - started
            sampling.cancel()
            cpu1, rss1 = _proc_stat(pid)
            ctl = await _ask(parent, "collect")
            await _ask(parent, "stop")
        finally:
            await stop_controller(parent, process, pbx)

    placed = len(outcomes)
    sim = Counter(o.result.value for o in outcomes)
    arrivals_window = args.window
    live = [s[3] for s in samples]
    peak_live = max(live, default=0)
    mean_live = sum(live) / len(live) if live else 0.0
    table_rows = sum(ctl["calls_table"].values())
    lost = (
        sim.get(CallResult.FALLBACK_QUEUE.value, 0)
        + ctl["calls_table"].get("in_progress", 0)
        + ctl["calls_table"].get("failed", 0)
        + abs(placed - table_rows)
    )
    ivr_ta, bare_ta = distribution(turnarounds.samples), distribution(bare)
    return {
        "level": level.name,
        "calls_per_day": level.calls_per_day,
        "speed": speed,
        "agents": agents,
        "window_s": arrivals_window,
        "calls_placed": placed,
        "arrivals_per_s_target": round(rate, 2),
        "arrivals_per_s_sustained": round(placed / arrivals_window, 2),
        "wall_s_until_last_call_ended": round(elapsed, 1),
        "agi_turnaround_ivr": ivr_ta,
        "agi_turnaround_bare": bare_ta,
        "agi_turnaround_after_result_minus_1": distribution(turnarounds.after_failure),
        "agi_turnaround_slowest_steps": turnarounds.slowest_steps(),
        "p99_agi_ratio_vs_bare": round(ivr_ta["p99_ms"] / bare_ta["p99_ms"], 2)
        if bare_ta["p99_ms"]
        else None,
        "offer_latency_all": distribution(ctl["offer"]),
        "offer_latency_agent_free": distribution(ctl["offer_immediate"]),
        "controller_loop_lag": distribution(ctl["lags"]),
        "simulator_loop_lag": distribution(sim_lags),
        "controller_cpu_s": round(cpu1 - cpu0, 2),
        "controller_cpu_share": round((cpu1 - cpu0) / elapsed, 3),
        "controller_cpu_ms_per_call": round(1000 * (cpu1 - cpu0) / max(placed, 1), 2),
        "controller_rss_mb_start_end": [round(rss0 / 2**20, 1), round(rss1 / 2**20, 1)],
        "live_calls_peak": peak_live,
        "live_calls_mean": round(mean_live, 1),
        "controller_rss_kb_per_live_call": round(
            (max((s[2] for s in samples), default=rss0) - rss0) / 1024 / max(peak_live, 1), 1
        ),
        "simulator_outcomes": dict(sim),
        "calls_table_outcomes": ctl["calls_table"],
        "calls_never_offered": ctl["never_offered"],
        "lost": lost,
    }


async def main() -> None:
    import logging

    logging.disable(logging.WARNING)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--window", type=float, default=30.0, help="wall seconds of arrivals per level (default 30)"
    )
    parser.add_argument(
        "--speed", type=float, default=60.0, help="time compression of every duration (default 60)"
    )
    parser.add_argument("--levels", default="1x,100x,1250x")
    parser.add_argument(
        "--postgres", action="store_true", help="a private PostgreSQL instead of SQLite"
    )
    args = parser.parse_args()
    info = machine()
    pg = None
    if args.postgres:
        from tests.services import start_postgres

        pg = await asyncio.to_thread(start_postgres)
    turnarounds = Turnarounds()
    turnarounds.install()
    results = []
    try:
        for name in args.levels.split(","):
            calls, speedup = LEVELS[name]
            url = None
            if pg is not None:
                import asyncpg

                dbname = f"day_{name}"
                conn = await asyncpg.connect(host=str(pg.folder), port=pg.port, user="postgres")
                await conn.execute(f'CREATE DATABASE "{dbname}"')
                await conn.close()
                url = pg.url(dbname)
            results.append(await run_level(Level(name, calls, speedup), args, turnarounds, url))
            r = results[-1]
            print(f"{name}: {r['calls_placed']} calls, lost {r['lost']}", flush=True)
    finally:
        if pg is not None:
            pg.stop()
    rows = [
        (
            "level",
            "calls/day",
            "arr/s",
            "live pk",
            "AGI p99 ms",
            "bare p99",
            "ratio",
            "offer p99 ms",
            "lag p99 ms",
            "CPU ms/call",
            "KB/live call",
            "lost",
        )
    ]
    for r in results:
        rows.append(
            (
                r["level"],
                f"{r['calls_per_day']:,}",
                f"{r['arrivals_per_s_sustained']:.1f}",
                str(r["live_calls_peak"]),
                f"{r['agi_turnaround_ivr']['p99_ms']:.2f}",
                f"{r['agi_turnaround_bare']['p99_ms']:.2f}",
                f"{r['p99_agi_ratio_vs_bare']}",
                f"{r['offer_latency_agent_free']['p99_ms']:.2f}",
                f"{r['controller_loop_lag']['p99_ms']:.2f}",
                f"{r['controller_cpu_ms_per_call']:.1f}",
                f"{r['controller_rss_kb_per_live_call']:.0f}",
                str(r["lost"]),
            )
        )
    print(table(rows))
    for r in results:
        slowest = ", ".join(
            f"{s['step']} {s['p99_ms']:.1f}" for s in r["agi_turnaround_slowest_steps"][:3]
        )
        print(f"{r['level']}: slowest AGI steps by p99 ms: {slowest}")
    params = {
        "window_s": args.window,
        "speed": args.speed,
        "levels": args.levels,
        "database": "postgresql" if args.postgres else "sqlite",
    }
    print("written", save("day", info, params, {"levels": results}))


if __name__ == "__main__":
    asyncio.run(main())
