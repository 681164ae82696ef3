"""The minimal read of `config/skills.yaml`, `agents.yaml` and `queues.yaml` the menu checks need.

The `queues` package owns those files; the IVR reads only a list of skill names and, per agent,
skill → level, so it can say "no agent has skill X at level 3". Either file may be missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kck.yamlsource import YAMLSourceError, load_yaml_file


@dataclass(frozen=True)
class SkillDirectory:
    """Known skills (None = no skills file) and the best level any agent has in each skill."""

    skills: frozenset[str] | None
    best_level: dict[str, int] | None = None
    sources: tuple[str, ...] = field(default=())
    queues: frozenset[str] | None = None  # queue ids from queues.yaml (None = no file)


def _skill_names(data: Any) -> frozenset[str] | None:
    block = data.get("skills") if isinstance(data, dict) else None
    if isinstance(block, dict):
        return frozenset(str(k) for k in block)
    if isinstance(block, list):
        names: set[str] = set()
        for item in block:
            if isinstance(item, str):
                names.add(item)
            elif isinstance(item, dict):
                name = item.get("id") or item.get("name")
                if name:
                    names.add(str(name))
        return frozenset(names)
    return None


def _agent_levels(data: Any) -> dict[str, int] | None:
    block = data.get("agents") if isinstance(data, dict) else None
    if isinstance(block, dict):
        agents = list(block.values())
    elif isinstance(block, list):
        agents = block
    else:
        return None
    best: dict[str, int] = {}
    for agent in agents:
        skills = agent.get("skills") if isinstance(agent, dict) else None
        if isinstance(skills, dict):
            pairs = list(skills.items())
        elif isinstance(skills, list):  # [{skill: x, level: 3}] or ["x"] (level 1)
            pairs = []
            for item in skills:
                if isinstance(item, str):
                    pairs.append((item, 1))
                elif isinstance(item, dict) and ("skill" in item or "name" in item):
                    pairs.append((item.get("skill") or item.get("name"), item.get("level", 1)))
        else:
            continue
        for skill, level in pairs:
            try:
                value = int(level)
            except (TypeError, ValueError):
                continue
            best[str(skill)] = max(best.get(str(skill), 0), value)
    return best


def _queue_ids(data: Any) -> frozenset[str] | None:
    block = data.get("queues") if isinstance(data, dict) else None
    if isinstance(block, dict):
        return frozenset(str(k) for k in block)
    if isinstance(block, list):
        return frozenset(str(q["id"]) for q in block if isinstance(q, dict) and q.get("id"))
    return None


def read_skill_directory(config_dir: Path) -> SkillDirectory:
    """Read what exists of skills.yaml and agents.yaml (blocking I/O); unreadable files are skipped."""
    skills: frozenset[str] | None = None
    levels: dict[str, int] | None = None
    queues: frozenset[str] | None = None
    sources: list[str] = []
    for name in ("skills.yaml", "agents.yaml", "queues.yaml"):
        path = config_dir / name
        if not path.exists():
            continue
        try:
            data = load_yaml_file(path)
        except YAMLSourceError:
            continue  # the queues package reports its own files' errors
        sources.append(str(path))
        if name == "skills.yaml":
            skills = _skill_names(data)
        elif name == "agents.yaml":
            levels = _agent_levels(data)
        else:
            queues = _queue_ids(data)
    return SkillDirectory(skills, levels, tuple(sources), queues)
