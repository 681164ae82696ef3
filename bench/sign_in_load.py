"""Does signing in stall the event loop? /health latency alone, then while 4 sign-in loops run.

Two processes: the web application (private redis-server, SQLite, 4 supervisor accounts) in a
child, the probe and the sign-in loops in this one. 200 sequential GET /health first with nothing
else running (the baseline of the same run), then again while 4 clients sign in over and over
with the right password (argon2 verify each time). Prints median, p95 and max of each.

    uv run python bench/sign_in_load.py
"""

from __future__ import annotations

import asyncio
import re
import statistics
import sys
import tempfile
import time
from asyncio.subprocess import PIPE
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-1"
LOOPS = 4
PROBES = 200


async def serve() -> None:
    """The child: the web application alone; prints its port, serves until killed."""
    import redis.asyncio as aioredis
    from aiohttp import web

    from agentdesk.accounts import Accounts
    from agentdesk.app import create_app
    from kck.bus import EventBus
    from kck.db import create_engine, session_factory, upgrade
    from kck.db.models import Role
    from kck.health import fixed_health
    from kck.services import Services
    from kck.settings import load_settings
    from tests.services import start_redis

    folder = Path(tempfile.mkdtemp(prefix="kck-sign-in-load-"))
    redis_server = start_redis()
    try:
        settings = load_settings(
            ROOT / "tests" / "data" / "settings-empty.yaml",
            environ={},
            overrides={"base_dir": folder, "paths": {"var": str(folder / "var")}},
        )
        engine = create_engine(f"sqlite+aiosqlite:///{folder}/kck.db")
        await upgrade(engine)
        redis = aioredis.from_url(redis_server.url)
        services = Services(
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            redis=redis,
            bus=EventBus(redis, prefix="bench"),
        )
        for n in range(LOOPS):
            await Accounts(services.sessions).add(f"sup{n}", PASSWORD, Role.SUPERVISOR)
        app = create_app(services, fixed_health({"mode": "bench", "parts": {"web": {"up": True}}}))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(site._server.sockets[0].getsockname()[1], flush=True)  # type: ignore[union-attr]
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # parent gone
    finally:
        redis_server.stop()


async def sign_in_loop(url: str, n: int, stop: asyncio.Event) -> int:
    done = 0
    while not stop.is_set():
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(f"{url}/login") as page:
                found = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
                assert found is not None
            form = {"username": f"sup{n}", "password": PASSWORD, "csrf_token": found.group(1)}
            async with http.post(f"{url}/login", data=form, allow_redirects=False) as signed_in:
                assert signed_in.status == 302, signed_in.status
        done += 1
    return done


async def probe(url: str) -> list[float]:
    took = []
    async with aiohttp.ClientSession() as http:
        for _ in range(PROBES):
            start = time.perf_counter()
            async with http.get(f"{url}/health") as response:
                await response.read()
            took.append((time.perf_counter() - start) * 1000)
    return sorted(took)


def summary(name: str, took: list[float], seconds: float) -> str:
    p95 = took[int(len(took) * 0.95)]
    return (
        f"{name}: median {statistics.median(took):.1f} ms, p95 {p95:.1f} ms, "
        f"max {took[-1]:.1f} ms ({seconds:.1f} s)"
    )


async def measure() -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "serve", stdin=PIPE, stdout=PIPE
    )
    try:
        assert child.stdout is not None
        port = (await child.stdout.readline()).decode().strip()
        assert port.isdigit(), "the application did not start (see its error above)"
        url = f"http://127.0.0.1:{port}"
        start = time.perf_counter()
        print(summary("/health alone", await probe(url), time.perf_counter() - start))
        stop = asyncio.Event()
        loops = [asyncio.create_task(sign_in_loop(url, n, stop)) for n in range(LOOPS)]
        start = time.perf_counter()
        took = await probe(url)
        seconds = time.perf_counter() - start
        stop.set()
        signed_in = sum(await asyncio.gather(*loops))
        print(summary(f"/health during {LOOPS} sign-in loops", took, seconds))
        print(f"sign-ins: {signed_in} in {seconds:.1f} s")
    finally:
        assert child.stdin is not None
        child.stdin.close()  # the child's stdin ends: it stops its redis-server and exits
        await asyncio.wait_for(child.wait(), 30)


if __name__ == "__main__":
    asyncio.run(serve() if sys.argv[1:] == ["serve"] else measure())
