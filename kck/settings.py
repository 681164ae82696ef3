"""The one settings object: `config/settings.yaml` overlaid by `KCK_*` environment variables."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from kck.phone import NumberFormat
from kck.sip import is_host_port, is_sip_user
from kck.yamlsource import YAMLSourceError, as_plain, load_yaml_file, position_of

ENV_PREFIX = "KCK_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    """Where history lives: SQLite file by default, PostgreSQL (asyncpg) in production."""

    url: str = "sqlite+aiosqlite:///{var}/kck.db"
    echo: bool = False
    pool_size: int = Field(default=10, ge=1, le=200)
    # A call-history write (one batch, or connecting for it) without an answer for this long
    # is the database away: a hung server (accepts, never answers) is an outage like a refused
    # one, shown on /health and /metrics, and the events wait in the stream until it answers.
    write_timeout_s: float = Field(default=15.0, gt=0, le=600)
    # False: this node never takes the `queues-recorder` lease, so it never writes the call
    # history; another node (with it true) writes what this node's calls publish. For FastAGI
    # nodes, to keep the writer's CPU out of the call process (docs/deployment.md).
    write_history: bool = True

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
    # A command without an answer for this long fails (redis-py's default is 5 s); a connection
    # not made within connect_timeout_s too. Short, so a paused Redis is seen, not waited on.
    socket_timeout_s: float = Field(default=3.0, gt=0, le=60)
    connect_timeout_s: float = Field(default=2.0, gt=0, le=60)
    # A Redis outage up to this long is waited out by callers in queues, with music, in their
    # place; a new caller is queued when it answers. Longer: callers go to the fallback queue.
    outage_hold_s: float = Field(default=10.0, ge=0, le=300)

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


def _comma_list(value: Any) -> Any:
    """A list setting from the environment: "10.1.0.0/16, 10.2.0.5" → ("10.1.0.0/16", "10.2.0.5")."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def _ip_network(item: str) -> str:
    try:
        ipaddress.ip_network(item, strict=False)
    except ValueError:
        raise ValueError(f"{item!r} is not an IP address or network") from None
    return item


# addresses or networks; from the environment comma-separated ("10.1.0.0/16, 10.2.0.5");
# an error names the entry (`trunk.match.1`) and, in the file, its line
Networks = Annotated[
    tuple[Annotated[str, AfterValidator(_ip_network)], ...], BeforeValidator(_comma_list)
]


class AGISettings(_Section):
    """The FastAGI server Asterisk connects to (agi://host:port/ivr)."""

    host: str = "127.0.0.1"
    port: int = Field(default=4573, ge=0, le=65535)
    allowed_clients: Networks = ("127.0.0.1/32", "::1/128")
    env_timeout: float = Field(default=5.0, gt=0)


class AsteriskSettings(_Section):
    """The Asterisk server as kck must know it (for `kck asterisk config` and the paths it is sent)."""

    # kck's sounds folder (paths.sounds) as Asterisk sees it: the IVR and the waiting loop stream
    # prompts from there. None = the same path (Asterisk on this host, or the same mount point).
    sounds: Path | None = None
    sip_port: int = Field(default=5060, ge=1, le=65535)
    # The FastAGI URLs the generated dialplan sends the hotline to, one per kck node, tried in
    # order while unreachable (docs/deployment.md); empty = this node's agi://<agi.host>:<agi.port>/ivr.
    # From the environment comma-separated.
    agi_urls: Annotated[tuple[str, ...], BeforeValidator(_comma_list)] = ()
    # With several agi_urls: each new call starts with the next node in turn (load spread)
    # instead of always the first that answers.
    agi_spread: bool = False

    @field_validator("sounds")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_absolute():
            raise ValueError("must be an absolute path on the Asterisk host (e.g. /srv/kck-sounds)")
        return value


_TRUNK_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_CONF_VALUE = re.compile(r"^[^\r\n;\[\]]*$")  # pjsip.conf: no line breaks, comments, sections
_NUMBER = re.compile(r"^\+?[0-9]{2,15}$")


