"""Plain inputs for the shipped Asterisk configuration, validated so nothing can break the files."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from kck.sip import SIP_URI_FORM, is_host_port, sip_uri_host


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
        if self.static_contact is not None and sip_uri_host(self.static_contact) is None:
            raise ConfigInputError(
                f"agent {self.extension}: static_contact={self.static_contact!r}: "
                f"must be a SIP URI {SIP_URI_FORM}"
            )


@dataclass(frozen=True)
class OperatorTrunk:
    """The operator's SIP trunk (the kck settings' `trunk` section): the hotline comes in, callbacks
    and transfers go out as `PJSIP/<number>@<name>`.

    `host` empty: nothing is dialled out and nothing registers; calls still come in from `match`.
    `match` (addresses/networks the operator's INVITEs come from) becomes the `type=identify`
    section; without it Asterisk rejects every INVITE ("No matching endpoint found").
    """

    name: str = "kck-trunk"
    host: str = ""
    username: str = ""
    password: str = ""
    register: bool = False
    match: tuple[str, ...] = ()
    # OPTIONS every qualify_s seconds; 0 = never. A contact found unreachable gets no calls
    # (callbacks fail "No route to destination") until a later OPTIONS is answered.
    qualify_s: int = 60

    def __post_init__(self) -> None:
        _check("trunk.name", self.name, _NAME, "letters, digits, '_', '.', '-' only")
        if self.qualify_s < 0:
            raise ConfigInputError(f"trunk.qualify_s={self.qualify_s}: must be 0 (off) or more")
        if self.host and not is_host_port(self.host):
            raise ConfigInputError(f"trunk.host={self.host!r}: must be host or host:port")
        for name in ("username", "password"):
            _check(f"trunk.{name}", getattr(self, name))
        if self.password and not self.username:
            raise ConfigInputError("trunk.username: needed with trunk.password")
        if self.register and self.host and not self.username:
            raise ConfigInputError("trunk.username: needed to register (trunk.register)")
        for item in self.match:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ConfigInputError(
                    f"trunk.match={item!r}: not an IP address or network"
                ) from None

    @property
    def registers(self) -> bool:
        return self.register and bool(self.host)

    def covers(self, address: str) -> str | None:
        """The `match` entry that takes INVITEs from `address` for the trunk, if any."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None  # a host name: Asterisk resolves it, we cannot tell
        for item in self.match:
            if ip in ipaddress.ip_network(item, strict=False):
                return item
        return None


@dataclass(frozen=True)
class AsteriskConfigInputs:
    """Everything the renderer needs; the lead builds this from the kck settings object."""

    ami_secret: str
    agi_urls: tuple[str, ...] = ("agi://127.0.0.1:4573/ivr",)
    # several controllers: each new call starts with the next URL in turn (then fails over in
    # order) instead of always with the first; False = the first while it can be reached
    agi_spread: bool = False
    hotline: str = "126165555"
    agents: tuple[AgentPhone, ...] = ()
    ami_user: str = "kck"
    ami_permit: tuple[str, ...] = ("127.0.0.1/255.255.255.255",)
    ami_bind: str = "127.0.0.1"
    ami_port: int = 5038
    ami_allow_command: bool = False
    trunk: OperatorTrunk = field(default_factory=OperatorTrunk)
    fallback_queue: str = "kck-fallback"
    fallback_ring_seconds: int = 15
    fallback_max_wait: int = 600
    inbound_context: str = "kck-inbound"
    agent_context: str = "kck-agents"
    consult_context: str = "kck-consult"
    dial_timeout: int = 20
    moh_directory: str = "moh"
    sip_port: int = 5060

    @property
    def agi_orders(self) -> list[tuple[str, ...]]:
        """The orders in which the dialplan tries the FastAGI URLs: one (as listed), or with
        `agi_spread` one per starting URL (the list rotated)."""
        urls = self.agi_urls
        starts = range(len(urls)) if self.agi_spread else range(1)
        return [urls[i:] + urls[:i] for i in starts]

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
        for name in ("fallback_queue", "inbound_context", "agent_context", "consult_context"):
            _check(name, getattr(self, name), _NAME, "letters, digits, '_', '.', '-' only")
        _check("moh_directory", self.moh_directory)
        seen: set[str] = set()
        for agent in self.agents:
            if agent.extension in seen:
                raise ConfigInputError(f"agents: extension {agent.extension} appears twice")
            seen.add(agent.extension)
        if self.hotline in seen:
            raise ConfigInputError(f"agents: extension {self.hotline} is the hotline number")
        for agent in self.agents:
            host = sip_uri_host(agent.static_contact or "")
            covering = self.trunk.covers(host) if host else None
            if covering:
                raise ConfigInputError(
                    f"trunk.match {covering} covers agent {agent.extension}'s phone "
                    f"({agent.static_contact}): Asterisk would take its calls for the operator's "
                    "(identify by address wins over user name); narrow trunk.match"
                )
        if not 1 <= self.sip_port <= 65535:
            raise ConfigInputError(f"sip_port: {self.sip_port} is not a port")
        for name in ("fallback_ring_seconds", "fallback_max_wait", "dial_timeout"):
            if getattr(self, name) <= 0:
                raise ConfigInputError(f"{name}: must be > 0")
