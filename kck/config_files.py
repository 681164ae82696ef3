"""The files kck needs in the configured folders, and the check that stops start-up without them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kck.errors import UserError
from kck.settings import Settings

# The config/ folder of the kck source. Only `kck demo` runs on it by itself (when the current
# folder has no usable config/); everything else reads the folders the settings name.
SHIPPED_CONFIG = Path(__file__).resolve().parents[1] / "config"


@dataclass(frozen=True)
class RequiredFile:
    """A file that must be in the folder of the setting `paths.<folder>`."""

    folder: str  # "config" or "menus"
    name: str
    holds: str

    @property
    def setting(self) -> str:
        return f"paths.{self.folder}"

    @property
    def variable(self) -> str:
        return f"KCK_PATHS_{self.folder.upper()}"

    def path(self, settings: Settings) -> Path:
        return settings.path(getattr(settings.paths, self.folder)) / self.name


REQUIRED_FILES: tuple[RequiredFile, ...] = (
    RequiredFile("config", "skills.yaml", "skills"),
    RequiredFile("config", "queues.yaml", "queues and their service levels"),
    RequiredFile("config", "agents.yaml", "agents and their skills"),
    RequiredFile("config", "units.yaml", "the city units tickets are forwarded to"),
    RequiredFile("menus", "main.yaml", "the IVR menu"),
)


class MissingConfigFile(UserError):
    """Start-up stops: a file kck reads from the configured folders is not there."""


def missing_config_files(settings: Settings) -> list[tuple[RequiredFile, Path]]:
    """The required files that are not in the folders `settings` name (blocking: a few stats)."""
    found = [(required, required.path(settings)) for required in REQUIRED_FILES]
    return [(required, path) for required, path in found if not path.is_file()]


def require_config_files(settings: Settings) -> None:
    """Raise MissingConfigFile naming every missing file, its setting and what to do."""
    missing = missing_config_files(settings)
    if missing:
        raise MissingConfigFile(_message(missing))


def _message(missing: list[tuple[RequiredFile, Path]]) -> str:
    files = ", ".join(f"{path} ({required.holds})" for required, path in missing)
    settings: dict[str, RequiredFile] = {}
    for required, _path in missing:
        settings.setdefault(required.setting, required)
    where = " and ".join(f"{r.setting} (or {r.variable})" for r in settings.values())
    shipped = f" ({SHIPPED_CONFIG})" if SHIPPED_CONFIG.is_dir() else ""
    return (
        f"not found: {files}. kck reads its configuration only from the folders its settings "
        f"name: copy what is missing from the config/ folder that ships with kck{shipped}, "
        f"or point {where} at a folder that has it"
    )
