"""IVR throughput: the shipped menu over FastAGI against a bare FastAGI route, in the same run.

A loopback client in a second process plays Asterisk: environment block, then replies to every
command; GET DATA is answered with the caller's keys 1, 5, 2 (Polish → report a problem →
greenery), so each IVR session walks welcome → language → hours → speech fallback → main menu →
problem menu → queue (handed to the dialplan's queue), publishing its call row's changes on the
`queues` stream with the live version read from Redis; the call-history writer (`QueueRecorder`,
batched, as `kck serve` runs it) writes them to SQLite in the same process. The IVR's time and
CPU include draining the writer after the last session (every row in SQL). The bare route sends as many commands per
session as the IVR did (ANSWER, GET DATA, NOOPs, HANGUP), measured second in the same run.
Per-command latency is the controller's turnaround as the client (Asterisk) sees it: reply
written → next command read. Prints sessions/s, server CPU per session, p50/p99 turnaround and
the ratios; writes bench/results/ivr_sessions-<time>.json with the machine description.
Both routes are warmed up first (a long-running controller has its menu loaded), then measured in
alternated rounds (IVR, bare, IVR, bare...) so the shared machine's load drift hits both alike.
Usage: uv run python bench/ivr_sessions.py [--sessions 1000] [--concurrency 10] [--rounds 5]
       [--writer-process]   (the call-history writer in a process of its own: a FastAGI node
                             with database.write_history false, another node writing)
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from zoneinfo import ZoneInfo

from record import distribution, machine, save, table

ENV = (
    b"agi_network: yes\nagi_network_script: ivr\nagi_request: agi://127.0.0.1/ivr\n"
    b"agi_channel: PJSIP/sipp-00000001\nagi_uniqueid: 1795526838.1\nagi_callerid: 600100200\n"
    b"agi_language: pl\nagi_context: kck-inbound\nagi_extension: 126165555\nagi_priority: 4\n\n"
)
KEYS = (b"1", b"5", b"2")
OFFICE_HOURS = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Warsaw"))
SHIPPED_MENUS = Path(__file__).resolve().parents[1] / "config" / "menus"


async def _one_session(port: int, turnaround: list[float]) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(ENV)
    sent = time.perf_counter()
    keys = list(KEYS)
    commands = 0
    while True:
        line = await reader.readline()
        if not line:
            break
        turnaround.append(time.perf_counter() - sent)
        commands += 1
        if line.startswith(b"GET DATA"):
            reply = b"200 result=" + keys.pop(0) + b"\n" if keys else b"200 result= (timeout)\n"
        elif line.startswith(b"STREAM FILE"):
            reply = b"200 result=0 endpos=8000\n"
        elif line.startswith((b"GET VARIABLE", b"ANSWER")):
            reply = b"200 result=0\n"
        else:
            reply = b"200 result=1\n"
        writer.write(reply)
        sent = time.perf_counter()
    writer.close()
    return commands


async def _drive(port: int, sessions: int, concurrency: int) -> tuple[float, int, list[float]]:
    gate = asyncio.Semaphore(concurrency)
    turnaround: list[float] = []

    async def guarded() -> int:
        async with gate:
            return await _one_session(port, turnaround)

    start = time.perf_counter()
    counts = await asyncio.gather(*(guarded() for _ in range(sessions)))
    return time.perf_counter() - start, sum(counts), turnaround


def _client(port: int, sessions: int, concurrency: int, out: Any) -> None:
    out.put(asyncio.run(_drive(port, sessions, concurrency)))


def _run_client(port: int, sessions: int, concurrency: int) -> tuple[float, int, list[float]]:
    queue: Any = multiprocessing.Queue()
    process = multiprocessing.Process(target=_client, args=(port, sessions, concurrency, queue))
    process.start()
    result: tuple[float, int, list[float]] = queue.get(timeout=600)
    process.join()
    return result


async def _serve(
    route: Any, sessions: int, concurrency: int
) -> tuple[float, float, int, list[float]]:
    from asterisk.agi import FastAGIServer

    server = FastAGIServer(host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"])
    server.add_route("ivr", route)
    await server.start()
    cpu = time.process_time()
    try:
        elapsed, commands, turnaround = await asyncio.to_thread(
            _run_client, server.port, sessions, concurrency
        )
    finally:
        await server.stop()
    return elapsed, time.process_time() - cpu, commands, turnaround


@dataclass
class Measured:
    """One route's rounds added up: wall time, process CPU, commands and per-command turnaround."""

    elapsed: float = 0.0
    cpu: float = 0.0
    commands: int = 0
    sessions: int = 0
    turnaround: list[float] = field(default_factory=list)

    def add(
        self, sessions: int, elapsed: float, cpu: float, commands: int, ta: list[float]
    ) -> None:
        self.sessions += sessions
        self.elapsed += elapsed
        self.cpu += cpu
        self.commands += commands
        self.turnaround.extend(ta)


