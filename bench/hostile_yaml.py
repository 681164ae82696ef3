"""Mutated menu files through `kck ivr validate`: no hang, no traceback, one line naming the file.

Each round copies the shipped menus, replaces one included file by a mutation of it (a control
character, nesting 1,000 deep, a 5,000-digit integer, a "billion laughs", a 10 MB list, a cut,
bytes that are not UTF-8, random bytes flipped…) and runs `kck ivr validate --menus` on it in
this process, as an editor would. Reports how many files were refused with a line naming the
mutated file, how many tracebacks escaped, and the time of the slowest validation (a hang shows
as a run that does not finish: every input is bounded by kck.yamlsource's limits).

    uv run python bench/hostile_yaml.py [--files 200] [--seed 18]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from record import distribution, machine, save, table  # noqa: E402

from kck.cli import main as kck  # noqa: E402
from kck.config_files import SHIPPED_CONFIG  # noqa: E402

MENUS = SHIPPED_CONFIG / "menus"
TARGETS = ("departments.yaml", "problems.yaml", "prompts.yaml", "calendars.yaml")


def _laughs() -> str:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"l{n}: &l{n} [" + ",".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, 9)]
    return "\n".join(lines) + "\n"


def _at(text: str, rng: random.Random, insert: str) -> str:
    cut = rng.randrange(len(text))
    return text[:cut] + insert + text[cut:]


MUTATIONS: dict[str, Callable[[str, random.Random], str | bytes]] = {
    "control character": lambda t, r: _at(t, r, chr(r.choice([0, 1, 7, 8, 11, 12, 27, 127]))),
    "flow nesting 1,000": lambda t, r: t + "x: " + "[" * 1000 + "]" * 1000 + "\n",
    "block nesting 300": lambda t, r: t + "".join("  " * i + f"k{i}:\n" for i in range(300)),
    "5,000-digit integer": lambda t, r: t + "x: " + "9" * 5000 + "\n",
    "billion laughs": lambda t, r: _laughs(),
    "10 MB list": lambda t, r: "- 1\n" * 2_500_000,
    "100,000-item flow list": lambda t, r: "x: [" + "1," * 100_000 + "]\n",
    "cut short": lambda t, r: t[: r.randrange(len(t))],
    "not UTF-8": lambda t, r: _at(t, r, "\x00").encode().replace(b"\x00", b"\xff\xfe"),
    "bytes flipped": lambda t, r: bytes(
        b ^ (1 << r.randrange(8)) if r.random() < 0.01 else b for b in t.encode()
    ),
    "line repeated": lambda t, r: _at(t, r, (r.choice(t.splitlines()) + "\n") * 50),
    "impossible date": lambda t, r: t + "x: 2026-02-30\n",
}


def run_one(folder: Path, target: str, content: str | bytes) -> tuple[int, str, bool, float]:
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(MENUS, folder)
    path = folder / target
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    began = time.perf_counter()
    crashed = False
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = kck(["ivr", "validate", "--menus", str(folder)])
        except BaseException:  # what the user would have seen as a traceback
            traceback.print_exc(file=err)
            code, crashed = -1, True
    return code, out.getvalue() + err.getvalue(), crashed, time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    info = machine()
    names = list(MUTATIONS)
    per_kind: dict[str, list[float]] = {name: [] for name in names}
    refused = named = crashed = passed = 0
    worst = ("", 0.0)
    with tempfile.TemporaryDirectory(prefix="kck-bench-yaml-") as tmp:
        folder = Path(tmp) / "menus"
        for n in range(args.files):
            kind = names[n % len(names)]
            target = rng.choice(TARGETS)
            original = (MENUS / target).read_text(encoding="utf-8")
            code, output, crash, took = run_one(folder, target, MUTATIONS[kind](original, rng))
            per_kind[kind].append(took)
            crashed += crash or "Traceback" in output
            passed += code == 0
            refused += code != 0
            named += code != 0 and target in output
            if took > worst[1]:
                worst = (kind, took)
    results = {
        "files": args.files,
        "refused": refused,
        "refused_naming_the_file": named,
        "passed": passed,
        "tracebacks": crashed,
        "worst": {"mutation": worst[0], "ms": round(worst[1] * 1000)},
        "per_mutation": {name: distribution(times) for name, times in per_kind.items()},
    }
    rows = [("mutation", "files", "p50 ms", "max ms")]
    for name, times in per_kind.items():
        d = distribution(times)
        rows.append((name, str(d["n"]), f"{d['p50_ms']:.0f}", f"{d['max_ms']:.0f}"))
    print(table(rows))
    print(
        f"{args.files} files: {refused} refused ({named} naming the mutated file), {passed} "
        f"passed (a harmless mutation), {crashed} tracebacks; slowest {worst[0]} "
        f"{worst[1] * 1000:.0f} ms (load average at start {info.get('load_average_at_start')})"
    )
    path = save("hostile_yaml", info, vars(args), results)
    print(f"written: {path.relative_to(ROOT)}")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
