"""SIP addresses as kck's configuration accepts them (the trunk's host, agents' static contacts)."""

from __future__ import annotations

import re

_USER = r"[A-Za-z0-9_.!~*'()&=+$,?/%-]+"
_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?"
_HOST_PORT = re.compile(rf"^(?P<host>{_HOST})(?::(?P<port>[0-9]{{1,5}}))?$")
# sip:[user@]host[:port]: no parameters, no IPv6 brackets (';' and '[' would break pjsip.conf)
_SIP_URI = re.compile(rf"^sip:(?:{_USER}@)?(?P<host>{_HOST})(?::(?P<port>[0-9]{{1,5}}))?$")
SIP_URI_FORM = "sip:[user@]host[:port], e.g. sip:101@10.0.0.21:5060"


def _host_of(found: re.Match[str] | None) -> str | None:
    if found is None or (found.group("port") and not 0 < int(found.group("port")) < 65536):
        return None
    return found.group("host")


def sip_uri_host(uri: str) -> str | None:
    """The host of `sip:[user@]host[:port]`; None when `uri` is not of that form."""
    return _host_of(_SIP_URI.match(uri))


def is_host_port(value: str) -> bool:
    """`sip.operator.pl`, `192.0.2.10:5060`: a SIP server as `server_uri=sip:<value>` takes it."""
    return _host_of(_HOST_PORT.match(value)) is not None


def is_sip_user(value: str) -> bool:
    """A SIP user name (the trunk's `username`): no spaces, '@', ';', brackets or quotes."""
    return re.fullmatch(_USER, value) is not None