def bare_route(commands: int) -> Any:
    """ANSWER, GET DATA, NOOPs, HANGUP: as many commands per session as the IVR sent."""

    async def route(session: Any) -> None:
        await session.answer()
        await session.get_data("beep", 3000, 4)
        for _ in range(max(0, commands - 3)):
            await session.noop()
        await session.hangup()

    return route


WRITTEN_KEY = "bench:written"  # the writer process's last committed stream id


def _stream_id(raw: Any) -> tuple[int, int]:
    ms, seq = (raw.decode() if isinstance(raw, bytes) else str(raw)).split("-")
    return int(ms), int(seq)


async def _writer_main(redis_url: str, database_url: str) -> None:
    """The call-history writer alone, as another process of the installation would run it."""
    import logging

    from kck.bus import EventBus
    from kck.call_events import CALLS_STREAM
    from kck.db import create_engine, session_factory
    from kck.redis_server import connect
    from queues.config import RoutingConfig
    from queues.recorder import QueueRecorder, is_poison

    logging.disable(logging.INFO)
    redis = await connect(redis_url)
    engine = create_engine(database_url)
    recorder = QueueRecorder(
        session_factory(engine), RoutingConfig(skills={}, queues={}, agents={})
    )
    bus = EventBus(redis, "bench")

    async def write(events: list[Any]) -> None:
        await recorder.handle_batch(events)
        await redis.set(WRITTEN_KEY, events[-1].id)

    await bus.consume_batches(
        CALLS_STREAM,
        QueueRecorder.GROUP,
        "bench-writer",
        write,
        start="0",
        linger_ms=QueueRecorder.LINGER_MS,
        poison=is_poison,
    )


def _writer_process(redis_url: str, database_url: str) -> None:
    asyncio.run(_writer_main(redis_url, database_url))


