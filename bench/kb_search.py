"""Knowledge-base search latency over the seed cards plus generated ones, as an agent types.

Builds a fresh database (SQLite by default, or a throwaway PostgreSQL), imports config/kb and
N generated cards, then times `KnowledgeBase.search` on queries typed letter by letter, interleaved
with a baseline measured in the same run: `KnowledgeBase.get(slug)` (an indexed lookup by slug plus
its current revision). Each keystroke is searched twice, alternately: through the database's own
search and through the in-memory index (kb.memory_index), so both are measured under the same
load; the hits of the two must be equal (counted in `differing_results`). The in-memory search's
CPU time on the event loop's thread is kept beside its wall time (less moved by the load). Also
reported: the index's build time and its memory (its arrays, and the process's resident growth
while building).
Writes bench/results/kb_search-<backend>.json with ratios and the raw samples.

    uv run python bench/kb_search.py [--backend sqlite|postgres] [--generated 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb import KnowledgeBase, import_folder, polish_analyzer, read_folder  # noqa: E402
from kck.db import create_engine, upgrade  # noqa: E402
from tests.kb.corpus import QUERIES, SEED, generated_cards, typed_prefixes  # noqa: E402


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "n": len(ordered),
        "min": ordered[0],
        "p50": q[49],
        "p90": q[89],
        "p99": q[98],
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def run(url: str, backend: str, generated: int, rounds: int) -> dict[str, object]:
    engine = create_engine(url)
    await upgrade(engine)
    analyzer = await asyncio.get_running_loop().run_in_executor(None, polish_analyzer)
    kb = KnowledgeBase(engine, analyzer)
    in_memory = KnowledgeBase(engine, analyzer, memory_index=True)
    assert in_memory.index is not None
    rng = random.Random(20261124)

    started = time.perf_counter()
    await import_folder(kb, SEED, author="bench")
    seed_cards = [card for _, card in read_folder(SEED)]
    extra = generated_cards(seed_cards, generated, rng)
    for start in range(0, len(extra), 500):
        await kb.save_many(extra[start : start + 500], author="bench")
    build_seconds = time.perf_counter() - started
    total_cards = len(seed_cards) + generated
    gc.collect()
    resident_before = resident_bytes()
    started = time.perf_counter()
    snapshot = await in_memory.index.ready()
    index_seconds = time.perf_counter() - started
    gc.collect()
    resident_growth = resident_bytes() - resident_before

    slugs = [card.id for card in seed_cards] + [f"gen-{i:05d}" for i in range(0, generated, 97)]
    keystrokes = [prefix for query in QUERIES for prefix in typed_prefixes(query)]
    search_ms: list[float] = []
    memory_ms: list[float] = []
    memory_cpu_ms: list[float] = []  # the event loop thread's CPU time: less moved by the load
    baseline_ms: list[float] = []
    found_top3: dict[str, list[str]] = {}
    differing: list[str] = []
    for round_number in range(rounds):
        for i, text in enumerate(keystrokes):
            timed: dict[str, float] = {}
            results = {}
            # alternate which goes first, so neither always meets a warm cache
            order = [(kb, "database"), (in_memory, "memory")]
            for base, name in order if (i + round_number) % 2 else order[::-1]:
                c0, t0 = time.thread_time(), time.perf_counter()
                results[name] = await base.search(text, limit=5)
                timed[name] = (time.perf_counter() - t0) * 1000
                timed[name + " cpu"] = (time.thread_time() - c0) * 1000
            search_ms.append(timed["database"])
            memory_ms.append(timed["memory"])
            memory_cpu_ms.append(timed["memory cpu"])
            if results["database"] != results["memory"]:
                differing.append(text)
            if text in QUERIES:
                found_top3[text] = [h.slug for h in results["memory"][:3]]
            t0 = time.perf_counter()
            await kb.get(rng.choice(slugs))
            baseline_ms.append((time.perf_counter() - t0) * 1000)
    await engine.dispose()

    search = percentiles(search_ms)
    memory = percentiles(memory_ms)
    baseline = percentiles(baseline_ms)
    memory_cpu = percentiles(memory_cpu_ms)
    result: dict[str, object] = {
        "benchmark": "kb_search",
        "backend": backend,
        "cards": total_cards,
        "generated_cards": generated,
        "rounds": rounds,
        "keystrokes_per_round": len(keystrokes),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "build_seconds": round(build_seconds, 2),
        "index": {
            "build_seconds": round(index_seconds, 2),
            "terms": len(snapshot.terms),
            "postings": len(snapshot.post_slot),
            "array_mib": round(snapshot.nbytes / 2**20, 1),
            "resident_growth_mib": round(resident_growth / 2**20, 1),
        },
        "differing_results": differing,
        "baseline": "KnowledgeBase.get(slug): indexed lookup of an article and its current revision",
        "ratio_to_baseline": {
            "p50": round(search["p50"] / baseline["p50"], 2),
            "p99": round(search["p99"] / baseline["p99"], 2),
        },
        "memory_ratio_to_baseline": {
            "p50": round(memory["p50"] / baseline["p50"], 2),
            "p99": round(memory["p99"] / baseline["p99"], 2),
        },
        "search_ms": {k: round(v, 3) for k, v in search.items()},
        "memory_search_ms": {k: round(v, 3) for k, v in memory.items()},
        "memory_search_cpu_ms": {k: round(v, 3) for k, v in memory_cpu.items()},
        "baseline_ms": {k: round(v, 3) for k, v in baseline.items()},
        "search_ms_percentiles_1_to_99": [
            round(v, 3) for v in statistics.quantiles(search_ms, n=100)
        ],
        "top3_for_full_queries": found_top3,
        "raw": {
            "search_ms": [round(v, 3) for v in search_ms],
            "memory_search_ms": [round(v, 3) for v in memory_ms],
            "memory_search_cpu_ms": [round(v, 3) for v in memory_cpu_ms],
            "baseline_ms": [round(v, 3) for v in baseline_ms],
        },
    }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--generated", type=int, default=10_000, help="generated cards besides the seed"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="times each keystroke sequence is replayed"
    )
    parser.add_argument(
        "--out", type=Path, help="result file (default bench/results/kb_search-<backend>.json)"
    )
    args = parser.parse_args()
    out = args.out or ROOT / "bench" / "results" / f"kb_search-{args.backend}.json"
    with tempfile.TemporaryDirectory(prefix="kck-bench-kb-") as folder:
        if args.backend == "sqlite":
            result = asyncio.run(
                run(
                    f"sqlite+aiosqlite:///{folder}/kb.db",
                    "sqlite",
                    args.generated,
                    args.rounds,
                )
            )
        else:
            from tests.services import start_postgres

            server = start_postgres()
            try:
                result = asyncio.run(
                    run(server.url("postgres"), "postgres", args.generated, args.rounds)
                )
            finally:
                server.stop()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    summary = {
        k: result[k]
        for k in (
            "backend",
            "cards",
            "build_seconds",
            "index",
            "differing_results",
            "ratio_to_baseline",
            "memory_ratio_to_baseline",
            "search_ms",
            "memory_search_ms",
            "memory_search_cpu_ms",
            "baseline_ms",
        )
    }
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
