"""Memory over time (issue 18, point 9): tens of thousands of calls through one controller.

Two processes, as in `day.py`: the controller (`kck.runtime.Runtime`: AMI client, router, IVR on
FastAGI, web app, one private Redis, SQLite) in a child process, and here the PBX simulator
(AMI server, FastAGI client, agents' phones) with demo callers walking the real IVR — to the
queue, answered by agents' phones, or served by the menus — at a steady arrival rate, and the
agents' desks on `/desk/ws` (signed in, answering each pop with `shown` as the page does),
one desk in `--desk-churn` closed and opened again every second. Durations run `--speed`
times faster on both sides (the hours of a day compressed; see `day.py`).

Every `--every` ended calls the controller is sampled (after a full `gc.collect()`): resident
memory, open descriptors, asyncio tasks, Redis keys (and those without a TTL, by key shape),
the sizes of the controller's dicts, sets and lists (attributes three levels deep), and with
`--tracemalloc` the biggest allocation growth since the previous sample; always the live
objects by type (growth since the phase began), Python's allocated blocks and glibc's own
account (`mallinfo2`: in use, free held in its arenas), and with `--malloc-trim` how much
`malloc_trim` hands back. Baseline in the same run: the same controller taking the same number of calls on a
bare FastAGI route (no IVR, no queue), so the figure is the IVR's growth per 10,000 calls
against FastAGI's own.
Usage: uv run python bench/soak.py [--calls 2000] [--rate 10] [--every 250] [--desks 20]
       [--tracemalloc FRAMES] [--malloc-trim] [--long]
(default about 6 minutes; `--long`: 30,000 IVR calls, about 50 minutes at the default rate;
`--tracemalloc 4` adds the biggest allocation growth by line, at ~3× the controller's CPU.)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import json
import math
import multiprocessing
import os
import random
import re
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
    _free_port,
    _prepare_config,
    _scale_controller_time,
    add_agent_phones,
    controller_settings,
    stop_controller,
)
from record import machine, save, table
from screen_pop import add_desk_users

BARE_COMMANDS = 10
_ID_PARTS = re.compile(r"[0-9a-f]{8,}|\d+(\.\d+)?|bench\d{4}|\+?\d{6,}")


def _key_shape(key: str) -> str:
    """`kck:call:3f2a…` → `kck:call:*`: keys counted by shape, not one by one."""
    return _ID_PARTS.sub("*", key)


# -- the controller process ---------------------------------------------------------------------
def _controller(conn: Any, cfg: dict[str, Any]) -> None:
    asyncio.run(_controller_main(conn, cfg))


async def _redis_keys(redis: Any) -> dict[str, Any]:
    total = 0
    no_ttl: Counter[str] = Counter()
    shapes: Counter[str] = Counter()
    async for raw in redis.scan_iter(count=1000):
        key = raw.decode() if isinstance(raw, bytes) else str(raw)
        total += 1
        shapes[_key_shape(key)] += 1
        if await redis.ttl(key) == -1:
            no_ttl[_key_shape(key)] += 1
    return {
        "total": total,
        "without_ttl": sum(no_ttl.values()),
        "shapes": dict(shapes.most_common(12)),
        "without_ttl_shapes": dict(no_ttl.most_common(12)),
    }


def _sizes(root: Any, depth: int = 3) -> dict[str, int]:
    """Lengths of the dicts, sets, lists and deques reachable from the controller's objects
    (attributes only, `depth` levels): a per-call container never pruned shows as a size that
    grows with the calls."""
    found: dict[str, int] = {}
    seen: set[int] = set()

    def walk(obj: Any, path: str, level: int) -> None:
        if id(obj) in seen or level > depth:
            return
        seen.add(id(obj))
        attrs = getattr(obj, "__dict__", None)
        if attrs is None:
            return
        for name, value in attrs.items():
            where = f"{path}.{name}"
            if isinstance(value, (dict, set, list, frozenset)) or type(value).__name__ in (
                "deque",
                "OrderedDict",
                "WeakValueDictionary",
                "WeakSet",
            ):
                with contextlib.suppress(TypeError):
                    found[where] = len(value)
            elif getattr(type(value), "__module__", "").split(".")[0] in (
                "kck",
                "ivr",
                "queues",
                "agentdesk",
                "kb",
                "recordings",
            ):
                walk(value, where, level + 1)

    walk(root, "controller", 0)
    return found


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _malloc_info() -> dict[str, float]:
    """glibc's own account (`mallinfo2`), MB: in use by the program (`uordblks` + mmapped
    `hblkhd`) against held free in its arenas (`fordblks`) — RSS growing with the first flat and
    the second growing is the allocator's fragmentation, not a leak."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
    except (OSError, AttributeError):
        return {}
    info = libc.mallinfo2()
    return {
        "in_use_mb": round((info.uordblks + info.hblkhd) / 2**20, 2),
        "free_held_mb": round(info.fordblks / 2**20, 2),
        "arena_mb": round(info.arena / 2**20, 2),
    }