@asynccontextmanager
async def ivr_under_test(
    folder: Path, database_url: str | None = None, writer_process: bool = False
) -> AsyncIterator[tuple[Any, Any, Any, Any, Any, Any]]:
    """The IVR route as `kck serve` builds it, the call-history writer running beside it.

    Yields (route, route_without_history, drain, rows_queued, bus, sessions): `drain()` waits
    until the writer has every event in SQL; the second route is the same menu walk recording
    nothing (to show what recording the call costs). SQLite in `folder` unless `database_url`.
    `writer_process`: the writer runs in a process of its own (design (a) of issue 20 point 2).
    """
    from sqlalchemy import func, select

    from ivr.agi_route import create_ivr_route
    from ivr.component import LIVE_VERSION_CACHE_S
    from ivr.dialplan_gateway import DialplanQueueGateway
    from ivr.versions import MenuLibrary
    from kck.bus import EventBus
    from kck.call_events import CALLS_STREAM
    from kck.clock import ManualClock
    from kck.db import Call, create_engine, session_factory, upgrade
    from kck.heap import freeze_start_up
    from kck.phone import TrunkDial
    from kck.redis_server import PrivateRedis, connect
    from kck.stopping import TASK_STOP_S, stop_task
    from queues.config import RoutingConfig
    from queues.recorder import QueueRecorder, is_poison

    menus = folder / "menus"
    await asyncio.to_thread(shutil.copytree, SHIPPED_MENUS, menus)
    database_url = database_url or f"sqlite+aiosqlite:///{folder / 'kck.db'}"
    engine = create_engine(database_url)
    await upgrade(engine)
    private = PrivateRedis(folder / "redis", persistent=False)
    redis_url = await private.start()
    redis = await connect(redis_url)
    sessions_db = session_factory(engine)
    # as `kck serve` builds it: the live version id is kept for LIVE_VERSION_CACHE_S
    library = MenuLibrary(
        sessions_db, redis, menus_dir=menus, key_prefix="bench", live_cache_s=LIVE_VERSION_CACHE_S
    )
    await library.reload(by="bench")
    bus = EventBus(redis, "bench")
    route = create_ivr_route(
        library,
        DialplanQueueGateway(bus),
        bus,
        clock=ManualClock(OFFICE_HOURS),  # the same walk whatever the real time
        sounds_dir=folder / "sounds",
        recordings_dir=folder / "recordings",
        dial=TrunkDial(),
    )
    unrecorded = create_ivr_route(
        library,
        DialplanQueueGateway(bus),
        None,
        clock=ManualClock(OFFICE_HOURS),
        sounds_dir=folder / "sounds",
        recordings_dir=folder / "recordings",
        dial=TrunkDial(),
    )
    recorder = QueueRecorder(sessions_db, RoutingConfig(skills={}, queues={}, agents={}))
    written = {"last": (0, 0)}
    progress = asyncio.Event()

    async def write(events: list[Any]) -> None:
        await recorder.handle_batch(events)
        written["last"] = max(written["last"], _stream_id(events[-1].id))
        progress.set()

    if writer_process:
        child = multiprocessing.get_context("spawn").Process(
            target=_writer_process, args=(redis_url, database_url), daemon=True
        )
        child.start()
        writer = None
    else:
        writer = asyncio.create_task(
            bus.consume_batches(
                CALLS_STREAM,
                QueueRecorder.GROUP,
                "bench",
                write,
                start="0",
                linger_ms=QueueRecorder.LINGER_MS,  # as `kck serve` runs it
                poison=is_poison,
            )
        )

    async def drain() -> None:
        """Until the writer has committed the last event published so far."""
        newest = await redis.xrevrange(bus.key(CALLS_STREAM), count=1)
        target = _stream_id(newest[0][0]) if newest else (0, 0)
        if writer_process:  # the other process says how far it is in Redis: asked every 5 ms
            while True:
                raw = await redis.get(WRITTEN_KEY)
                if raw is not None and _stream_id(raw) >= target:
                    return
                await asyncio.sleep(0.005)
        while written["last"] < target:
            progress.clear()
            await progress.wait()

    async def rows_queued() -> int:
        async with sessions_db() as db:
            count = await db.scalar(
                select(func.count()).select_from(Call).where(Call.queue == "city_issues")
            )
        return int(count or 0)

    freeze_start_up()  # as `kck serve` does once it has started
    try:
        yield route, unrecorded, drain, rows_queued, bus, sessions_db
    finally:
        if writer is not None:
            await stop_task(writer, within=TASK_STOP_S, what="call-history writer")
        else:
            child.terminate()
            child.join(5)
        await redis.aclose()
        await private.stop()
        await engine.dispose()


