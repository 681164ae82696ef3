"""The address of the person behind a request: the peer, or behind a trusted reverse proxy the
address it forwarded (`http.trusted_proxies`); used by sign-in throttling and the audit log."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import web

from agentdesk.keys import services_key

MAX_ADDRESS_LENGTH = 64


def _trusted(address: str, proxies: Sequence[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in proxies)


def client_address(request: web.Request) -> str:
    """Only a trusted proxy's X-Forwarded-For counts: anyone else could write any address."""
    peer = request.remote or "?"
    proxies = request.app[services_key].settings.http.trusted_proxies
    if not _trusted(peer, proxies):
        return peer
    forwarded = ",".join(request.headers.getall("X-Forwarded-For", []))
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):  # the nearest hop our proxies did not add
        if not _trusted(hop, proxies):
            return hop[:MAX_ADDRESS_LENGTH]
    return peer
