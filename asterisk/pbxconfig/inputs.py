"""Plain inputs for the shipped Asterisk configuration, validated so nothing can break the files."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit


class ConfigInputError(ValueError):
    """An input would produce a broken or unsafe Asterisk configuration; names the field."""


_SAFE = re.compile(r"^[^\r\n;\[\]]*$")  # no line breaks, comments or section headers
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_EXTEN = re.compile(r"^[0-9]{2,15}$")


def _check(
    field_name: str,
    value: str,
    pattern: re.Pattern[str] = _SAFE,
    what: str = "must not contain line breaks, ';', '[' or ']'",
) -> None:
    if not pattern.match(value):
        raise ConfigInputError(f"{field_name}={value!r}: {what}")


def derive_sip_password(master_secret: str, extension: str) -> str:
    """A phone's SIP password derived from one secret kept outside the repository (e.g. the
    environment), so `config/agents.yaml` never holds passwords: HMAC-SHA256, 24 characters."""
    if len(master_secret) < 12:
        raise ConfigInputError("SIP master secret: must have 12+ characters")
    digest = hmac.new(
        master_secret.encode(), f"kck-sip:{extension}".encode(), hashlib.sha256
    ).digest()
    return base64.b32encode(digest).decode().rstrip("=").lower()[:24]


@dataclass(frozen=True)
class AgentPhone:
    """An agent's PJSIP phone: endpoint/extension `101`, its SIP password, the agent's name.

    `static_contact` (e.g. `sip:101@10.0.0.21:5060`) replaces registration for desk phones
    provisioned with a fixed address.
    """

    extension: str
    name: str
    password: str
    static_contact: str | None = None

    def __post_init__(self) -> None:
        _check("agent.extension", self.extension, _EXTEN, "must be 2-15 digits")
        _check(f"agent {self.extension}: name", self.name)
        if '"' in self.name:
            raise ConfigInputError(f"agent {self.extension}: name must not contain '\"'")
        _check(f"agent {self.extension}: password", self.password)
        if len(self.password) < 8:
            raise ConfigInputError(f"agent {self.extension}: password must have 8+ characters")
        if self.static_contact is not None:
            _check(f"agent {self.extension}: static_contact", self.static_contact)
            if not self.static_contact.startswith("sip:"):
                raise ConfigInputError(f"agent {self.extension}: static_contact must be a sip: URI")


@dataclass(frozen=True)
class TrunkTemplate:
    """The operator's SIP trunk bringing the hotline in; rendered as a ready-to-edit template."""

    name: str = "kck-trunk"
    host: str = "sip.operator.example"
    username: str = "kck"
    password: str = "CHANGE-ME"
    register: bool = True
    match: str = ""  # IP/CIDR the operator's INVITEs come from

    def __post_init__(self) -> None:
        _check("trunk.name", self.name, _NAME, "letters, digits, '_', '.', '-' only")
        for name in ("host", "username", "password", "match"):
            _check(f"trunk.{name}", getattr(self, name))


@dataclass(frozen=True)
class AsteriskConfigInputs:
    """Everything the renderer needs; the lead builds this from the kck settings object."""

    ami_secret: str
    agi_urls: tuple[str, ...] = ("agi://127.0.0.1:4573/ivr",)
    hotline: str = "126165555"
    agents: tuple[AgentPhone, ...] = ()
    ami_user: str = "kck"
    ami_permit: tuple[str, ...] = ("127.0.0.1/255.255.255.255",)
    ami_bind: str = "127.0.0.1"
    ami_port: int = 5038
    ami_allow_command: bool = False
    trunk: TrunkTemplate = field(default_factory=TrunkTemplate)
    fallback_queue: str = "kck-fallback"
    fallback_ring_seconds: int = 15
    fallback_max_wait: int = 600
    inbound_context: str = "kck-inbound"
    agent_context: str = "kck-agents"
    dial_timeout: int = 20
    moh_directory: str = "moh"
    sip_port: int = 5060

    def __post_init__(self) -> None:
        _check("hotline", self.hotline, _EXTEN, "must be 2-15 digits")
        _check("ami_user", self.ami_user, _NAME, "letters, digits, '_', '.', '-' only")
        _check("ami_secret", self.ami_secret)
        if len(self.ami_secret) < 12:
            raise ConfigInputError("ami_secret: must have 12+ characters")
        if not self.agi_urls:
            raise ConfigInputError("agi_urls: at least one FastAGI URL is needed")
        for url in self.agi_urls:
            _check("agi_urls", url)
            parts = urlsplit(url)
            if parts.scheme not in ("agi", "hagi") or not parts.hostname or "," in url:
                raise ConfigInputError(f"agi_urls: {url!r} is not agi://host[:port]/script")
        for permit in self.ami_permit:
            _check(
                "ami_permit",
                permit,
                re.compile(r"^[0-9.:a-fA-F]+(/[0-9.:a-fA-F]+)?$"),
                "must be IP[/mask]",
            )
        for name in ("fallback_queue", "inbound_context", "agent_context"):
            _check(name, getattr(self, name), _NAME, "letters, digits, '_', '.', '-' only")
        _check("moh_directory", self.moh_directory)
        seen: set[str] = set()
        for agent in self.agents:
            if agent.extension in seen:
                raise ConfigInputError(f"agents: extension {agent.extension} appears twice")
            seen.add(agent.extension)
        if self.hotline in seen:
            raise ConfigInputError(f"agents: extension {self.hotline} is the hotline number")
        for name in ("fallback_ring_seconds", "fallback_max_wait", "dial_timeout"):
            if getattr(self, name) <= 0:
                raise ConfigInputError(f"{name}: must be > 0")
