"""Read the real Asterisk 22 transcripts in tests/fixtures/asterisk for the simulator's tests."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def fixtures_dir() -> Path:
    """tests/fixtures/asterisk: in the repository (its README says what was captured and how)."""
    folder = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk"
    if not (folder / "README.md").exists():
        # The simulator is only as good as its agreement with real Asterisk: never pass without it.
        pytest.fail(f"the real Asterisk transcripts were not found at {folder}")
    return folder


@dataclass(frozen=True)
class AGITranscript:
    name: str
    env: str  # the agi_* block including the blank line
    steps: list[str | tuple[str, float]]  # client commands and idle windows (seconds)
    received: list[str]  # every line Asterisk sent after the env block
    half_close: bool


def load_agi_transcript(path: Path) -> AGITranscript:
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    incoming = "".join(r["data"] for r in records if r["dir"] == "in")
    raw = incoming.encode("latin-1").decode("utf-8")
    env, _, rest = raw.partition("\n\n")
    steps: list[str | tuple[str, float]] = []
    half_close = False
    for r in records:
        if r["dir"] == "out":
            text = r["data"].encode("latin-1").decode("utf-8")
            steps += [line for line in text.split("\n") if line]
        elif r["dir"] == "note":
            m = re.match(r"client idle for ([0-9.]+) s", r["data"])
            if m and "after our HANGUP" not in r["data"]:
                steps.append(("idle", float(m.group(1))))
            if "half-closes" in r["data"]:
                half_close = True
    received = [line + "\n" for line in rest.split("\n")[:-1]] if rest else []
    return AGITranscript(
        path.name.removesuffix(".jsonl"), env + "\n\n", steps, received, half_close
    )


def _header(line: str) -> tuple[str, str]:
    """`Name: value` as (name, value); a line without ": " is a name with an empty value."""
    name, sep, value = line.partition(": ")
    return (name, value) if sep else (line.rstrip(":"), "")


def ami_messages(path: Path) -> Iterator[tuple[float, str, list[tuple[str, str]]]]:
    """(time, direction, headers) for every AMI message of a `.jsonl` capture."""
    buffers = {"in": "", "out": ""}
    for line in path.read_text().splitlines():
        r = json.loads(line)
        if r["dir"] == "note":
            continue
        buffers[r["dir"]] += r["data"]
        while "\r\n\r\n" in buffers[r["dir"]]:
            block, buffers[r["dir"]] = buffers[r["dir"]].split("\r\n\r\n", 1)
            if block.startswith("Asterisk Call Manager/"):
                block = block.split("\r\n", 1)[1] if "\r\n" in block else ""
            if not block:
                continue
            text = block.encode("latin-1").decode("utf-8")
            yield (
                r["t"],
                r["dir"],
                [_header(x) for x in text.split("\r\n")],
            )