async def _controller_main(conn: Any, cfg: dict[str, Any]) -> None:
    import logging

    logging.basicConfig(level=logging.ERROR)
    logging.disable(logging.WARNING)
    _scale_controller_time(cfg["speed"])
    from agentdesk.sessions import Role, SessionStore
    from kck.runtime import Runtime

    settings = controller_settings(cfg)
    runtime = Runtime(settings, migrate=True)
    services = await runtime.start()
    assert runtime.controller is not None
    router = runtime.controller.router.router

    async def bare(session: Any) -> None:  # the baseline: a bare FastAGI route, same server
        await session.answer()
        for _ in range(BARE_COMMANDS - 2):
            await session.noop()
        await session.hangup()

    runtime.controller.ivr._server.add_route("bare", bare)
    usernames = [f"bench{n:04d}" for n in range(cfg["agents"])]
    ids = await add_desk_users(services, usernames)
    store = SessionStore(services.redis, settings.redis.key_prefix)
    cookies: dict[str, str] = {}
    for n, username in enumerate(usernames):
        session = await store.create(
            user_id=ids[username],
            username=username,
            display_name=username,
            role=Role.AGENT,
            extension=str(7000 + n),
        )
        cookies[username] = session.id
        await router.agent_login(username)

    loop = asyncio.get_running_loop()
    if cfg["tracemalloc"]:  # after the start: traced, the start takes minutes
        tracemalloc.start(cfg["frames"])
    baseline: tracemalloc.Snapshot | None = None
    baseline_types: Counter[str] | None = None
    conn.send(("ready", os.getpid(), runtime.controller.web.port, cookies))
    try:
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command in ("sample", "baseline"):
                gc.collect()
                result: dict[str, Any] = {
                    "tasks": len(asyncio.all_tasks()),
                    "descriptors": len(os.listdir("/proc/self/fd")),
                    "redis": await _redis_keys(services.redis),
                    "containers": _sizes(runtime.controller),
                }
                result["python_blocks"] = sys.getallocatedblocks()
                result["malloc"] = _malloc_info()
                if cfg["malloc_trim"]:  # free memory handed back: what is left is in use
                    before = _proc_status(os.getpid())
                    ctypes.CDLL("libc.so.6").malloc_trim(0)
                    result["malloc"]["trimmed_mb"] = round(
                        (before - _proc_status(os.getpid())) / 2**20, 2
                    )
                objects = gc.get_objects()
                types = Counter(type(o).__qualname__ for o in objects)
                errors = [o for o in objects if isinstance(o, BaseException)]
                result["exceptions"] = dict(Counter(type(o).__qualname__ for o in errors))
                holders = gc.get_referrers(*errors) if errors else []
                result["exception_holders"] = dict(
                    Counter(
                        type(o).__qualname__ + (f":{sorted(o)[:4]}" if isinstance(o, dict) else "")
                        for o in holders
                        if o is not objects and o is not errors
                    ).most_common(10)
                )
                del objects, errors, holders
                if command == "baseline" or baseline_types is None:
                    baseline_types = types
                result["objects_top_growth"] = dict((types - baseline_types).most_common(12))
                if cfg["tracemalloc"]:
                    snapshot = tracemalloc.take_snapshot().filter_traces(
                        [tracemalloc.Filter(False, tracemalloc.__file__)]
                    )
                    if command == "baseline" or baseline is None:
                        baseline = snapshot
                    # against the previous sample: the first calls' one-time step left out
                    stats = snapshot.compare_to(baseline, "traceback")[:8]
                    baseline = snapshot
                    result["tracemalloc_top_growth"] = [
                        {
                            "kb": round(s.size_diff / 1024, 1),
                            "count": s.count_diff,
                            "where": " <- ".join(
                                f"{Path(f.filename).name}:{f.lineno}" for f in s.traceback
                            ),
                        }
                        for s in stats
                        if s.size_diff > 0
                    ]
                    result["tracemalloc_mb"] = round(tracemalloc.get_traced_memory()[0] / 2**20, 2)
                conn.send(result)
            elif command == "stop":
                break
    finally:
        await runtime.stop()
        conn.send("stopped")


