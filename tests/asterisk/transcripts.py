"""Loads the real Asterisk 22 transcripts in tests/fixtures/asterisk for replay tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

# In the repository, beside these tests (its README says what was captured, on which Asterisk).
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk"
if not (FIXTURES / "README.md").exists():  # never let the replay tests pass on no transcripts
    raise RuntimeError(f"real Asterisk transcripts not found at {FIXTURES}")


@dataclass(frozen=True)
class Record:
    """One socket read/write: ``direction`` is "in" (Asterisk→us), "out" (us→Asterisk) or "note"."""

    t: float
    direction: str
    data: bytes
    note: str = ""


def load(name: str) -> list[Record]:
    records: list[Record] = []
    path = FIXTURES / f"{name}.jsonl"
    for line_no, line in enumerate(path.read_text(encoding="ascii").splitlines(), start=1):
        item = json.loads(line)
        direction = item["dir"]
        if direction not in ("in", "out", "note"):
            raise ValueError(f"{path}:{line_no}: unknown dir {direction!r}")
        if direction == "note":
            records.append(Record(item["t"], direction, b"", note=item["data"]))
        else:
            records.append(Record(item["t"], direction, item["data"].encode("latin-1")))
    return records


def names(prefix: str) -> list[str]:
    return sorted(p.name[: -len(".jsonl")] for p in FIXTURES.glob(f"{prefix}*.jsonl"))


def stream(records: list[Record], direction: str) -> bytes:
    return b"".join(r.data for r in records if r.direction == direction)