class TrunkSettings(_Section):
    """The operator's SIP trunk: the hotline comes in through it, callbacks and transfers go out."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = "kck-trunk"  # the PJSIP endpoint; outbound calls dial PJSIP/<number>@<name>
    host: str = ""  # the operator's SIP server, host[:port]; empty = not configured
    username: str = ""
    password: SecretStr = SecretStr("")
    # send a REGISTER to host (operators that deliver calls to a registered contact); the key is
    # `register` (a model attribute of that name would shadow pydantic's BaseModel.register)
    registration: bool = Field(default=False, alias="register")
    match: Networks = ()  # addresses/networks the operator's INVITEs come from
    number_format: NumberFormat = "international"  # how the operator wants dialled numbers
    caller_id: str | None = None  # shown on callbacks; None = centre.hotline
    # Asterisk sends OPTIONS to host every qualify_s s (0 = never); while they go unanswered the
    # trunk counts as unreachable and nothing is dialled out through it (callbacks fail)
    qualify_s: int = Field(default=60, ge=0, le=3600)

    @field_validator("host", "username", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return "" if value is None else value  # `host:` left empty in the file

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _TRUNK_NAME.match(value):
            raise ValueError("letters, digits, '_', '.' and '-' only")
        return value

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if value and not is_host_port(value):
            raise ValueError(
                "must be a host name or address, optionally :port (sip.operator.pl:5060)"
            )
        return value

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        if value and not is_sip_user(value):
            raise ValueError("must be a SIP user name (no spaces, ';', '@', '[', ']')")
        return value

    @field_validator("password")
    @classmethod
    def _password(cls, value: SecretStr) -> SecretStr:
        if not _CONF_VALUE.match(value.get_secret_value()):
            raise ValueError("must not contain line breaks, ';', '[' or ']' (pjsip.conf syntax)")
        return value

    @field_validator("caller_id")
    @classmethod
    def _caller_id(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not _NUMBER.match(value):
            raise ValueError("must be a phone number: 2-15 digits, optionally after '+'")
        return value

    def warnings(self) -> list[str]:
        """What works but will surprise the operator; each names the setting to change."""
        out = []
        if not self.host:
            out.append(
                "trunk.host is empty: callbacks and transfers to outside numbers cannot be "
                "dialled (set trunk.host to the operator's SIP server)"
            )
            if self.registration:
                out.append("trunk.register is true but trunk.host is empty: nothing to register to")
        if not self.match:
            out.append(
                "trunk.match is empty: Asterisk rejects every call from the operator "
                "('No matching endpoint found'); set it to the addresses the operator's calls "
                "come from"
            )
        return out


class HTTPSettings(_Section):
    """The web application (desk, wall board, API)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # a connection must send a whole request head this soon after connecting, else it is closed
    header_timeout_s: float = Field(default=10.0, gt=0, le=300)
    # an idle connection between requests is closed after this long (aiohttp's default: 75 s)
    keepalive_timeout_s: float = Field(default=15.0, gt=0, le=3600)
    # web connections open at once at most (desks and boards hold one WebSocket each)
    max_connections: int = Field(default=2000, ge=1)
    # descriptors of RLIMIT_NOFILE the web may never take: FastAGI calls, AMI, Redis, database
    fd_reserve: int = Field(default=256, ge=16)
    # behind a TLS reverse proxy: cookies are sent over HTTPS only (docs/deployment.md)
    secure_cookies: bool = False
    # /metrics and /health's detail for scrapers: `Authorization: Bearer <token>`; empty = only a
    # signed-in supervisor or administrator sees them (/health's status code stays open)
    monitoring_token: SecretStr = SecretStr("")
    # sign-in throttling (kept in Redis, so across nodes): after this many wrong passwords for one
    # account, or from one address, sign-in there is refused for login_lockout_s
    login_failures_per_account: int = Field(default=5, ge=1, le=1000)
    login_failures_per_address: int = Field(default=30, ge=1, le=100000)
    login_lockout_s: int = Field(default=900, ge=1, le=86400)
    # the reverse proxies in front of kck: from them, the client's address is the last
    # X-Forwarded-For entry that is not one of them (for throttling and the audit log)
    trusted_proxies: Networks = ()


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
    # a repeated warning or error is written once per this many seconds, with a count (0 = all)
    repeat_interval_s: float = Field(default=30.0, ge=0)

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


_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


class TranscriptionEngine(_Section):
    """One language's offline engine for recordings (docs/recordings.md, "Transcription")."""

    # vosk: a vosk model folder (`model` required); whisper: faster-whisper (extra `whisper`) with
    # a CTranslate2 Whisper model folder, by default the multilingual base model a package ships
    kind: Literal["vosk", "whisper"]
    model: Path | None = None

    @model_validator(mode="after")
    def _model_needed(self) -> TranscriptionEngine:
        if self.kind == "vosk" and self.model is None:
            raise ValueError("kind vosk needs `model`: the folder of a vosk model")
        return self


class TranscriptionSettings(_Section):
    """Which engine transcribes a recording, by the call's language; how many at once."""

    # language (pl, uk, en…) → engine; empty: the vosk models of `speech.models`
    engines: dict[str, TranscriptionEngine] = {}
    concurrency: int = Field(default=1, ge=1, le=16)

    @field_validator("engines")
    @classmethod
    def _languages(cls, value: dict[str, TranscriptionEngine]) -> dict[str, TranscriptionEngine]:
        for language in value:
            if not _LANGUAGE_CODE.match(language):
                raise ValueError(f"{language!r} is not a language code (pl, uk, en…)")
        return value


