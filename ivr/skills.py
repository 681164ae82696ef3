"""What the menu checks need of the router's configuration (skills, queues, agents' levels), read
by the router's own reader (`queues.config.load_routing_config`): `kck ivr validate` and the
router never disagree about the same file.

With none of the three files there is nothing to check against (a menus folder on its own); with
a file the router would refuse, the menu check says so (`problem`) instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from queues.config import QueueConfigError, RoutingConfig, load_routing_config

ROUTING_FILES = ("skills.yaml", "queues.yaml", "agents.yaml")


@dataclass(frozen=True)
class SkillDirectory:
    """Known skills and queues (None = not known), the best level any agent has in each skill,
    and why the router's configuration could not be read (None = it could)."""

    skills: frozenset[str] | None
    best_level: dict[str, int] | None = None
    sources: tuple[str, ...] = field(default=())
    queues: frozenset[str] | None = None
    problem: str | None = None

    @classmethod
    def of(cls, config: RoutingConfig, sources: tuple[str, ...] = ()) -> SkillDirectory:
        best: dict[str, int] = {}
        for agent in config.agents.values():
            for skill, level in agent.skills.items():
                best[skill] = max(best.get(skill, 0), level)
        return cls(frozenset(config.skills), best, sources, frozenset(config.queues))


def read_skill_directory(config_dir: Path) -> SkillDirectory:
    """Read the router's configuration in `config_dir` (blocking I/O: run it in an executor)."""
    paths = [config_dir / name for name in ROUTING_FILES]
    present = tuple(str(p) for p in paths if p.exists())
    if not present:
        return SkillDirectory(None)
    try:
        config = load_routing_config(config_dir)
    except QueueConfigError as exc:
        return SkillDirectory(None, sources=present, problem=str(exc))
    return SkillDirectory.of(config, present)
