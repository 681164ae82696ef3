"""PostgreSQL unavailable while calls flow: calls answered, events wait, the writer catches up.

A steady stream of calls (`--rate` a second) goes through the real FastAGI server and IVR route
(shipped menu, keys 1-5-2 to a queue) while the call-history writer (`QueueRecorder`, batched,
with its poison rule, as `kck serve` runs it) writes them to a throwaway PostgreSQL. After
`--before-s` seconds the database is shut down (`pg_ctl stop -m fast`) for `--outage-s` seconds,
then started again on the same port; calls keep coming for `--after-s` seconds more. The writer's
backlog is read every 0.5 s as `/metrics` reads it (`EventBus.backlog`). Reports calls answered
during the outage and how long a call took then, the backlog's peak, the time from the database's
return until the writer is caught up (its oldest waiting event under a second old), and rows lost.

    uv run python bench/pg_outage.py [--outage-s 60] [--rate 5] [--before-s 5] [--after-s 10]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from record import distribution, machine, save, table  # noqa: E402

CAUGHT_UP_AGE_S = 1.0  # the writer normally lags ~50 ms (its linger)
CATCH_UP_LIMIT_S = 180.0


async def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from ivr_sessions import ivr_under_test
    from sqlalchemy import func, select

    from asterisk.agi import FastAGIServer
    from ivr.agi_route import CALL_ID_VARIABLE
    from kck.call_events import CALLS_STREAM
    from kck.db import Call
    from queues.recorder import QueueRecorder
    from tests.asterisk.agi_caller import AsteriskSideCall
    from tests.services import start_postgres

    database = await asyncio.to_thread(start_postgres)
    try:
        async with ivr_under_test(folder, database.url()) as (route, _u, _d, _r, bus, sessions):
            server = FastAGIServer(host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"])
            server.add_route("ivr", route)
            await server.start()
            phase = {"name": "before"}
            served: dict[str, list[float]] = {"before": [], "outage": [], "after": []}
            failed = {"before": 0, "outage": 0, "after": 0}
            call_ids: set[str] = set()
            backlog_peak = {"events": 0, "oldest_age_s": 0.0}

            async def calls() -> None:
                n = 0
                loop = asyncio.get_running_loop()
                start = loop.time()
                while True:
                    n += 1
                    call = AsteriskSideCall(
                        server.port, uniqueid=f"1795527000.{n}", keys=["1", "5", "2"]
                    )
                    began = time.perf_counter()
                    async with asyncio.timeout(30):
                        await call.run()
                    name = phase["name"]
                    if CALL_ID_VARIABLE in call.variables and not call.dialplan_falls_back:
                        served[name].append(time.perf_counter() - began)
                        call_ids.add(call.variables[CALL_ID_VARIABLE].strip('"'))
                    else:
                        failed[name] += 1
                    await asyncio.sleep(max(0.0, start + n / args.rate - loop.time()))  # pacing

            async def backlog() -> tuple[int, float]:
                found = await bus.backlog(CALLS_STREAM, QueueRecorder.GROUP)
                if found is None:
                    return 0, 0.0
                return found.pending + found.unread_events, found.oldest_age_s

            async def sample() -> None:
                while True:
                    events, age = await backlog()
                    backlog_peak["events"] = max(backlog_peak["events"], events)
                    backlog_peak["oldest_age_s"] = max(backlog_peak["oldest_age_s"], age)
                    await asyncio.sleep(0.5)  # sampling interval

            producer = asyncio.create_task(calls())
            sampler = asyncio.create_task(sample())
            try:
                await asyncio.sleep(args.before_s)  # the phases are timed by design
                await asyncio.to_thread(database.shut_down)
                phase["name"] = "outage"
                await asyncio.sleep(args.outage_s)
                events_at_return, _age = await backlog()
                await asyncio.to_thread(database.start_again)
                returned = time.monotonic()
                phase["name"] = "after"
                caught_up_s: float | None = None
                async with asyncio.timeout(CATCH_UP_LIMIT_S):
                    while caught_up_s is None:
                        _events, age = await backlog()
                        if age < CAUGHT_UP_AGE_S:
                            caught_up_s = time.monotonic() - returned
                        else:
                            await asyncio.sleep(0.1)
                await asyncio.sleep(max(0.0, args.after_s - (time.monotonic() - returned)))
            finally:
                producer.cancel()
                await asyncio.gather(producer, return_exceptions=True)
            async with asyncio.timeout(CATCH_UP_LIMIT_S):
                while (await backlog())[0]:  # noqa: ASYNC110 (a value in Redis, polled)
                    await asyncio.sleep(0.1)
            sampler.cancel()
            await asyncio.gather(sampler, return_exceptions=True)
            await server.stop()
            async with sessions() as session:
                rows = await session.scalars(select(Call.id).where(Call.arrived_at.is_not(None)))
                written = set(rows.all())
                total = await session.scalar(select(func.count()).select_from(Call))
            set_aside = await bus.set_aside_count(CALLS_STREAM)
    finally:
        await asyncio.to_thread(database.stop)
    return {
        "outage_s": args.outage_s,
        "calls_answered_before": len(served["before"]),
        "calls_answered_during_outage": len(served["outage"]),
        "calls_answered_after": len(served["after"]),
        "calls_failed": sum(failed.values()),
        "call_ms_before": distribution(served["before"]),
        "call_ms_during_outage": distribution(served["outage"]),
        "events_waiting_at_return": events_at_return,
        "backlog_peak_events": backlog_peak["events"],
        "backlog_peak_oldest_age_s": round(backlog_peak["oldest_age_s"], 1),
        "caught_up_after_return_s": round(caught_up_s, 2),
        "calls_answered": len(call_ids),
        "call_rows": total,
        "rows_lost": len(call_ids - written),
        "set_aside": set_aside,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--outage-s", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=5.0, help="calls a second")
    parser.add_argument("--before-s", type=float, default=5.0)
    parser.add_argument("--after-s", type=float, default=10.0)
    args = parser.parse_args()
    info = machine()
    with tempfile.TemporaryDirectory(prefix="kck-bench-pg-outage-") as tmp:
        results = asyncio.run(run(args, Path(tmp)))
    print(table([("measure", "value"), *((k, str(v)) for k, v in results.items())]))
    path = save("pg_outage", info, vars(args), results)
    print(f"written: {path.relative_to(ROOT)}")
    return 1 if results["rows_lost"] or results["calls_failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
