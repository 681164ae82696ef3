"""The ``agi_*`` environment block Asterisk sends at the start of every FastAGI connection."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from asterisk.agi.errors import AGIProtocolError
from kck.edge_values import printable

_UNKNOWN = "unknown"


@dataclass(frozen=True)
class AGIEnvironment:
    """Parsed ``agi_*`` block; ``agi_arg_N`` lines become ``args`` in order."""

    request: str
    network_script: str
    channel: str
    uniqueid: str
    language: str
    callerid: str | None
    calleridname: str | None
    dnid: str | None
    rdnis: str | None
    context: str
    extension: str
    priority: str
    accountcode: str
    threadid: str
    args: tuple[str, ...]
    raw: Mapping[str, str]

    @property
    def route(self) -> str:
        """The route key: the script path without leading slash and without ``?query``."""
        return self.network_script.split("?", 1)[0].strip("/")


def _known(value: str | None) -> str | None:
    # Asterisk writes "unknown" for absent caller id / DNID / RDNIS.
    if value is None or value == "" or value == _UNKNOWN:
        return None
    return value


def parse_environment_line(line: str, *, line_no: int) -> tuple[str, str]:
    """Split one ``agi_key: value`` line; raises AGIProtocolError naming the line."""
    key, sep, value = line.partition(":")
    if not sep or not key.startswith("agi_") or " " in key:
        raise AGIProtocolError(
            f"AGI environment line {line_no} is not 'agi_<name>: <value>': {line[:80]!r}"
        )
    if value.startswith(" "):
        value = value[1:]
    # the names, and most values (type, language, context, priority, version...), are the same
    # on every call: one string each in the process while calls use it
    return sys.intern(key[len("agi_") :]), sys.intern(printable(value))  # NUL from SIP: stops here


def build_environment(values: Mapping[str, str], *, copy: bool = True) -> AGIEnvironment:
    """Make the typed environment from ``{name_without_agi_prefix: value}``; `copy=False`: the
    caller hands the dict over (nobody changes it after), kept as `raw` without a copy."""
    args: list[str] = []
    index = 1
    while f"arg_{index}" in values:
        args.append(values[f"arg_{index}"])
        index += 1
    get = values.get
    return AGIEnvironment(
        request=get("request", ""),
        network_script=get("network_script", ""),
        channel=get("channel", ""),
        uniqueid=get("uniqueid", ""),
        language=get("language", ""),
        callerid=_known(get("callerid")),
        calleridname=_known(get("calleridname")),
        dnid=_known(get("dnid")),
        rdnis=_known(get("rdnis")),
        context=get("context", ""),
        extension=get("extension", ""),
        priority=get("priority", ""),
        accountcode=get("accountcode", ""),
        threadid=get("threadid", ""),
        args=tuple(args),
        raw=MappingProxyType(dict(values) if copy or not isinstance(values, dict) else values),
    )
