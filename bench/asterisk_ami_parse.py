"""AMI parsing throughput: our framing + typed events against panoramisk 1.4's per-read parsing,
on the captured Asterisk 22 stream (ami-session-queue-flow), measured in the same run.

Usage: uv run python bench/asterisk_ami_parse.py [--rounds 30] [--chunk 4096]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from asterisk.ami import AMIFrameReader, AMIMessage, parse_event

# the real Asterisk 22.10.1 transcripts kept in the repository (their README says how captured)
FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "asterisk"


def captured_stream() -> bytes:
    path = FIXTURES / "ami-session-queue-flow.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="ascii").splitlines()]
    return b"".join(r["data"].encode("latin-1") for r in records if r["dir"] == "in")


def ours(chunks: list[bytes]) -> int:
    reader = AMIFrameReader()
    count = 0
    for chunk in chunks:
        for frame in reader.feed(chunk):
            if isinstance(frame, AMIMessage):
                if frame.get("Event") is not None:
                    parse_event(frame)
                count += 1
    return count


def panoramisk_baseline(chunks: list[bytes]) -> int:
    from panoramisk.message import Message

    pending = ""
    count = 0
    for chunk in chunks:
        # What panoramisk's AMIProtocol.data_received does: decode each read on its own.
        data = pending + chunk.decode("utf-8", "ignore")
        parts = data.split("\r\n\r\n")
        pending = parts.pop(-1)
        for part in parts:
            if Message.from_line(part.strip()) is not None:
                count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--chunk", type=int, default=4096)
    args = parser.parse_args()
    data = captured_stream()
    chunks = [data[i : i + args.chunk] for i in range(0, len(data), args.chunk)]
    timings = {}
    for name, parse in (("panoramisk", panoramisk_baseline), ("kck", ours)):
        start = time.perf_counter()
        frames = 0
        for _ in range(args.rounds):
            frames += parse(chunks)
        timings[name] = (time.perf_counter() - start, frames)
    for name, (elapsed, frames) in timings.items():
        print(f"{name:10s}: {frames / elapsed:9.0f} messages/s ({frames} messages)")
    base = timings["panoramisk"][0] / timings["panoramisk"][1]
    mine = timings["kck"][0] / timings["kck"][1]
    print(f"time per message, kck/panoramisk: {mine / base:.2f}")


if __name__ == "__main__":
    main()
