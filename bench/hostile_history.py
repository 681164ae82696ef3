"""Hostile FastAGI environments into a real PostgreSQL: every call keeps its arrival row.

Each call is a FastAGI connection to the real server and IVR route (the shipped menu, keys
1-5-2 to a queue, the dialplan's queue as gateway) whose `agi_*` values are drawn to hurt: display
names, channels, DNIDs, uniqueids and languages of 0 to 2,000 characters, NUL and other control
characters, U+FFFD (what the server makes of bytes that are not UTF-8). The call-history writer (`QueueRecorder`, batched, with its
poison rule, as `kck serve` runs it) writes them to a throwaway PostgreSQL. After a run of
`--calls` calls, `--poison` events the writer can never write are published among them. Reports
calls served, rows written, rows with their arrival data, events set aside, events still pending.

    uv run python bench/hostile_history.py [--calls 500] [--poison 5] [--seed 18]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from record import machine, save, table  # noqa: E402

NASTY = ["\x00", "\x01", "\x07", "\x1b", "\x7f", "\ufffd", "Ż", "'", '"', "\\", "%", "🙂"]


def _value(rng: random.Random) -> str:
    length = rng.choice([0, 1, 8, 33, 65, 129, 201, 500, 2000])
    return "".join(
        rng.choice(NASTY) if rng.random() < 0.1 else rng.choice("ab1.-") for _ in range(length)
    )


def hostile_environment(rng: random.Random, n: int) -> str:
    fields = {
        "channel": f"PJSIP/{_value(rng)}",
        "language": rng.choice(["pl", "en", _value(rng)]),
        "uniqueid": rng.choice([f"1795527000.{n}", _value(rng)]),
        "callerid": rng.choice(["+48600123456", _value(rng), "unknown"]),
        "calleridname": _value(rng),
        "dnid": rng.choice(["126165555", _value(rng)]),
    }
    lines = [
        "agi_network: yes",
        "agi_network_script: ivr",
        "agi_request: agi://127.0.0.1/ivr",
    ]
    lines += [f"agi_{k}: {v}".replace("\n", " ") for k, v in fields.items()]
    lines += ["agi_context: kck-inbound", "agi_extension: 126165555", "agi_priority: 4"]
    return "\n".join(lines) + "\n\n"


async def run(url: str, calls: int, poison: int, seed: int, folder: Path) -> dict[str, Any]:
    from ivr_sessions import ivr_under_test
    from sqlalchemy import func, select

    from asterisk.agi import FastAGIServer
    from ivr.agi_route import CALL_ID_VARIABLE
    from kck.call_events import CALL_ARRIVED, CALLS_STREAM
    from kck.db import Call
    from queues.recorder import QueueRecorder
    from tests.asterisk.agi_caller import AsteriskSideCall

    rng = random.Random(seed)
    async with ivr_under_test(folder, url) as (route, _unrecorded, drain, _rows, bus, sessions):
        server = FastAGIServer(host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"])
        server.add_route("ivr", route)
        await server.start()
        served = fell_back = 0
        try:
            for n in range(calls):
                call = AsteriskSideCall(server.port, keys=["1", "5", "2"])
                call.environment = hostile_environment(rng, n)
                await call.run()
                served += CALL_ID_VARIABLE in call.variables
                fell_back += call.dialplan_falls_back
                if poison and n % max(1, calls // poison) == 0:
                    await bus.publish(CALLS_STREAM, CALL_ARRIVED, {"call_id": f"poison-{n}"})
        finally:
            await server.stop()
        await drain()
        backlog = await bus.backlog(CALLS_STREAM, QueueRecorder.GROUP)
        for _ in range(100):  # the last batch is acknowledged just after its commit
            if backlog is None or not backlog.pending:
                break
            await asyncio.sleep(0.05)
            backlog = await bus.backlog(CALLS_STREAM, QueueRecorder.GROUP)
        async with sessions() as session:
            rows = await session.scalar(select(func.count()).select_from(Call))
            arrived = await session.scalar(
                select(func.count()).select_from(Call).where(Call.menu_version.is_not(None))
            )
        return {
            "calls": calls,
            "served_by_the_ivr": served,
            "dialplan_fallback": fell_back,
            "rows": rows,
            "rows_with_arrival_data": arrived,
            "poison_published": min(poison, calls),
            "set_aside": await bus.set_aside_count(CALLS_STREAM),
            "pending_after": backlog.pending if backlog else None,
        }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--poison", type=int, default=5)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    from tests.services import start_postgres

    info = machine()
    server = start_postgres()
    try:
        with tempfile.TemporaryDirectory(prefix="kck-bench-history-") as tmp:
            results = asyncio.run(
                run(server.url("postgres"), args.calls, args.poison, args.seed, Path(tmp))
            )
    finally:
        server.stop()
    print(table([("measure", "value"), *((k, str(v)) for k, v in results.items())]))
    path = save("hostile_history", info, vars(args), results)
    print(f"written: {path.relative_to(ROOT)}")
    lost = results["calls"] - results["rows_with_arrival_data"]
    return 1 if lost or results["pending_after"] else 0


if __name__ == "__main__":
    sys.exit(main())
