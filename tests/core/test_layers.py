"""The import contracts (pyproject.toml [tool.importlinter], checked by `lint-imports` in
./dev test) cover every module of kck: each is either core (imports no feature package) or the
composition root (wires them). A new module must be put on one side."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path
from typing import Any

import kck

REPOSITORY = Path(__file__).resolve().parents[2]
# the composition root and the command line: they build and wire the features
ROOT = {
    "kck.cli",
    "kck.commands",
    "kck.config_check",
    "kck.controller",
    "kck.pbx_cli",
    "kck.recording_feed",
    "kck.runtime",
    "kck.transcription_engines",
    "kck.migrations",
}


def _contracts() -> list[dict[str, Any]]:
    """The import-linter contracts as TOML gives them (the names and lists are checked below)."""
    config = tomllib.loads((REPOSITORY / "pyproject.toml").read_text(encoding="utf-8"))
    return list(config["tool"]["importlinter"]["contracts"])


def test_every_module_of_kck_is_core_or_composition_root() -> None:
    [core_contract] = [c for c in _contracts() if "core" in str(c["name"])]
    core = set(core_contract["source_modules"])
    modules = {f"kck.{m.name}" for m in pkgutil.iter_modules(kck.__path__)}
    assert modules - core - ROOT == set(), "classify these in pyproject.toml [tool.importlinter]"
    assert core & ROOT == set()