_MIXMONITOR_OPTIONS = re.compile(r"^[abBCiIrtvVWmpPS()0-9,./_-]*$|^off$")


class RecordingSettings(_Section):
    """Call recordings (docs/recordings.md): where the files go, MixMonitor's options per queue,
    who may listen, how long they are kept."""

    enabled: bool = True
    # the folder Asterisk writes into, as kck sees it (kck reads, checks and deletes there)
    folder: Path = Path("var/recordings/calls")
    # the same folder as Asterisk sees it; None = the same path (Asterisk on this host)
    asterisk_folder: Path | None = None
    # MixMonitor options for every queue ("b": only while bridged); `queues` overrides per queue,
    # "off" records nothing in that queue
    options: str = "b"
    queues: dict[str, str] = {}
    # the agent who took a call may play its recording too (supervisors always may)
    agent_may_play: bool = False
    # days a recording is kept: `retention` per queue or ticket category, else `retention_days`
    retention_days: int = Field(default=90, ge=1, le=3650)
    retention: dict[str, int] = {}
    # how long kck waits for Asterisk to close a file after the hang-up
    finish_timeout: float = Field(default=30.0, gt=0, le=600)
    # transcribe finished recordings offline, with the engine of the call's language
    transcribe: bool = True
    transcription: TranscriptionSettings = TranscriptionSettings()

    @field_validator("options")
    @classmethod
    def _options(cls, value: str) -> str:
        if not _MIXMONITOR_OPTIONS.match(value):
            raise ValueError(f"{value!r} is not a list of MixMonitor options (e.g. b, bW(1))")
        return value

    @field_validator("queues")
    @classmethod
    def _queue_options(cls, value: dict[str, str]) -> dict[str, str]:
        for queue, options in value.items():
            if not _MIXMONITOR_OPTIONS.match(options):
                raise ValueError(f"queue {queue!r}: {options!r} is not MixMonitor options or off")
        return value

    @field_validator("asterisk_folder")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_absolute():
            raise ValueError("must be an absolute path on the Asterisk host (e.g. /srv/recordings)")
        return value

    def options_for(self, queue: str) -> str | None:
        """MixMonitor's options for a call of `queue`; None: that queue is not recorded."""
        options = self.queues.get(queue, self.options)
        return None if not self.enabled or options == "off" else options


class PrivacySettings(_Section):
    """How long callers' identity (number, name, e-mail, typed digits, speech transcript) is kept
    (docs/privacy.md): the city's data protection officer sets these; the defaults follow what
    Polish city contact centres publish in their information notices."""

    # a call without a ticket: its caller's identity is cleared this many days after the call
    calls_days: int = Field(default=180, ge=1, le=3650)
    # a ticket (a matter) and the calls it came from: this many days after the ticket was taken
    tickets_days: int = Field(default=730, ge=1, le=3650)
    # the scheduled purge (once an hour, one process of the installation); `kck privacy purge`
    # runs it by hand either way
    purge: bool = True


class MailSettings(_Section):
    """Outgoing e-mail (docs/units.md): units' links to their matters, answers to residents."""

    # smtp: a mail server; file: each message an .eml file in `folder` (development, the demo)
    gateway: Literal["smtp", "file"] = "smtp"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_timeout_s: float = Field(default=20.0, gt=0, le=300)
    folder: Path = Path("var/mail")
    sender: str = "Kontakt Centrum Miasta <kontakt@localhost>"
    # the address units open their links at (the TLS proxy's, in production)
    public_url: str = "http://127.0.0.1:8080"
    # HMAC key of the units' links; empty: kck makes one in var/unit-links.secret and keeps it
    link_secret: SecretStr = SecretStr("")
    link_days: int = Field(default=30, ge=1, le=365)

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class SMSSettings(_Section):
    """SMS to residents (docs/deployment.md, "SMS gateway"): which gateway, and how to talk to it."""

    # none: no SMS (messages wait in the outbox); http: an HTTP gateway; file: each message a
    # file in `folder` (development, the demo)
    gateway: Literal["none", "http", "file"] = "none"
    url: str = ""  # the gateway's send endpoint (http)
    # the header that authorises a request and its whole value ("Bearer …"); empty: none sent
    auth_header: str = "Authorization"
    auth_token: SecretStr = SecretStr("")
    body: Literal["json", "form"] = "json"
    # the request's fields; each value a template of {to} (E.164), {text}, {sender}, {key}
    fields: dict[str, str] = {"to": "{to}", "text": "{text}", "from": "{sender}"}
    # where the gateway's message id is in its JSON answer (dotted: "data.id"); empty: not kept
    id_field: str = "id"
    sender: str = "KCK"
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    # Polish letters written without diacritics (GSM-7: 160 characters a segment, not 70)
    plain_polish: bool = True
    folder: Path = Path("var/sms")

    @model_validator(mode="after")
    def _http_needs_url(self) -> SMSSettings:
        if self.gateway == "http" and not self.url.startswith(("http://", "https://")):
            raise ValueError("gateway http needs `url` (http:// or https://): the send endpoint")
        for name, template in self.fields.items():
            try:
                template.format(to="", text="", sender="", key="")
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(
                    f"fields.{name}: {template!r} uses an unknown placeholder ({exc}); "
                    "known: {to} {text} {sender} {key}"
                ) from None
        return self


