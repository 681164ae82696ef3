"""FastAGI throughput: our server against panoramisk 1.4's Application, measured in the same run.

A loopback client in a second process plays Asterisk (environment block, replies) for N sessions
of ANSWER, GET DATA, HANGUP at a given concurrency. Prints sessions/s and the ratio ours/baseline.
Usage: uv run python bench/asterisk_fastagi.py [--sessions 2000] [--concurrency 10]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
from typing import Any

ENV = (
    b"agi_network: yes\nagi_network_script: ivr\nagi_request: agi://127.0.0.1/ivr\n"
    b"agi_channel: PJSIP/sipp-00000001\nagi_uniqueid: 1795526838.1\nagi_callerid: 0299990000\n"
    b"agi_context: kck-inbound\nagi_extension: 126165555\nagi_priority: 4\n\n"
)
REPLIES = {
    b"ANSWER": b"200 result=0\n",
    b"GET DATA": b"200 result=1 (timeout)\n",
    b"HANGUP": b"200 result=1\n",
}


async def _one_session(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(ENV)
    while True:
        line = await reader.readline()
        if not line:
            break
        for prefix, reply in REPLIES.items():
            if line.startswith(prefix):
                writer.write(reply)
                break
        else:
            writer.write(b"200 result=1\n")  # KCK_DONE and anything else
    writer.close()


async def _drive(port: int, sessions: int, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def guarded() -> None:
        async with gate:
            await _one_session(port)

    start = time.perf_counter()
    await asyncio.gather(*(guarded() for _ in range(sessions)))
    return time.perf_counter() - start


def _client(port: int, sessions: int, concurrency: int, out: Any) -> None:
    out.put(asyncio.run(_drive(port, sessions, concurrency)))


def _run_client(port: int, sessions: int, concurrency: int) -> float:
    queue: Any = multiprocessing.Queue()
    process = multiprocessing.Process(target=_client, args=(port, sessions, concurrency, queue))
    process.start()
    elapsed: float = queue.get(timeout=300)
    process.join()
    return elapsed


async def bench_ours(sessions: int, concurrency: int) -> tuple[float, float]:
    from asterisk.agi import AGISession, FastAGIServer

    async def route(session: AGISession) -> None:
        await session.answer()
        await session.get_data("beep", 3000, 4)
        await session.hangup()

    server = FastAGIServer(host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"])
    server.add_route("ivr", route)
    await server.start()
    cpu = time.process_time()
    try:
        elapsed = await asyncio.to_thread(_run_client, server.port, sessions, concurrency)
    finally:
        await server.stop()
    return elapsed, time.process_time() - cpu


async def bench_panoramisk(sessions: int, concurrency: int) -> tuple[float, float]:
    from panoramisk import fast_agi

    async def route(request: Any) -> None:
        await request.send_command("ANSWER")
        await request.send_command("GET DATA beep 3000 4")
        await request.send_command("HANGUP")

    app = fast_agi.Application()
    app.add_route("ivr", route)
    server = await asyncio.start_server(app.handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    cpu = time.process_time()
    try:
        elapsed = await asyncio.to_thread(_run_client, port, sessions, concurrency)
    finally:
        server.close()
        await server.wait_closed()
    return elapsed, time.process_time() - cpu


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    base, base_cpu = await bench_panoramisk(args.sessions, args.concurrency)
    ours, ours_cpu = await bench_ours(args.sessions, args.concurrency)
    n = args.sessions
    print(f"sessions={n} concurrency={args.concurrency}")
    print(f"panoramisk 1.4 : {n / base:8.0f} sessions/s, {1000 * base_cpu / n:.3f} ms CPU/session")
    print(f"kck FastAGI    : {n / ours:8.0f} sessions/s, {1000 * ours_cpu / n:.3f} ms CPU/session")
    print(f"ratio kck/panoramisk throughput: {base / ours:.2f}  CPU: {ours_cpu / base_cpu:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
