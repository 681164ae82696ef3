"""Screen-pop latency in a real browser: router offer → pop painted on the agent's desk.

Starts a private redis-server and a SQLite database with the shipped KB, the desk app and the
real router, signs an agent in through Debian's headless Chromium, then N times: the IVR's
routing request is enqueued, the router offers the call, the desk builds the pop (history, KB
suggestions, form) and pushes it; the page records when it painted it. Baseline in the same run
and the same browser: a WebSocket echo round trip over the desk's own socket.
Writes bench/results/desk_pop_latency.json (ratios and raw samples).

    uv run python bench/desk_pop_latency.py [--offers 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis.asyncio as aioredis  # noqa: E402

from agentdesk.app import DeskParts, create_app  # noqa: E402
from agentdesk.kb_adapter import KbKnowledge  # noqa: E402
from agentdesk.router_backend import RouterDeskBackend  # noqa: E402
from agentdesk.tickets.units import load_units  # noqa: E402
from kb import KnowledgeBase, import_folder, load_polish_analyzer  # noqa: E402
from kck.bus import EventBus  # noqa: E402
from kck.config_files import SHIPPED_CONFIG  # noqa: E402
from kck.db import create_engine, session_factory, upgrade  # noqa: E402
from kck.db.models import Call  # noqa: E402
from kck.services import Services  # noqa: E402
from kck.settings import load_settings  # noqa: E402
from queues.model import AgentState, EndCause, RoutingRequest  # noqa: E402
from queues.router import Router  # noqa: E402
from tests.agentdesk.browser import DESK_VIEWPORT, chromium, serve  # noqa: E402
from tests.agentdesk.conftest import PASSWORD, routing_config, routing_request  # noqa: E402
from tests.services import start_redis  # noqa: E402


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50": percentile(samples, 50),
        "p99": percentile(samples, 99),
        "mean": statistics.mean(samples),
    }


class Result(TypedDict):
    """bench/results/desk_pop_latency.json."""

    what: str
    offers: int
    pop_ms: dict[str, float]
    echo_ms: dict[str, float]
    machine: dict[str, str]
    samples: dict[str, list[float]]
    ratio: dict[str, float]  # pop over echo, at p50 and p99


async def run(offers: int, folder: Path) -> Result:
    redis_server = start_redis()
    engine = create_engine(f"sqlite+aiosqlite:///{folder}/kck.db")
    redis = aioredis.from_url(redis_server.url)
    try:
        await upgrade(engine)
        kb = KnowledgeBase(engine, await load_polish_analyzer())
        await import_folder(kb, ROOT / "config" / "kb", author="bench")
        settings = load_settings(
            ROOT / "tests" / "data" / "settings-empty.yaml",
            environ={},
            overrides={"base_dir": folder, "paths": {"var": str(folder / "var")}},
        )
        services = Services(
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            redis=redis,
            bus=EventBus(redis, settings.redis.key_prefix),
        )
        router = Router(redis, routing_config(), prefix=settings.redis.key_prefix, tz=settings.tz)
        app = create_app(
            services,
            lambda: {"mode": "bench", "parts": {}},
            DeskParts(
                RouterDeskBackend(router, services.clock),
                KbKnowledge(kb),
                load_units(SHIPPED_CONFIG / "units.yaml"),
            ),
        )
        from agentdesk.accounts import Accounts
        from kck.db.models import Role

        await Accounts(services.sessions).add("anowak", PASSWORD, Role.AGENT, extension="101")
        runner, port = await serve(app)
        url = f"http://127.0.0.1:{port}"
        try:
            async with chromium() as browser:
                page = await browser.new_page(viewport=DESK_VIEWPORT)
                await page.goto(f"{url}/login")
                await page.fill("#username", "anowak")
                await page.fill("#password", PASSWORD)
                await page.fill("#extension", "101")
                await page.press("#extension", "Enter")
                await page.wait_for_selector("#conn[data-up='1']")
                pops: list[float] = []
                echoes: list[float] = []
                for n in range(offers):
                    await router.set_agent_state("anowak", AgentState.AVAILABLE)
                    call_id = uuid.uuid4().hex
                    caller = f"+48600{n % 1000:06d}"[:12]
                    async with services.sessions.begin() as db:
                        db.add(Call(id=call_id, uniqueid=f"b.{n}", caller_number=caller))
                    data = {**routing_request(call_id, caller), "skills": {"greenery": 1}}
                    data["arrived_at"] = datetime.now(UTC).isoformat()
                    started = time.time() * 1000
                    offer = await router.enqueue(RoutingRequest.from_dict(data))
                    assert offer is not None
                    shown = await page.wait_for_function(
                        "id => window.__kck.popShown[id]", arg=offer.offer_id, polling=5
                    )
                    pops.append(float(await shown.json_value()) - started)
                    echoes.append(float(await page.evaluate("window.__kck.echo()")))
                    await router.offer_answered(offer.offer_id)
                    await router.call_ended(call_id, EndCause.COMPLETED)
        finally:
            await runner.cleanup()
    finally:
        await redis.aclose()
        await engine.dispose()
        redis_server.stop()
    pop_ms, echo_ms = summary(pops), summary(echoes)
    return Result(
        what="router offer → screen-pop painted in Chromium (ms); baseline: WebSocket echo round trip on the desk socket (ms)",
        offers=offers,
        pop_ms=pop_ms,
        echo_ms=echo_ms,
        machine={
            "python": platform.python_version(),
            "cpu": platform.processor() or platform.machine(),
        },
        samples={"pop_ms": pops, "echo_ms": echoes},
        ratio={k: pop_ms[k] / max(echo_ms[k], 1e-6) for k in ("p50", "p99")},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        result = asyncio.run(run(args.offers, Path(folder)))
    out = ROOT / "bench" / "results" / "desk_pop_latency.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    pop, echo, ratio = result["pop_ms"], result["echo_ms"], result["ratio"]
    print(
        f"pop p50 {pop['p50']:.1f} ms p99 {pop['p99']:.1f} ms; echo p50 {echo['p50']:.2f} ms "
        f"p99 {echo['p99']:.2f} ms; ratio p50 {ratio['p50']:.1f} p99 {ratio['p99']:.1f}"
    )


if __name__ == "__main__":
    main()
