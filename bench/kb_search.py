"""Knowledge-base search latency over the seed cards plus generated ones, as an agent types.

Builds a fresh database (SQLite by default, or a throwaway PostgreSQL), imports config/kb and
N generated cards, then times `KnowledgeBase.search` on queries typed letter by letter, interleaved
with a baseline measured in the same run: `KnowledgeBase.get(slug)` (an indexed lookup by slug plus
its current revision). Writes bench/results/kb_search-<backend>.json with ratios and the raw samples.

    uv run python bench/kb_search.py [--backend sqlite|postgres] [--generated 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb import KnowledgeBase, ServiceCard, TopicKind, import_folder, polish_analyzer, read_folder  # noqa: E402
from kck.db import create_engine, upgrade  # noqa: E402

SEED = ROOT / "config" / "kb"
QUERIES = [
    "dowodu osobistego",
    "zgubiłem dowód",
    "dziura na drodze",
    "zgloszenie dziury w drodze",
    "smieci nie zostaly odebrane",
    "wyrejestrowanie samochodu",
    "podatek od nieruchomosci raty",
    "latarnia nie swieci",
    "dotacja na wymiane pieca",
    "karta duzej rodziny",
    "przewrócone drzewo na ulicy",
    "meldunek na pobyt czasowy",
    "zapisy do przedszkola",
    "abonament mieszkanca parkowanie",
]


def typed_prefixes(query: str) -> list[str]:
    """What the search box holds after each keystroke from the third letter on."""
    return [query[:i] for i in range(3, len(query) + 1)]


def generated_cards(
    seed_cards: list[ServiceCard], count: int, rng: random.Random
) -> list[ServiceCard]:
    """Cards built from the seed set's own words, so queries meet many of them (a hard case)."""
    words = [
        w for card in seed_cards for w in (card.body + " " + card.summary).split() if w.isalpha()
    ]
    units = sorted({card.unit for card in seed_cards})
    topics = sorted({key for card in seed_cards for key in card.topics.get(TopicKind.INTENT, ())})
    cards = []
    for i in range(count):
        body_words = rng.choices(words, k=rng.randint(80, 400))
        paragraphs = [" ".join(body_words[j : j + 40]) + "." for j in range(0, len(body_words), 40)]
        reviewed = date(2025, 1, 1) + timedelta(days=rng.randint(0, 600))
        cards.append(
            ServiceCard(
                id=f"gen-{i:05d}",
                title=" ".join(rng.choices(words, k=rng.randint(3, 8))).capitalize(),
                unit=rng.choice(units),
                unit_name="Wydział generowany",
                summary=" ".join(rng.choices(words, k=15)),
                keywords=tuple(rng.choices(words, k=6)),
                topics={TopicKind.INTENT: (rng.choice(topics),)},
                owner="bench",
                last_reviewed=reviewed,
                review_due=reviewed + timedelta(days=180),
                body="\n\n".join(paragraphs),
            )
        )
    return cards


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


async def run(url: str, backend: str, generated: int, rounds: int) -> dict[str, object]:
    engine = create_engine(url)
    await upgrade(engine)
    analyzer = await asyncio.get_running_loop().run_in_executor(None, polish_analyzer)
    kb = KnowledgeBase(engine, analyzer)
    rng = random.Random(20261124)

    started = time.perf_counter()
    await import_folder(kb, SEED, author="bench")
    seed_cards = [card for _, card in read_folder(SEED)]
    extra = generated_cards(seed_cards, generated, rng)
    for start in range(0, len(extra), 500):
        await kb.save_many(extra[start : start + 500], author="bench")
    build_seconds = time.perf_counter() - started
    total_cards = len(seed_cards) + generated

    slugs = [card.id for card in seed_cards] + [f"gen-{i:05d}" for i in range(0, generated, 97)]
    keystrokes = [prefix for query in QUERIES for prefix in typed_prefixes(query)]
    search_ms: list[float] = []
    baseline_ms: list[float] = []
    found_top3: dict[str, list[str]] = {}
    for _ in range(rounds):
        for text in keystrokes:
            t0 = time.perf_counter()
            hits = await kb.search(text, limit=5)
            search_ms.append((time.perf_counter() - t0) * 1000)
            if text in QUERIES:
                found_top3[text] = [h.slug for h in hits[:3]]
            t0 = time.perf_counter()
            await kb.get(rng.choice(slugs))
            baseline_ms.append((time.perf_counter() - t0) * 1000)
    await engine.dispose()

    search = percentiles(search_ms)
    baseline = percentiles(baseline_ms)
    result: dict[str, object] = {
        "benchmark": "kb_search",
        "backend": backend,
        "cards": total_cards,
        "generated_cards": generated,
        "rounds": rounds,
        "keystrokes_per_round": len(keystrokes),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "build_seconds": round(build_seconds, 2),
        "baseline": "KnowledgeBase.get(slug): indexed lookup of an article and its current revision",
        "ratio_to_baseline": {
            "p50": round(search["p50"] / baseline["p50"], 2),
            "p99": round(search["p99"] / baseline["p99"], 2),
        },
        "search_ms": {k: round(v, 3) for k, v in search.items()},
        "baseline_ms": {k: round(v, 3) for k, v in baseline.items()},
        "search_ms_percentiles_1_to_99": [
            round(v, 3) for v in statistics.quantiles(search_ms, n=100)
        ],
        "top3_for_full_queries": found_top3,
        "raw": {
            "search_ms": [round(v, 3) for v in search_ms],
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
            "ratio_to_baseline",
            "search_ms",
            "baseline_ms",
        )
    }
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
