"""Loads the real Asterisk 22 transcripts in /work/shared/fixtures/asterisk for replay tests."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


def _find_fixtures() -> Path:
    """KCK_ASTERISK_FIXTURES, else shared/fixtures/asterisk beside the checkout, else /work/shared."""
    if env := os.environ.get("KCK_ASTERISK_FIXTURES"):
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "shared" / "fixtures" / "asterisk"
        if (candidate / "README.md").exists():
            return candidate
    return Path("/work/shared/fixtures/asterisk")


FIXTURES = _find_fixtures()
if not (FIXTURES / "README.md").exists():  # never let the replay tests pass on no transcripts
    raise RuntimeError(
        f"real Asterisk transcripts not found at {FIXTURES}: set KCK_ASTERISK_FIXTURES"
    )


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
