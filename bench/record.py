"""Benchmark results: machine description, percentiles, a JSON file per run in bench/results/."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parents[1]


def replace_method(owner: type, name: str, replacement: Callable[..., Any]) -> None:
    """Swap `owner.name` for `replacement` in this benchmark process: the benchmarks time the
    real code in place (or scale its clock) rather than a copy of it. A name the class does not
    have is an error, so a renamed method cannot leave a benchmark silently untimed."""
    if not callable(getattr(owner, name, None)):
        raise AttributeError(f"{owner.__qualname__} has no method {name!r} to replace")
    setattr(owner, name, replacement)


def machine() -> dict[str, Any]:
    """CPU model, cores, load average now (the machine is shared), Python, git commit."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit, dirty = "unknown", ""
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_commit": commit + ("+dirty" if dirty else ""),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def distribution(values_s: list[float]) -> dict[str, float]:
    """p50/p90/p99/max in milliseconds, and the count."""
    return {
        "n": len(values_s),
        "p50_ms": round(1000 * percentile(values_s, 50), 3),
        "p90_ms": round(1000 * percentile(values_s, 90), 3),
        "p99_ms": round(1000 * percentile(values_s, 99), 3),
        "max_ms": round(1000 * max(values_s, default=0.0), 3),
    }


def save(
    name: str, machine_info: dict[str, Any], params: dict[str, Any], results: dict[str, Any]
) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    body = {"benchmark": name, "machine": machine_info, "params": params, "results": results}
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
    return path


def table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)
