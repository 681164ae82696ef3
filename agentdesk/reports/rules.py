"""Counting rules from the queues configuration: service-level targets, short abandons, queue names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from agentdesk.keys import counting_rules_key, services_key
from agentdesk.reports.metrics import CountingRules, ServiceLevelTarget
from kck.errors import UserError
from kck.yamlsource import YAMLSourceError, as_plain, load_yaml_file


class CountingRulesError(UserError):
    """queues.yaml cannot be read for the service-level targets (message names file and field)."""


@dataclass(frozen=True)
class QueueNames:
    """Display names of queues by language; an unknown queue is shown by its id."""

    names: tuple[tuple[str, str, str], ...] = ()  # (id, Polish, English)

    def name(self, queue: str, language: str = "pl") -> str:
        for queue_id, polish, english in self.names:
            if queue_id == queue:
                return english if language == "en" else polish
        return queue

    @property
    def ids(self) -> list[str]:
        return [queue_id for queue_id, _, _ in self.names]


def _number(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CountingRulesError(f"{where}: expected a number, got {value!r}")
    return float(value)


def load_counting_rules(path: Path) -> tuple[CountingRules, QueueNames]:
    """Read the targets the queues are judged by (a queue without its own: 80 % in 20 s)."""
    try:
        data = as_plain(load_yaml_file(path)) or {}
    except FileNotFoundError:
        raise CountingRulesError(
            f"{path}: file not found (the reports read the queues' names and service-level "
            "targets from queues.yaml in the folder of paths.config)"
        ) from None
    except YAMLSourceError as exc:
        raise CountingRulesError(str(exc)) from None
    except OSError as exc:
        raise CountingRulesError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise CountingRulesError(f"{path}: expected a mapping at the top")
    short = _number(f"{path}: short_abandon_s", data.get("short_abandon_s", 5))
    targets: list[tuple[str, ServiceLevelTarget]] = []
    names: list[tuple[str, str, str]] = []
    for index, queue in enumerate(data.get("queues") or []):
        where = f"{path}: queues[{index}]"
        if not isinstance(queue, dict) or "id" not in queue:
            raise CountingRulesError(f"{where}: expected a mapping with an 'id'")
        queue_id = str(queue["id"])
        names.append(
            (queue_id, str(queue.get("name_pl", queue_id)), str(queue.get("name_en", queue_id)))
        )
        level = queue.get("service_level")
        if level is None:
            continue
        if not isinstance(level, dict):
            raise CountingRulesError(f"{where}.service_level: expected a mapping")
        targets.append(
            (
                queue_id,
                ServiceLevelTarget(
                    target_pct=_number(
                        f"{where}.service_level.target_pct", level.get("target_pct", 80)
                    ),
                    within_s=_number(f"{where}.service_level.within_s", level.get("within_s", 20)),
                ),
            )
        )
    return CountingRules(targets=tuple(targets), short_abandon_s=short), QueueNames(tuple(names))


def ensure_counting_rules(app: web.Application) -> tuple[CountingRules, QueueNames]:
    """The rules for this application, read once (board and reports share them)."""
    if counting_rules_key not in app:
        settings = app[services_key].settings
        app[counting_rules_key] = load_counting_rules(settings.config_dir / "queues.yaml")
    return app[counting_rules_key]
