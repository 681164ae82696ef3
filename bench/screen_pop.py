"""Screen-pop: router offer → `pop` frame received by the agent's desk, 200 desks connected.

The real controller (`kck.runtime.Runtime`: router, web app with the desk socket, one private
Redis, SQLite) runs in this process with the AMI client off. 200 agents from a generated
agents.yaml are users in the database, signed in (desk sessions made directly in the session
store, as the login page does) and logged in to the router; each desk opens `/desk/ws` with its
session cookie and says `ready`. A call is then enqueued (`Router.enqueue`, what the IVR calls);
the Lua match publishes the offer and the chosen agent's socket sends the `pop` frame (with the
caller's history and KB suggestions). Measured: enqueue start → pop frame read by the client,
one call at a time and as a burst of one call per agent; baseline in the same run: a WebSocket
echo round trip (client → aiohttp server → client) through the same client sessions.
Usage: uv run python bench/screen_pop.py [--desks 200] [--rounds 400]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp
from aiohttp import web
from day import _prepare_config
from record import distribution, machine, save, table

if TYPE_CHECKING:
    from queues.model import RoutingRequest


class Desk:
    """One agent's browser: the desk socket, and when each call's pop arrived."""

    def __init__(self, username: str) -> None:
        self.username = username
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.task: asyncio.Task[None] | None = None

    async def listen(self, arrived: dict[str, float], waiters: dict[str, asyncio.Event]) -> None:
        assert self.ws is not None
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            body = json.loads(message.data)
            if body.get("type") == "pop":
                call_id = body["data"]["call_id"]
                arrived[call_id] = time.perf_counter()
                event = waiters.get(call_id)
                if event is not None:
                    event.set()


def _request(n: int) -> RoutingRequest:
    from queues.model import RoutingRequest

    return RoutingRequest(
        call_id=uuid.uuid4().hex,
        uniqueid=f"1795526838.{n}",
        channel=f"PJSIP/sipp-{n:08x}",
        caller=f"+4860{n:07d}",
        language="pl",
        queue="citizens_affairs",
        skills={"id_cards": 3},
        priority=0,
        arrived_at="2026-11-24T09:00:00+00:00",
        ivr_path_text="Polski → Dowody osobiste",
        kb_topic="id-card",
    )


async def add_desk_users(services: Any, usernames: list[str]) -> dict[str, int]:
    """Agents as desk users (extension 7000 + n, one password): username → user id."""
    from sqlalchemy import select

    from agentdesk.accounts import hash_password
    from kck.db import User

    password_hash = hash_password("bench-password-1")
    async with services.sessions.begin() as db:
        db.add_all(
            User(
                username=u,
                display_name=u,
                password_hash=password_hash,
                role="agent",
                extension=str(7000 + n),
                language="pl",
                active=True,
            )
            for n, u in enumerate(usernames)
        )
    async with services.sessions() as db:
        return dict((await db.execute(select(User.username, User.id))).all())


async def _echo_baseline(desks: int, rounds: int) -> list[float]:
    """WebSocket echo round trips through an aiohttp server in this process, `desks` sockets."""

    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            await ws.send_str(message.data)
        return ws

    app = web.Application()
    app.router.add_get("/echo", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    samples: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        sockets = [await http.ws_connect(f"http://127.0.0.1:{port}/echo") for _ in range(desks)]
        for n in range(rounds):
            ws = sockets[n % desks]
            t0 = time.perf_counter()
            await ws.send_str('{"type":"ping"}')
            await ws.receive()
            samples.append(time.perf_counter() - t0)
        for ws in sockets:
            await ws.close()
    await runner.cleanup()
    return samples


async def redis_counts(redis: Any) -> dict[str, int]:
    """Commands run so far by name, and connections accepted, as Redis counts them."""
    stats: Any = await redis.info("commandstats")
    counts = {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}
    server: Any = await redis.info("stats")
    counts["__connections__"] = int(server["total_connections_received"])
    return counts


def redis_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, Any]:
    # the two INFO calls themselves are not counted
    delta = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
    delta["info"] = delta.get("info", 0) - 2
    connections = delta.pop("__connections__", 0)
    by_command = dict(sorted(((k, v) for k, v in delta.items() if v > 0), key=lambda kv: -kv[1]))
    return {
        "commands": sum(by_command.values()),
        "connections": connections,
        "by_command": by_command,
    }


async def main() -> None:
    import logging

    logging.disable(logging.WARNING)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--desks", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument(
        "--profile", type=Path, help="write cProfile stats of the burst (the whole process) here"
    )
    args = parser.parse_args()
    info = machine()

    from agentdesk.sessions import COOKIE_NAME, SessionStore
    from kck.runtime import Runtime
    from kck.settings import load_settings
    from queues.model import EndCause

    with tempfile.TemporaryDirectory(prefix="kck-bench-pop-") as tmp:
        folder = Path(tmp)
        config = await asyncio.to_thread(_prepare_config, folder, args.desks)
        var = folder / "var"
        settings = load_settings(
            environ={},
            overrides={
                "database": {"url": f"sqlite+aiosqlite:///{folder / 'kck.db'}"},
                "ami": {"enabled": False},
                "agi": {"host": "127.0.0.1", "port": 0},
                "http": {"host": "127.0.0.1", "port": 0},
                "paths": {
                    "var": str(var),
                    "config": str(config),
                    "menus": str(config / "menus"),
                    "sounds": str(var / "sounds"),
                    "recordings": str(var / "recordings"),
                },
                "log": {"level": "ERROR"},
            },
        )
        runtime = Runtime(settings, migrate=True)
        services = await runtime.start()
        try:
            assert runtime.controller is not None
            router = runtime.controller.router.router
            port = runtime.controller.web.port
            usernames = [f"bench{n:04d}" for n in range(args.desks)]
            ids = await add_desk_users(services, usernames)
            store = SessionStore(services.redis, settings.redis.key_prefix)
            from agentdesk.sessions import Role

            desks = [Desk(u) for u in usernames]
            arrived: dict[str, float] = {}
            waiters: dict[str, asyncio.Event] = {}
            # no connection limit: aiohttp keeps 100 by default and each desk holds one
            http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
            base = f"http://127.0.0.1:{port}"
            for n, desk in enumerate(desks):
                session = await store.create(
                    user_id=ids[desk.username],
                    username=desk.username,
                    display_name=desk.username,
                    role=Role.AGENT,
                    extension=str(7000 + n),
                )
                await router.agent_login(desk.username)
                desk.ws = await http.ws_connect(
                    f"{base}/desk/ws",
                    headers={"Origin": base, "Cookie": f"{COOKIE_NAME}={session.id}"},
                )
                await desk.ws.send_json({"type": "ready"})
                desk.task = asyncio.create_task(desk.listen(arrived, waiters))
            await asyncio.sleep(1.0)
            # the pub/sub connections this process holds with every desk open
            pubsub_connections = len(await services.redis.client_list(_type="pubsub"))
            print(
                f"{len(desks)} desks connected; {pubsub_connections} pub/sub connections",
                file=sys.stderr,
                flush=True,
            )

            async def offer_one(n: int) -> tuple[float, float] | None:
                request = _request(n)
                waiters[request.call_id] = event = asyncio.Event()
                t0 = time.perf_counter()
                offer = await router.enqueue(request)
                t1 = time.perf_counter()
                if offer is None:
                    return None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), 10)
                got = arrived.get(request.call_id)
                await router.call_ended(request.call_id, EndCause.CALLER_HANGUP)
                if got is None:
                    return None
                return got - t0, got - t1

            async def restore() -> None:
                from queues.model import AgentState

                for u in usernames:
                    status = await router.agent_status(u)
                    if status is not None and status.state != AgentState.AVAILABLE:
                        with contextlib.suppress(Exception):
                            await router.set_agent_state(u, AgentState.AVAILABLE)

            for n in range(20):  # warm-up: first queries, templates, KB
                await offer_one(-1 - n)
            await restore()
            print("warmed up", file=sys.stderr, flush=True)
            sequential: list[tuple[float, float]] = []
            missing = 0
            for n in range(args.rounds):
                got = await offer_one(n)
                if got is None:
                    missing += 1
                    await restore()
                else:
                    sequential.append(got)
            await restore()
            profiler = cProfile.Profile() if args.profile else None
            redis_before = await redis_counts(services.redis)
            if profiler is not None:
                profiler.enable()
            # this process's CPU during the burst (the loop, the SQLite thread, the desks'
            # clients): steadier than the burst's wall-clock times on a busy machine
            cpu_before = time.process_time()
            burst = await asyncio.gather(*(offer_one(100_000 + n) for n in range(args.desks)))
            burst_cpu_ms = (time.process_time() - cpu_before) * 1000
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(args.profile)
            redis_burst = redis_delta(redis_before, await redis_counts(services.redis))
            burst_ok = [b for b in burst if b is not None]
            missing_burst = len(burst) - len(burst_ok)
            for desk in desks:
                if desk.ws is not None:
                    await desk.ws.close()
            await http.close()
        finally:
            await runtime.stop()
    echo = await _echo_baseline(args.desks, args.rounds)

    one, one_from_offer = [s[0] for s in sequential], [s[1] for s in sequential]
    many = [b[0] for b in burst_ok]
    e = distribution(echo)
    measured = {
        "pop_one_at_a_time": distribution(one),
        "pop_one_at_a_time_from_offer_made": distribution(one_from_offer),
        "pop_burst_of_one_call_per_desk": distribution(many),
        "echo_round_trip": e,
    }
    results = {
        **measured,
        "pops_missing": missing,
        "pubsub_connections_with_desks_open": pubsub_connections,
        "process_cpu_ms_during_burst": round(burst_cpu_ms, 1),
        # during the burst, as Redis counts them: commands by name, connections accepted
        "redis_during_burst": redis_burst,
        "pops_missing_burst": missing_burst,
        "ratio_p50_pop_vs_echo": round(distribution(one)["p50_ms"] / e["p50_ms"], 1),
        "ratio_p99_pop_vs_echo": round(distribution(one)["p99_ms"] / e["p99_ms"], 1),
    }
    rows = [("measure", "n", "p50 ms", "p99 ms", "max ms")]
    for name in (
        "pop_one_at_a_time",
        "pop_one_at_a_time_from_offer_made",
        "pop_burst_of_one_call_per_desk",
        "echo_round_trip",
    ):
        d = measured[name]
        rows.append(
            (name, str(d["n"]), f"{d['p50_ms']:.2f}", f"{d['p99_ms']:.2f}", f"{d['max_ms']:.2f}")
        )
    print(
        f"Redis during the burst: {redis_burst['commands']} commands "
        f"({redis_burst['commands'] / max(1, args.desks):.1f} per call), "
        f"{redis_burst['connections']} connections opened; "
        + ", ".join(f"{k} {v}" for k, v in list(redis_burst["by_command"].items())[:12])
    )
    print(
        f"{args.desks} desks connected ({pubsub_connections} pub/sub connections); "
        f"pops missing: {missing} (+{missing_burst} in the burst); "
        f"process CPU during the burst {burst_cpu_ms:.0f} ms"
    )
    print(table(rows))
    print(
        f"pop/echo ratio: p50 {results['ratio_p50_pop_vs_echo']}x, "
        f"p99 {results['ratio_p99_pop_vs_echo']}x"
    )
    params = {"desks": args.desks, "rounds": args.rounds}
    print("written", save("screen_pop", info, params, results))


if __name__ == "__main__":
    asyncio.run(main())
