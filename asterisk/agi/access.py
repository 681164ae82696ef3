"""Which peers may open FastAGI connections: the configured Asterisk addresses and networks."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ClientAllowList:
    """IPs and CIDRs allowed to connect; IPv4-mapped IPv6 peers are matched as IPv4."""

    def __init__(self, entries: Sequence[str]) -> None:
        if isinstance(entries, str):
            raise TypeError("allowed_clients must be a sequence of addresses, not one string")
        if not entries:
            raise ValueError("allowed_clients is empty: no Asterisk could connect to FastAGI")
        networks: list[_Network] = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError as exc:
                raise ValueError(f"allowed_clients entry {entry!r} is not an IP or CIDR") from exc
        self.networks: tuple[_Network, ...] = tuple(networks)

    def allows(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)
