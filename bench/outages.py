"""Faults injected into real servers (issue 18, points 1–3), each beside a baseline run the same
way in the same run:

1. /health of a real `Runtime` on its private redis-server: paused (SIGSTOP) and killed (kill -9).
2. A Redis pause of `--pause` seconds under `--callers` callers waiting on real FastAGI sockets,
   and one new caller during the pause: with the shipped outage bound, and with none (bound 0:
   what kck did before, the first Redis error hands the caller to the fallback queue). The log
   written meanwhile, with and without the repeated-lines filter.
3. `--idle` idle web connections against a process limited to `--nofile` descriptors, then
   `--calls` FastAGI calls: the guarded web server, and aiohttp's plain AppRunner.

    uv run python bench/outages.py [--pause 5] [--callers 5] [--idle 1100] [--nofile 1024]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import logging
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from record import machine, save, table  # noqa: E402

from asterisk.agi import AGISession, FastAGIServer  # noqa: E402
from kck.config_files import SHIPPED_CONFIG  # noqa: E402
from kck.logs import PlainFormatter, RepeatedLinesFilter  # noqa: E402
from kck.redis_server import connect  # noqa: E402
from kck.runtime import Runtime  # noqa: E402
from kck.settings import RedisSettings, load_settings  # noqa: E402
from queues.router import Router  # noqa: E402
from queues.waiting import OUTAGE_HOLD_S, wait_in_queue  # noqa: E402
from tests.asterisk.agi_caller import AsteriskSideCall  # noqa: E402
from tests.polling import until_true  # noqa: E402
from tests.queues.conftest import make_config, waiting_request  # noqa: E402
from tests.services import start_redis  # noqa: E402


async def get_health(url: str) -> tuple[int, dict[str, Any], float]:
    began = time.monotonic()
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
        http.get(url) as response,
    ):
        body = await response.json()
        return response.status, body, time.monotonic() - began


async def health_under_faults() -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="kck-bench-outages-"))
    settings = load_settings(
        None,
        environ={},
        overrides={
            "base_dir": folder,
            "paths": {
                "var": str(folder / "var"),
                "config": str(SHIPPED_CONFIG),
                "menus": str(SHIPPED_CONFIG / "menus"),
            },
            "ami": {"enabled": False},
            "agi": {"port": 0},
            "http": {"port": 0},
        },
    )
    runtime = Runtime(settings, migrate=True)
    await runtime.start()
    try:
        assert runtime.controller is not None
        url = runtime.controller.web.url + "health"
        healthy = await get_health(url)
        pid = healthy[1]["parts"]["redis"]["pid"]
        os.kill(pid, signal.SIGSTOP)
        try:
            paused = await get_health(url)
        finally:
            os.kill(pid, signal.SIGCONT)
        resumed = await get_health(url)
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        while True:
            status, body, _ = await get_health(url)
            if status == 200 and body["parts"]["redis"]["pid"] != pid:
                break
            await asyncio.sleep(0.05)
        recovered_s = time.monotonic() - killed_at
    finally:
        await runtime.stop()
    return {
        "healthy": {"status": healthy[0], "answer_s": round(healthy[2], 3)},
        "paused": {
            "status": paused[0],
            "down": paused[1]["down"],
            "answer_s": round(paused[2], 3),
        },
        "resumed": {"status": resumed[0], "down": resumed[1]["down"]},
        "killed": {
            "healthy_again_after_s": round(recovered_s, 2),
            "redis": {k: body["parts"]["redis"][k] for k in ("restarts", "last_exit")},
        },
    }


async def callers_under_pause(pause_s: float, callers: int, hold_s: float) -> dict[str, Any]:
    server_process = start_redis()
    log = io.StringIO()
    filtered = io.StringIO()
    handlers = []
    for stream, limit in ((log, 0.0), (filtered, 30.0)):
        handler = logging.StreamHandler(stream)
        handler.setFormatter(PlainFormatter())
        handler.addFilter(RepeatedLinesFilter(limit))
        handlers.append(handler)
        logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    defaults = RedisSettings()
    client = await connect(
        server_process.url,
        socket_timeout_s=defaults.socket_timeout_s,
        connect_timeout_s=defaults.connect_timeout_s,
    )
    router = Router(client, make_config({"ala": {"taxes": 5}}), prefix="bench")
    await router.waiters.start()

    async def route(session: AGISession) -> None:
        request = waiting_request(session)
        await wait_in_queue(session, router, request, digit_slice_ms=500, outage_hold_s=hold_s)

    agi = FastAGIServer(host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"])
    agi.add_route("ivr", route)
    await agi.start()
    calls = [AsteriskSideCall(agi.port, uniqueid=f"1795527400.{n}") for n in range(callers + 1)]
    ids = [f"call-{c.uniqueid}" for c in calls]
    tasks = []
    try:
        for call, call_id in zip(calls[:-1], ids, strict=False):
            tasks.append(asyncio.create_task(call.run()))

            async def queued(call_id: str = call_id) -> bool:
                return (await router.call_state(call_id) or {}).get("state") == "waiting"

            await until_true(queued, 10)
        for stream in (log, filtered):
            stream.seek(0)
            stream.truncate()
        os.kill(server_process.process.pid, signal.SIGSTOP)
        tasks.append(asyncio.create_task(calls[-1].run()))
        await asyncio.sleep(pause_s)
        os.kill(server_process.process.pid, signal.SIGCONT)
        await asyncio.sleep(max(defaults.socket_timeout_s, 5.0) + 1)  # the loops catch up
        fell_back = sum(bool(c.variables.get("KCK_AGI_FAILURE")) or c.ended for c in calls)
        positions = [await router.position(call_id) for call_id in ids]
    finally:
        for call in calls:
            call.hang_up()
        await asyncio.wait(tasks)
        await agi.stop()
        await router.waiters.stop()
        await client.aclose()
        for handler in handlers:
            logging.getLogger().removeHandler(handler)
        server_process.stop()
    return {
        "outage_hold_s": hold_s,
        "callers_handed_to_fallback": fell_back,
        "of": len(calls),
        "positions_after": positions,
        "log_bytes_unfiltered": len(log.getvalue()),
        "log_bytes_filtered": len(filtered.getvalue()),
    }


async def idle_web(idle: int, nofile: int, calls: int, guarded: bool) -> dict[str, Any]:
    # the server's log goes to a file: a pipe nobody reads would stop the server when full
    with tempfile.TemporaryFile() as log:
        return await _idle_web(log, idle, nofile, calls, guarded)


async def _idle_web(
    log: IO[bytes], idle: int, nofile: int, calls: int, guarded: bool
) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.agentdesk.limited_servers",
        str(nofile),
        "guarded" if guarded else "plain",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=log,
    )
    assert process.stdout is not None
    web_port, agi_port = (int(w) for w in (await process.stdout.readline()).split())
    conns = []
    served = 0
    began = time.monotonic()
    try:
        for _ in range(idle):
            conns.append(await asyncio.open_connection("127.0.0.1", web_port))
        for n in range(calls):
            call = AsteriskSideCall(agi_port, uniqueid=f"1795527500.{n}")
            with contextlib.suppress(TimeoutError, ConnectionError):
                async with asyncio.timeout(5):
                    await call.run()
            served += call.variables.get("SERVED") == "1"

        async def closed(reader: asyncio.StreamReader) -> float | None:
            try:
                async with asyncio.timeout(30):
                    await reader.read(1)
            except TimeoutError:
                return None
            except ConnectionError:
                pass
            return time.monotonic() - began

        ends = await asyncio.gather(*(closed(r) for r, _ in conns))
    finally:
        for _, writer in conns:
            writer.close()
        process.kill()
        await process.wait()
    log_bytes = log.seek(0, os.SEEK_END)
    still_open = [e for e in ends if e is None]
    done = [e for e in ends if e is not None]
    return {
        "server": "guarded" if guarded else "aiohttp AppRunner",
        "calls_served": served,
        "of": calls,
        "idle_closed_within_30_s": len(done),
        "last_closed_after_s": round(max(done), 1) if done else None,
        "idle_still_open": len(still_open),
        "server_log_bytes": log_bytes,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pause", type=float, default=5.0)
    parser.add_argument("--callers", type=int, default=5)
    parser.add_argument("--idle", type=int, default=1100)
    parser.add_argument("--nofile", type=int, default=1024)
    parser.add_argument("--calls", type=int, default=3)
    args = parser.parse_args()
    info = machine()
    print("1. /health under a paused and a killed Redis…", flush=True)
    results: dict[str, Any] = {"health": await health_under_faults()}
    print("2. callers waiting through a Redis pause…", flush=True)
    results["pause"] = [
        await callers_under_pause(args.pause, args.callers, hold) for hold in (OUTAGE_HOLD_S, 0.0)
    ]
    print("3. idle web connections at a low descriptor limit…", flush=True)
    results["idle_web"] = [
        await idle_web(args.idle, args.nofile, args.calls, guarded) for guarded in (True, False)
    ]
    h = results["health"]
    health_rows: list[tuple[str, ...]] = [
        ("/health", "status", "answered in s", "down"),
        ("healthy", str(h["healthy"]["status"]), str(h["healthy"]["answer_s"]), "-"),
        (
            "Redis paused",
            str(h["paused"]["status"]),
            str(h["paused"]["answer_s"]),
            ",".join(h["paused"]["down"]),
        ),
        (
            "Redis killed",
            "200 after",
            str(h["killed"]["healthy_again_after_s"]),
            str(h["killed"]["redis"]),
        ),
    ]
    pause_rows: list[tuple[str, ...]] = [
        ("outage bound s", "to fallback", "positions after", "log B (all)", "log B (filtered)")
    ]
    for r in results["pause"]:
        fell = f"{r['callers_handed_to_fallback']} of {r['of']}"
        pause_rows.append(
            (
                str(r["outage_hold_s"]),
                fell,
                str(r["positions_after"]),
                str(r["log_bytes_unfiltered"]),
                str(r["log_bytes_filtered"]),
            )
        )
    web_rows: list[tuple[str, ...]] = [
        ("web server", "calls served", "idle closed", "last closed s", "still open", "log B")
    ]
    for w in results["idle_web"]:
        web_rows.append(
            (
                w["server"],
                f"{w['calls_served']} of {w['of']}",
                str(w["idle_closed_within_30_s"]),
                str(w["last_closed_after_s"]),
                str(w["idle_still_open"]),
                str(w["server_log_bytes"]),
            )
        )
    print("\n\n".join(table(rows) for rows in (health_rows, pause_rows, web_rows)))
    path = save("outages", info, vars(args), results)
    print(f"\nwritten: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    asyncio.run(main())
