"""Who a request comes from: the peer of its connection, or, when that peer is a reverse proxy
the operator trusts (REVIEWFLOW_TRUSTED_PROXIES), the client the proxies' X-Forwarded-For
names.

Each proxy appends the address it was reached from, so the header is read from the right:
trusted proxies are passed over and the first address that is not one is the client; what
lies left of it was written by that client and proves nothing. A header too long, too many
hops of trusted proxies or an entry that is not an address stops the walk, and the peer is
the client: such a request is limited together with the proxy's, never given a bucket of
its own choosing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import web

from api.keys import SETTINGS
from config.settings import Network

# Far longer than a real chain of proxies writes (16 IPv6 addresses are under 700 characters).
MAX_FORWARDED_LENGTH = 2048
# Trusted proxies passed over at most, one behind another.
MAX_HOPS = 16

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # A server listening on both families sees IPv4 peers as ::ffff:a.b.c.d.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, proxies: Sequence[Network]) -> bool:
    return any(address in network for network in proxies)


def forwarded_client(
    peer: str | None, forwarded_for: Sequence[str], proxies: Sequence[Network]
) -> str | None:
    """The client's address, given the connection's `peer`, the X-Forwarded-For header lines
    in the order received and the trusted proxies' networks."""
    peer_address = _address(peer) if peer else None
    if peer_address is None:
        return peer
    if not _trusted(peer_address, proxies):
        return str(peer_address)
    header = ",".join(forwarded_for)
    if not header or len(header) > MAX_FORWARDED_LENGTH:
        return str(peer_address)
    entries = header.split(",")
    client = peer_address
    for entry in reversed(entries[-MAX_HOPS:]):
        address = _address(entry)
        if address is None:
            return str(peer_address)
        if not _trusted(address, proxies):
            return str(address)
        client = address
    # Only trusted proxies: within the bound, the first of them is a client of the trusted
    # network itself; past it, the chain is not believed.
    return str(client if len(entries) <= MAX_HOPS else peer_address)


def client_address(request: web.Request) -> str | None:
    """The address of the client that sent `request` (None if the connection has none, as
    on a Unix socket)."""
    return forwarded_client(
        request.remote,
        request.headers.getall("X-Forwarded-For", []),
        request.app[SETTINGS].trusted_proxies,
    )
