"""The one settings object: `config/settings.yaml` overlaid by `KCK_*` environment variables."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from kck.yamlsource import YAMLSourceError, as_plain, load_yaml_file, position_of

ENV_PREFIX = "KCK_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    """Where history lives: SQLite file by default, PostgreSQL (asyncpg) in production."""

    url: str = "sqlite+aiosqlite:///{var}/kck.db"
    echo: bool = False
    pool_size: int = Field(default=10, ge=1, le=200)

    @field_validator("url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// (async drivers only)"
            )
        return value


class RedisSettings(_Section):
    """Live state. No URL: kck starts a private redis-server with its files under var/."""

    url: str | None = None
    key_prefix: str = "kck"

    @field_validator("url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value


class AMISettings(_Section):
    """The Asterisk Manager Interface connection."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=5038, ge=1, le=65535)
    username: str = "kck"
    secret: SecretStr = SecretStr("")
    ping_interval: float = Field(default=5.0, gt=0)
    ping_timeout: float = Field(default=3.0, gt=0)
    action_timeout: float = Field(default=10.0, gt=0)


class AGISettings(_Section):
    """The FastAGI server Asterisk connects to (agi://host:port/ivr)."""

    host: str = "127.0.0.1"
    port: int = Field(default=4573, ge=0, le=65535)
    allowed_clients: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    env_timeout: float = Field(default=5.0, gt=0)

    @field_validator("allowed_clients", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("allowed_clients")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value


class HTTPSettings(_Section):
    """The web application (desk, wall board, API)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    session_secret: SecretStr = SecretStr("")
    public_url: str | None = None


class PathSettings(_Section):
    """Folders; relative ones are resolved against the installation folder (config/..)."""

    var: Path = Path("var")
    config: Path = Path("config")
    menus: Path = Path("config/menus")
    sounds: Path = Path("var/sounds")
    recordings: Path = Path("var/recordings")
    kb: Path = Path("config/kb")


class LogSettings(_Section):
    """Logging: level and JSON lines for log shippers."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_lines: bool = Field(default=False, alias="json")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CentreSettings(_Section):
    """The contact centre itself."""

    name: str = "Kontakt Centrum Miasta"
    hotline: str = "+48126165555"
    default_language: Literal["pl", "en", "uk"] = "pl"
    country: str = "PL"


class SpeechSettings(_Section):
    """Offline speech recognition for the IVR's speech step (vosk models installed by the operator)."""

    models: dict[str, Path] = {}  # language → vosk model folder; a language without one uses DTMF
    intents: Path = Path("config/intents")
    recordings: Path = Path("var/recordings/speech")  # written by Asterisk, read by kck
    asterisk_recordings: Path | None = (
        None  # the same folder as Asterisk sees it, if mounted elsewhere
    )
    workers: int = Field(default=1, ge=1, le=16)
    timeout: float = Field(default=8.0, gt=0)
    keep_recordings: bool = False


class Settings(_Section):
    """Everything kck reads at start-up. Build it with `load_settings`."""

    timezone: str = "Europe/Warsaw"
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    ami: AMISettings = AMISettings()
    agi: AGISettings = AGISettings()
    http: HTTPSettings = HTTPSettings()
    paths: PathSettings = PathSettings()
    log: LogSettings = LogSettings()
    centre: CentreSettings = CentreSettings()
    speech: SpeechSettings = SpeechSettings()
    base_dir: Path = Path(".")
    source: str = "(defaults)"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def path(self, value: Path) -> Path:
        """A configured path made absolute against the installation folder."""
        return value if value.is_absolute() else (self.base_dir / value).resolve()

    @property
    def var_dir(self) -> Path:
        return self.path(self.paths.var)

    @property
    def config_dir(self) -> Path:
        return self.path(self.paths.config)

    @property
    def database_url(self) -> str:
        return self.database.url.replace("{var}", str(self.var_dir))


@dataclass(frozen=True)
class SettingsError(Exception):
    """A setting is wrong; `str()` names the key and where it came from."""

    key: str
    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: setting {self.key!r}: {self.reason}"


_NOT_SETTINGS = frozenset({"KCK_CONFIG", "KCK_HOME"})
_SECTIONS = {
    name
    for name, field in Settings.model_fields.items()
    if name not in ("timezone", "base_dir", "source")
}


def _env_overrides(environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """KCK_AMI_SECRET → {"ami": {"secret": …}}; returns overrides and key → variable name."""
    data: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in _NOT_SETTINGS or name.startswith("KCK_TEST_"):
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        section, _, key = rest.partition("_")
        if section in _SECTIONS and key:
            data.setdefault(section, {})[key] = value
            origin[f"{section}.{key}"] = name
        elif rest == "timezone":
            data["timezone"] = value
            origin["timezone"] = name
        else:
            raise SettingsError(
                name, "environment", "no such setting (KCK_<SECTION>_<KEY>, e.g. KCK_AMI_HOST)"
            )
    return data, origin


def _merge(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def default_settings_file() -> Path:
    """KCK_CONFIG, else config/settings.yaml in KCK_HOME or the current folder."""
    if env := os.environ.get("KCK_CONFIG"):
        return Path(env)
    home = Path(os.environ.get("KCK_HOME", "."))
    return home / "config" / "settings.yaml"


def load_settings(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read the settings file (if it exists), overlay the environment, validate everything.

    Raises SettingsError naming the key and the file (or environment variable) at fault.
    """
    file = path if path is not None else default_settings_file()
    environ = os.environ if environ is None else environ
    raw: Any = {}
    if file.exists():
        try:
            raw = load_yaml_file(file) or {}
        except YAMLSourceError as exc:
            raise SettingsError("(file)", str(exc.pos), exc.reason) from None
        if not isinstance(raw, dict):
            raise SettingsError("(top level)", str(file), "must be a mapping of sections")
    elif path is not None:
        raise SettingsError("(file)", str(file), "file not found")
    env_data, env_origin = _env_overrides(environ)
    data = _merge(as_plain(raw), env_data)
    if overrides:
        data = _merge(data, overrides)
    base_dir = file.resolve().parent.parent
    data.setdefault("base_dir", base_dir)
    data["source"] = str(file) if file.exists() else "(defaults)"
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        key = ".".join(str(p) for p in loc)
        if key in env_origin:
            source = f"environment {env_origin[key]}"
        else:
            pos = position_of(raw, loc)
            source = str(pos) if pos else str(file)
        reason = first["msg"]
        if first["type"] == "extra_forbidden":
            reason = "no such setting"
        raise SettingsError(key, source, reason) from None