async def run_rounds(
    sessions: int,
    concurrency: int,
    rounds: int,
    warmup: int,
    folder: Path,
    writer_process: bool = False,
) -> tuple[Measured, Measured, Measured, int, int]:
    """Warm the routes up, then alternate their rounds so load drift hits them alike."""
    ivr, bare, unrecorded = Measured(), Measured(), Measured()
    per_round = max(1, sessions // rounds)
    under_test = ivr_under_test(folder, writer_process=writer_process)
    async with under_test as (route, no_history, drain, rows_queued, _bus, _db):

        async def ivr_round(n: int) -> tuple[float, float, int, list[float]]:
            elapsed, cpu, commands, ta = await _serve(route, n, concurrency)
            start, start_cpu = time.perf_counter(), time.process_time()
            await drain()  # the round ends when its rows are in SQL
            return (
                elapsed + time.perf_counter() - start,
                cpu + time.process_time() - start_cpu,
                commands,
                ta,
            )

        _e, _c, warm_commands, _t = await ivr_round(warmup)
        per_session = round(warm_commands / warmup)
        plain = bare_route(per_session)
        await _serve(plain, warmup, concurrency)
        await _serve(no_history, warmup, concurrency)
        for _ in range(rounds):
            ivr.add(per_round, *await ivr_round(per_round))
            bare.add(per_round, *await _serve(plain, per_round, concurrency))
            unrecorded.add(per_round, *await _serve(no_history, per_round, concurrency))
        return ivr, bare, unrecorded, await rows_queued(), warmup + ivr.sessions


async def main() -> None:
    import logging

    logging.disable(logging.INFO)  # one log line per call would measure the terminal
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5, help="IVR and bare rounds, alternated")
    parser.add_argument("--warmup", type=int, default=50, help="sessions per route, not measured")
    parser.add_argument(
        "--writer-process",
        action="store_true",
        help="run the call-history writer in a process of its own (its CPU is not counted)",
    )
    args = parser.parse_args()
    info = machine()
    with tempfile.TemporaryDirectory(prefix="kck-bench-ivr-") as tmp:
        ivr_m, bare_m, unrecorded_m, queued, walked = await run_rounds(
            args.sessions,
            args.concurrency,
            args.rounds,
            args.warmup,
            Path(tmp),
            args.writer_process,
        )
    assert queued == walked, f"only {queued} of {walked} IVR sessions have their row in SQL"
    n = ivr_m.sessions

    def summary(m: Measured) -> dict[str, Any]:
        return {
            "sessions_per_s": round(m.sessions / m.elapsed, 1),
            "cpu_ms_per_session": round(1000 * m.cpu / m.sessions, 3),
            "commands_per_session": m.commands / m.sessions,
            "turnaround": distribution(m.turnaround),
        }

    results: dict[str, Any] = {
        "bare": summary(bare_m),
        "ivr": summary(ivr_m),
        "ivr_without_history": summary(unrecorded_m),
    }
    b, i = results["bare"], results["ivr"]
    results.update(
        {
            "ratio_sessions_per_s_ivr_over_bare": round(
                i["sessions_per_s"] / b["sessions_per_s"], 3
            ),
            "ratio_cpu_per_session_ivr_over_bare": round(
                i["cpu_ms_per_session"] / b["cpu_ms_per_session"], 2
            ),
            "ratio_turnaround_p50_ivr_over_bare": round(
                i["turnaround"]["p50_ms"] / b["turnaround"]["p50_ms"], 2
            ),
            "ratio_turnaround_p99_ivr_over_bare": round(
                i["turnaround"]["p99_ms"] / b["turnaround"]["p99_ms"], 2
            ),
            "ratio_sessions_per_s_ivr_without_history_over_bare": round(
                results["ivr_without_history"]["sessions_per_s"] / b["sessions_per_s"], 3
            ),
        }
    )
    rows = [
        ("route", "sessions/s", "CPU ms/session", "cmds/session", "turnaround p50 ms", "p99 ms")
    ]
    for name in ("bare", "ivr", "ivr_without_history"):
        r = results[name]
        rows.append(
            (
                name,
                f"{r['sessions_per_s']:.0f}",
                f"{r['cpu_ms_per_session']:.3f}",
                f"{r['commands_per_session']:.0f}",
                f"{r['turnaround']['p50_ms']:.3f}",
                f"{r['turnaround']['p99_ms']:.3f}",
            )
        )
    print(
        f"sessions={n} in {args.rounds} alternated rounds, concurrency={args.concurrency} "
        "(IVR: call row via the queues stream and the batched writer, SQLite)"
    )
    print(table(rows))
    print(
        f"ratio IVR/bare: throughput {results['ratio_sessions_per_s_ivr_over_bare']}, "
        f"CPU per session {results['ratio_cpu_per_session_ivr_over_bare']}x, turnaround "
        f"p50 {results['ratio_turnaround_p50_ivr_over_bare']}x "
        f"p99 {results['ratio_turnaround_p99_ivr_over_bare']}x; without the call history: "
        f"throughput {results['ratio_sessions_per_s_ivr_without_history_over_bare']}"
    )
    params = {
        "sessions": n,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "warmup": args.warmup,
        "writer_process": args.writer_process,
    }
    print("written", save("ivr_sessions", info, params, results))


if __name__ == "__main__":
    asyncio.run(main())