class Open311Settings(_Section):
    """The Open311 GeoReport v2 API for the city portal and the app (docs/open311.md)."""

    # the jurisdiction a client may name (`jurisdiction_id`); another one is answered 404
    jurisdiction_id: str = "krakow.pl"
    # a POST with the same service, text and place from the same client within this many
    # seconds is the same request sent again: it gets the first one's matter
    resend_window_s: int = Field(default=600, ge=0, le=86400)
    # the most requests GET requests answers with (the spec's default is 1000)
    max_requests: int = Field(default=1000, ge=1, le=10000)
    # GET requests without dates covers this many days back (the spec's default is 90)
    default_days: int = Field(default=90, ge=1, le=3650)
    # a request is forwarded at once to its category's units when there are at most this many
    # (config/units.yaml); a category with more stays `new` for an agent to choose the units
    max_units: int = Field(default=3, ge=0, le=50)


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
    recordings: RecordingSettings = RecordingSettings()
    privacy: PrivacySettings = PrivacySettings()
    asterisk: AsteriskSettings = AsteriskSettings()
    trunk: TrunkSettings = TrunkSettings()
    mail: MailSettings = MailSettings()
    sms: SMSSettings = SMSSettings()
    open311: Open311Settings = Open311Settings()
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

    def retention_warnings(self) -> list[str]:
        """Retention settings that work but contradict each other (`kck check-config` and
        `kck serve` say them); each names the settings to change."""
        out = []
        privacy, recordings = self.privacy, self.recordings
        longest = max([recordings.retention_days, *recordings.retention.values()])
        if longest > privacy.tickets_days:
            out.append(
                f"recordings are kept up to {longest} days (recordings.retention_days / "
                f"recordings.retention), longer than the callers' identity on tickets "
                f"(privacy.tickets_days: {privacy.tickets_days}): a recording is the caller's voice"
            )
        if privacy.tickets_days < privacy.calls_days:
            out.append(
                f"privacy.tickets_days ({privacy.tickets_days}) is shorter than privacy.calls_days "
                f"({privacy.calls_days}): a caller with a ticket is forgotten before one without"
            )
        return out

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
    def sounds_dir(self) -> Path:
        """kck's sounds folder on this host: `kck prompts build` writes it, validation reads it."""
        return self.path(self.paths.sounds)

    @property
    def asterisk_sounds_dir(self) -> Path:
        """The same folder as Asterisk sees it: every sound path sent to Asterisk starts here."""
        return self.asterisk.sounds if self.asterisk.sounds is not None else self.sounds_dir

    @property
    def recordings_dir(self) -> Path:
        """Call recordings on this host (kck reads, checks and deletes them here)."""
        return self.path(self.recordings.folder)

    @property
    def asterisk_recordings_dir(self) -> Path:
        """The same folder as Asterisk sees it: MixMonitor is told to write there."""
        folder = self.recordings.asterisk_folder
        return folder if folder is not None else self.recordings_dir

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
        # the variable that set this key or a list holding it (KCK_TRUNK_MATCH → trunk.match.1)
        variable = next(
            (
                env_origin[prefix]
                for n in range(len(loc), 0, -1)
                if (prefix := ".".join(str(p) for p in loc[:n])) in env_origin
            ),
            None,
        )
        if variable is not None:
            source = f"environment {variable}"
        else:
            pos = position_of(raw, loc)
            source = str(pos) if pos else str(file)
        reason = first["msg"]
        if first["type"] == "extra_forbidden":
            reason = "no such setting"
        raise SettingsError(key, source, reason) from None


def settings_from(args: Any, overrides: Mapping[str, Any] | None = None) -> Settings:
    """The settings of a `kck` command: its `--config FILE` if given, else the usual lookup."""
    path = Path(args.config) if getattr(args, "config", None) else None
    return load_settings(path, overrides=overrides)