# -- this process: the PBX, the callers, the desks --------------------------------------------
def _proc_status(pid: int) -> int:
    """Resident memory of a process in bytes."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[21]) * os.sysconf("SC_PAGE_SIZE")


class Desks:
    """The agents' desks: each on `/desk/ws`, answering every pop with `shown`."""

    def __init__(self, base: str, cookies: dict[str, str]) -> None:
        import aiohttp

        self.base = base
        self.cookies = cookies
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.pops = 0
        self.reconnects = 0
        self.refused: list[str] = []

    async def _desk(self, username: str, opened: asyncio.Event) -> None:
        import aiohttp

        from agentdesk.sessions import COOKIE_NAME

        headers = {"Origin": self.base, "Cookie": f"{COOKIE_NAME}={self.cookies[username]}"}
        async with self.http.ws_connect(f"{self.base}/desk/ws", headers=headers) as ws:
            await ws.send_json({"type": "ready"})
            opened.set()
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                body = json.loads(message.data)
                if body.get("type") == "pop":
                    self.pops += 1
                    offer_id = body["data"].get("offer_id")
                    await ws.send_json({"type": "shown", "offer_id": offer_id})

    async def open(self, username: str) -> None:
        opened = asyncio.Event()
        task = asyncio.create_task(self._desk(username, opened))
        self.tasks[username] = task
        waiting = asyncio.create_task(opened.wait())
        await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if task.done():
            task.result()  # the socket was refused: say why
            raise RuntimeError(f"desk of {username} closed at once")

    async def reopen(self, username: str) -> None:
        task = self.tasks.pop(username)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        self.reconnects += 1
        try:
            await self.open(username)
        except Exception as refused:  # counted: a desk the server refused is a finding
            self.refused.append(f"{type(refused).__name__}: {refused}"[:200])

    async def close(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        await self.http.close()


async def _ask(conn: Any, message: str) -> Any:
    loop = asyncio.get_running_loop()
    conn.send(message)
    return await loop.run_in_executor(None, conn.recv)


async def _phase(
    name: str,
    pbx: Any,
    script: Any,
    calls: int,
    rate: float,
    every: int,
    conn: Any,
    pid: int,
    churn: Any,
) -> dict[str, Any]:
    """`calls` calls at `rate` per second, the controller sampled every `every` ended calls."""
    outcomes: Counter[str] = Counter()
    ended = 0
    samples: list[dict[str, Any]] = []
    next_sample = every
    sampling = asyncio.Lock()
    started = time.perf_counter()
    live: set[asyncio.Task[None]] = set()

    async def one(n: int) -> None:
        nonlocal ended, next_sample
        try:
            result = await pbx.place_call(script(n))
            outcomes[result.result.value] += 1
        except Exception as failure:  # a failed call is counted, the soak goes on
            outcomes[f"error: {type(failure).__name__}"] += 1
        ended += 1
        if ended >= next_sample:
            next_sample += every
            at = ended
            async with sampling:
                sample = await _ask(conn, "sample")
                sample.update(calls=at, rss_mb=round(_proc_status(pid) / 2**20, 2))
                sample["wall_s"] = round(time.perf_counter() - started, 1)
                samples.append(sample)
                print(
                    f"{name}: {at} calls, RSS {sample['rss_mb']} MB, fds "
                    f"{sample['descriptors']}, tasks {sample['tasks']}, redis keys "
                    f"{sample['redis']['total']} ({sample['redis']['without_ttl']} no TTL)",
                    flush=True,
                )
                print(f"  objects grown since the phase began: {sample['objects_top_growth']}")
                print(f"  Python blocks {sample['python_blocks']}, malloc {sample['malloc']}")
                print(
                    f"  exceptions: {sample['exceptions']}; held by {sample['exception_holders']}"
                )
                for item in sample.get("tracemalloc_top_growth", [])[:6]:
                    print(f"  {item['kb']:+.1f} KB ({item['count']:+d}) {item['where']}")

    churning = asyncio.create_task(churn()) if churn is not None else None
    for n in range(calls):
        task = asyncio.create_task(one(n))
        live.add(task)
        task.add_done_callback(live.discard)
        await asyncio.sleep(1 / rate)
    while live:
        await asyncio.gather(*list(live))
    if churning is not None:
        churning.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await churning
    return {
        "phase": name,
        "calls": calls,
        "wall_s": round(time.perf_counter() - started, 1),
        "outcomes": dict(outcomes),
        "samples": samples,
    }


def _growth_per_10k(phase: dict[str, Any], start: dict[str, Any]) -> dict[str, Any]:
    """RSS growth per 10,000 calls: the slope from the first sample to the last (the warm-up's
    one-time growth is before the first sample), and fds/tasks/keys last minus first."""
    first, last = phase["samples"][0], phase["samples"][-1]
    middle = phase["samples"][len(phase["samples"]) // 2]
    span = max(last["calls"] - first["calls"], 1)
    half = max(last["calls"] - middle["calls"], 1)
    return {
        "rss_mb_per_10k": round((last["rss_mb"] - first["rss_mb"]) * 10_000 / span, 2),
        # the second half alone: what is left once caches and pools have filled
        "rss_mb_per_10k_second_half": round((last["rss_mb"] - middle["rss_mb"]) * 10_000 / half, 2),
        "tracemalloc_mb_per_10k": round(
            (last.get("tracemalloc_mb", 0) - first.get("tracemalloc_mb", 0)) * 10_000 / span, 2
        ),
        "rss_mb_start": start["rss_mb"],
        "rss_mb_end": last["rss_mb"],
        "descriptors_first_last": [first["descriptors"], last["descriptors"]],
        "tasks_first_last": [first["tasks"], last["tasks"]],
        "redis_keys_first_last": [first["redis"]["total"], last["redis"]["total"]],
        "redis_keys_without_ttl_first_last": [
            first["redis"]["without_ttl"],
            last["redis"]["without_ttl"],
        ],
    }


def _growing_containers(phase: dict[str, Any]) -> dict[str, list[int]]:
    first, last = phase["samples"][0]["containers"], phase["samples"][-1]["containers"]
    return {k: [first.get(k, 0), v] for k, v in last.items() if v > first.get(k, 0) + 10}


async def main() -> None:
    import logging

    logging.disable(logging.WARNING)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=2000, help="IVR calls (default 2,000)")
    parser.add_argument("--bare-calls", type=int, default=1000, help="baseline calls")
    parser.add_argument("--rate", type=float, default=10.0, help="arrivals per wall second")
    parser.add_argument("--every", type=int, default=250, help="sample every N ended calls")
    parser.add_argument("--speed", type=float, default=60.0, help="time compression")
    parser.add_argument("--desks", type=int, default=20, help="agents with a desk open")
    parser.add_argument("--desk-churn", type=int, default=1, help="desks reopened per second")
    parser.add_argument(
        "--tracemalloc",
        type=int,
        default=0,
        metavar="FRAMES",
        help="trace allocations with this traceback depth (0: off; slows the controller ~3×)",
    )
    parser.add_argument(
        "--malloc-trim",
        action="store_true",
        help="after each sample hand glibc's free memory back (malloc_trim) and report how much",
    )
    parser.add_argument("--long", action="store_true", help="30,000 calls (about 50 minutes)")
    args = parser.parse_args()
    if args.long:
        args.calls = max(args.calls, 30_000)
    bare_calls = args.bare_calls
    info = machine()

    from demo import DemoCallers
    from demo.simulator import CallerScript, PBXSimulator

    speed = args.speed
    agents = math.ceil(1.6 * args.rate * 160 / speed) + 4
    with tempfile.TemporaryDirectory(prefix="kck-bench-soak-") as tmp:
        folder = Path(tmp)
        config = await asyncio.to_thread(_prepare_config, folder, agents)
        pbx = PBXSimulator(users={"kck": SECRET}, speed=speed)
        await pbx.start()
        agi_port = _free_port()
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
            "database_url": f"sqlite+aiosqlite:///{folder / 'kck.db'}",
            "tracemalloc": args.tracemalloc > 0,
            "frames": args.tracemalloc,
            "malloc_trim": args.malloc_trim,
        }
        process = ctx.Process(target=_controller, args=(child, cfg))
        process.start()
        loop = asyncio.get_running_loop()
        desks: Desks | None = None
        try:
            ready = await asyncio.wait_for(loop.run_in_executor(None, parent.recv), 180)
            _, pid, web_port, cookies = ready
            base = f"http://127.0.0.1:{web_port}"
            desks = Desks(base, cookies)
            names = list(cookies)[: args.desks]
            for username in names:
                await desks.open(username)
            churn_rng = random.Random(5)

            async def churn() -> None:
                assert desks is not None
                while True:
                    await asyncio.sleep(1.0)
                    for _ in range(args.desk_churn):
                        await desks.reopen(churn_rng.choice(names))

            callers = DemoCallers()
            call_rng = random.Random(99)

            def bare_script(n: int) -> Any:
                return CallerScript(number=f"+4860{n % 10_000_000:07d}", patience=600)

            def ivr_script(n: int) -> Any:
                return callers.script(n, call_rng)

            # Warm-up, not measured: first menu load, first SQL statements, first offers.
            pbx.set_agi_urls(f"agi://127.0.0.1:{agi_port}/ivr")
            print(f"controller ready; {len(names)} desks open; warming up", flush=True)
            await _phase("warm-up", pbx, ivr_script, 200, args.rate, 100, parent, pid, None)
            pbx.set_agi_urls(f"agi://127.0.0.1:{agi_port}/bare")
            start_bare = await _ask(parent, "baseline")
            start_bare["rss_mb"] = round(_proc_status(pid) / 2**20, 2)
            bare = await _phase(
                "bare", pbx, bare_script, bare_calls, args.rate, args.every, parent, pid, None
            )
            pbx.set_agi_urls(f"agi://127.0.0.1:{agi_port}/ivr")
            start_ivr = await _ask(parent, "baseline")
            start_ivr["rss_mb"] = round(_proc_status(pid) / 2**20, 2)
            ivr = await _phase(
                "ivr", pbx, ivr_script, args.calls, args.rate, args.every, parent, pid, churn
            )
            await _ask(parent, "stop")
        finally:
            if desks is not None:
                await desks.close()
            await stop_controller(parent, process, pbx)

    g_bare, g_ivr = _growth_per_10k(bare, start_bare), _growth_per_10k(ivr, start_ivr)
    rows = [
        (
            "phase",
            "calls",
            "RSS MB/10k calls",
            "2nd half",
            "traced MB/10k",
            "fds",
            "tasks",
            "Redis keys",
        )
    ]
    for name, phase, g in (("bare FastAGI", bare, g_bare), ("IVR + queue + desks", ivr, g_ivr)):
        rows.append(
            (
                name,
                f"{phase['calls']:,}",
                f"{g['rss_mb_per_10k']:+.2f}",
                f"{g['rss_mb_per_10k_second_half']:+.2f}",
                f"{g['tracemalloc_mb_per_10k']:+.2f}",
                "→".join(map(str, g["descriptors_first_last"])),
                "→".join(map(str, g["tasks_first_last"])),
                "→".join(map(str, g["redis_keys_first_last"])),
            )
        )
    print(table(rows))
    print("IVR outcomes:", ivr["outcomes"])
    if desks is not None:
        print(f"desk pops: {desks.pops}, reconnects: {desks.reconnects}, refused: {desks.refused}")
    last = ivr["samples"][-1]
    print("Redis keys without TTL:", last["redis"]["without_ttl_shapes"])
    print("containers that grew:", _growing_containers(ivr))
    for item in last.get("tracemalloc_top_growth", [])[:6]:
        print(f"  {item['kb']:+.1f} KB ({item['count']:+d}) {item['where']}")
    params = {
        "calls": args.calls,
        "bare_calls": bare_calls,
        "rate": args.rate,
        "every": args.every,
        "speed": speed,
        "agents": agents,
        "desk_churn_per_s": args.desk_churn,
        "tracemalloc_frames": args.tracemalloc,
    }
    results = {
        "growth_bare": g_bare,
        "growth_ivr": g_ivr,
        "ratio_ivr_to_bare_rss_per_10k": round(
            g_ivr["rss_mb_per_10k"] / g_bare["rss_mb_per_10k"], 2
        )
        if g_bare["rss_mb_per_10k"]
        else None,
        "containers_grown": _growing_containers(ivr),
        "desk_pops": desks.pops if desks else 0,
        "desk_reconnects": desks.reconnects if desks else 0,
        "desks_refused": desks.refused if desks else [],
        "phases": [bare, ivr],
    }
    print("written", save("soak", info, params, results))


if __name__ == "__main__":
    asyncio.run(main())
