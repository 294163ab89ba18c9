"""Webhooks: which URLs may be called, how deliveries are signed, when they are retried.

URL policy. Only public addresses are reachable by default: loopback, private, carrier-grade
NAT, unique-local and other non-public addresses are refused unless the operator's allow-list
(`REVIEWFLOW_WEBHOOK_ALLOW`, see `parse_allow_list`) names them, and this service's own ports
are refused on them whatever the list says. A subscription's URL is checked when it is registered (`check_url`, a refusal is a
422 with the reasons) and again right before every delivery attempt (`resolve_allowed`), since
the policy may have changed and a hostname may resolve elsewhere by then. Every address a host
resolves to must pass, not just one. Deliveries are sent through `delivery_connector`, whose
resolver applies the same rules to the addresses the HTTP client actually connects to, so a
hostname that resolves to a public address at the check and to a forbidden one a moment later
(DNS rebinding) is still refused. IP-literal URLs bypass the client's resolver, which is safe
because their address cannot change between the check and the connection.

Signing. The receiver gets `X-Reviewflow-Timestamp` (Unix seconds) and
`X-Reviewflow-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>`; signing the
timestamp with the body lets a receiver refuse replays of an old delivery.

Retries. `outcome(status)` says whether an attempt was sent, is retried or failed for good;
`retry_delay(attempt)` is the wait before the next attempt, at most `MAX_ATTEMPTS` in all.
Redirects are not followed. See docs/webhooks.md for the receiver's side.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import socket
import ssl
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from config.settings import DEFAULT_TEMPORAL_PORT, DEFAULT_TEMPORAL_UI_PORT

__all__ = [
    "ALLOW_ENV",
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "MAX_ATTEMPTS",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "AllowedTarget",
    "PolicyResolver",
    "WebhookAddressRefused",
    "WebhookHostUnresolved",
    "WebhookPolicy",
    "WebhookURLRefused",
    "check_url",
    "delivery_body",
    "delivery_connector",
    "delivery_headers",
    "failure_class",
    "outcome",
    "parse_allow_list",
    "resolve_allowed",
    "retry_delay",
    "sign",
    "verify",
]

ALLOW_ENV = "REVIEWFLOW_WEBHOOK_ALLOW"
RESOLVE_TIMEOUT_S = 5.0
MAX_URL_LENGTH = 2048

SIGNATURE_HEADER = "X-Reviewflow-Signature"
DELIVERY_HEADER = "X-Reviewflow-Delivery"
EVENT_HEADER = "X-Reviewflow-Event"
TIMESTAMP_HEADER = "X-Reviewflow-Timestamp"

MAX_ATTEMPTS = 10
RETRY_BASE_S = 5.0
RETRY_FACTOR = 2.0
RETRY_CAP_S = 3600.0

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


# ---- URL policy --------------------------------------------------------------------------


_IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class AllowedTarget:
    """One entry of the allow-list: a network, and the one port it is allowed on (None: any)."""

    network: _IPNetwork
    port: int | None = None

    def admits(self, ip: _IPAddress, port: int) -> bool:
        return ip in self.network and (self.port is None or self.port == port)


def _allow_entry(entry: str) -> AllowedTarget:
    """`10.1.2.0/24`, `10.1.2.3:9000`, `fd00::/8`, `[fd00::/8]:9000` or `[::1]:9000`."""
    port_text: str | None = None
    if entry.startswith("["):
        network_text, bracket, rest = entry[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"{entry!r}: write an IPv6 network with a port as [network]:port")
        port_text = rest[1:] or None
    elif entry.count(":") == 1:
        network_text, _, port_text = entry.partition(":")
    else:
        network_text = entry
    try:
        network = ipaddress.ip_network(network_text, strict=True)
    except ValueError as error:
        raise ValueError(f"{entry!r}: not an IP network in CIDR form ({error})") from None
    if port_text is None:
        return AllowedTarget(network)
    if not port_text.isdecimal() or not 0 < int(port_text) < 65536:
        raise ValueError(f"{entry!r}: the port must be a number from 1 to 65535")
    return AllowedTarget(network, int(port_text))


def parse_allow_list(text: str) -> tuple[AllowedTarget, ...]:
    """The non-public targets webhooks may reach: comma-separated networks in CIDR form (a
    single address is a /32 or /128), each optionally with one port. Raises ValueError naming
    the first entry that is not understood."""
    return tuple(_allow_entry(e.strip()) for e in text.split(",") if e.strip())


@dataclass(frozen=True)
class WebhookPolicy:
    """What a webhook URL may target.

    Public addresses are allowed; loopback, private and other non-public addresses only when
    an entry of `allow` admits them, and never on `own_ports`, the ports of this service (API,
    PostgreSQL, Temporal gRPC and UI): an allow-list that names a network to reach a receiver
    there must not open this service's own endpoints on it.
    """

    allow: tuple[AllowedTarget, ...]
    own_ports: frozenset[int]

    @classmethod
    def from_settings(
        cls, settings: Any, *, database_port: int | None, temporal_ports: Iterable[int]
    ) -> WebhookPolicy:
        """The policy for a running service: its API port (`settings.port`), the database and
        Temporal ports it uses, and the allow-list `settings.webhook_allow`."""
        ports = {settings.port, database_port, *temporal_ports}
        try:
            allow = parse_allow_list(settings.webhook_allow)
        except ValueError as error:
            raise SystemExit(f"{ALLOW_ENV}: {error}") from None
        return cls(
            allow=allow,
            own_ports=frozenset(p for p in ports if p is not None and 0 < p < 65536),
        )


def _port_of(address: str, default: int) -> int:
    """The port of a `host:port` address (`[v6]:port` too), or `default` when it names none."""
    try:
        port = urlsplit(f"//{address}").port
    except ValueError:
        return default
    return port or default


def service_policy(settings: Any, temporal_address: str) -> WebhookPolicy:
    """The policy of this running service: its API port, its database's port (5432 unless the
    URL says otherwise) and its Temporal server's gRPC (7233 unless the address says otherwise)
    and UI ports are off limits."""
    database_port = urlsplit(settings.database_url).port if settings.database_url else None
    return WebhookPolicy.from_settings(
        settings,
        database_port=database_port or 5432,
        temporal_ports=(
            _port_of(temporal_address, DEFAULT_TEMPORAL_PORT),
            DEFAULT_TEMPORAL_UI_PORT,
        ),
    )


class WebhookURLRefused(ValueError):
    """A webhook URL the policy refuses; `reasons` are sentences for the person who set it."""

    def __init__(self, url: str, reasons: list[str]) -> None:
        super().__init__(f"webhook URL {url!r} refused: {'; '.join(reasons)}")
        self.url = url
        self.reasons = reasons


class WebhookHostUnresolved(OSError):
    """A webhook's host could not be resolved (now): refused at subscription, retried like a
    connection error at delivery."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(reason)
        self.host = host
        self.reason = reason


class WebhookAddressRefused(OSError):
    """Raised by `PolicyResolver` when a host resolves to a refused address at connection
    time; aiohttp reports it as a connection error (`aiohttp.ClientConnectorDNSError`)."""

    def __init__(self, host: str, reasons: list[str]) -> None:
        super().__init__(f"webhook host {host!r} refused: {'; '.join(reasons)}")
        self.host = host
        self.reasons = reasons


_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_PRIVATE = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "fc00::/7",
        "fec0::/10",
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: _IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for: IPv4-mapped, NAT64 or 6to4."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def _address_reason(ip: _IPAddress, port: int, policy: WebhookPolicy) -> str | None:
    """Why a connection to `ip`:`port` is refused, or None."""
    embedded = _embedded_ipv4(ip)
    shown = f"{embedded} (written {ip})" if embedded is not None else str(ip)
    if embedded is not None:
        ip = embedded
    if ip.is_unspecified or ip in _THIS_NETWORK:
        return f"resolves to {shown}, an unspecified address"
    if ip in _METADATA or any(ip in net for net in _LINK_LOCAL):
        return f"resolves to {shown}, a link-local or cloud metadata address"
    if ip.is_multicast:
        return f"resolves to {shown}, a multicast address"
    if ip.is_reserved and not ip.is_loopback:
        return f"resolves to {shown}, a reserved address"
    if ip.is_global and not any(ip in net for net in _PRIVATE):
        return None
    if port in policy.own_ports:
        return (
            f"resolves to {shown} on port {port}, a port of this service "
            "(its API, database or Temporal)"
        )
    if any(target.admits(ip, port) for target in policy.allow):
        return None
    if ip.is_loopback:
        kind = "a loopback address"
    elif any(ip in net for net in _PRIVATE):
        kind = "a private address"
    else:
        kind = "not a public address"
    return f"resolves to {shown}, {kind} ({ALLOW_ENV} does not name it on port {port})"


def _parse_ip(text: str) -> _IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_legacy_ipv4(host: str) -> bool:
    """`2130706433`, `127.1`, `0x7f.0.0.1`: forms the C resolver reads as an IPv4 address but
    that are not written as one (HTTP clients refuse them; they mostly serve to disguise)."""
    if _parse_ip(host) is not None:
        return False
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    return True


async def _resolve(host: str, port: int) -> list[_IPAddress]:
    literal = _parse_ip(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(RESOLVE_TIMEOUT_S):
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: dict[_IPAddress, None] = {}
    for _family, _type, _proto, _canon, sockaddr in infos:
        ip = _parse_ip(str(sockaddr[0]))
        if ip is not None:
            found[ip] = None
    return list(found)


async def _evaluate(url: str, policy: WebhookPolicy) -> tuple[list[str], list[_IPAddress]]:
    """The reasons `url` is refused, and the addresses its host resolves to; raises
    `WebhookHostUnresolved` when the host cannot be resolved."""
    if not isinstance(url, str) or not url:
        return ["a URL is required"], []
    if len(url) > MAX_URL_LENGTH:
        return [f"must be at most {MAX_URL_LENGTH} characters long"], []
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return ["must not contain spaces or control characters"], []
    try:
        parts = urlsplit(url)
    except ValueError:
        return ["is not a valid URL"], []
    reasons: list[str] = []
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        reasons.append("must use http or https")
    try:
        host = parts.hostname
        username, password = parts.username, parts.password
    except ValueError:
        return [*reasons, "is not a valid URL"], []
    if not host:
        reasons.append("must name a host")
    if username is not None or password is not None:
        reasons.append("must not contain a user name or password")
    try:
        port = parts.port
    except ValueError:
        reasons.append("has an invalid port (it must be a number from 1 to 65535)")
        port = None
    else:
        if port == 0:
            reasons.append("has an invalid port (it must be a number from 1 to 65535)")
    if host and _is_legacy_ipv4(host):
        reasons.append(f"host {host!r} is not an IPv4 address in dotted form (a.b.c.d)")
    if reasons or not host:
        return reasons, []
    if port is None:
        port = 443 if scheme == "https" else 80
    try:
        addresses = await _resolve(host, port)
    except TimeoutError:
        raise WebhookHostUnresolved(
            host, f"host {host} could not be resolved in {RESOLVE_TIMEOUT_S:g} s"
        ) from None
    except (OSError, UnicodeError) as exc:
        detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise WebhookHostUnresolved(host, f"host {host} could not be resolved ({detail})") from exc
    if not addresses:
        raise WebhookHostUnresolved(host, f"host {host} resolves to no address")
    for ip in addresses:
        reason = _address_reason(ip, port, policy)
        if reason is not None and reason not in reasons:
            reasons.append(reason)
    return reasons, addresses


async def check_url(url: str, policy: WebhookPolicy) -> list[str]:
    """The reasons `url` may not be a webhook target; empty means allowed.

    Resolves the host (a few seconds at most); every address it resolves to must be allowed.
    """
    try:
        reasons, _ = await _evaluate(url, policy)
    except WebhookHostUnresolved as unresolved:
        return [unresolved.reason]
    return reasons


async def resolve_allowed(url: str, policy: WebhookPolicy) -> list[str]:
    """The addresses `url`'s host resolves to, all allowed.

    A sender calls this right before each delivery attempt: a URL accepted at subscription
    may be refused now (the policy changed, or its host resolves elsewhere). Raises
    `WebhookURLRefused` (a ValueError: do not retry) when the URL or an address is refused, and
    `WebhookHostUnresolved` (an OSError, like any connection error: retry) when the host cannot
    be resolved now. The connection itself should go through `delivery_connector`, which checks
    the addresses it actually connects to.
    """
    reasons, addresses = await _evaluate(url, policy)
    if reasons:
        raise WebhookURLRefused(url, reasons)
    return [str(ip) for ip in addresses]


class PolicyResolver(AbstractResolver):
    """An aiohttp resolver that refuses (with `WebhookAddressRefused`) a host that resolves to
    any address the policy forbids, at the moment of connecting: no DNS-rebinding window."""

    def __init__(self, policy: WebhookPolicy) -> None:
        self._policy = policy
        self._resolver = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        async with asyncio.timeout(RESOLVE_TIMEOUT_S):
            results = await self._resolver.resolve(host, port, family)
        reasons: list[str] = []
        for result in results:
            ip = _parse_ip(result["host"])
            reason = (
                f"resolves to {result['host']}, not an IP address"
                if ip is None
                else _address_reason(ip, port, self._policy)
            )
            if reason is not None and reason not in reasons:
                reasons.append(reason)
        if reasons:
            raise WebhookAddressRefused(host, reasons)
        return results

    async def close(self) -> None:
        await self._resolver.close()


def delivery_connector(policy: WebhookPolicy, **kwargs: Any) -> aiohttp.TCPConnector:
    """A connector for webhook deliveries: every hostname is resolved through
    `PolicyResolver` at connection time, with no DNS cache. Use it with
    `allow_redirects=False` and without `trust_env` (a proxy would hide the target)."""
    return aiohttp.TCPConnector(resolver=PolicyResolver(policy), use_dns_cache=False, **kwargs)


# ---- Deliveries and signatures ----------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def delivery_body(delivery: str, event: Mapping[str, Any]) -> bytes:
    """The JSON body of a delivery: `{"id": <delivery id>, "event": {id, type, review_id, at,
    actor_id, data}}`, UTF-8. The delivery id is the delivery log's id for (event, webhook), the
    same on every attempt. Sign these exact bytes and send them unchanged."""
    payload = {
        "id": delivery,
        "event": {
            "id": event["id"],
            "type": event["type"],
            "review_id": event["review_id"],
            "at": event["at"],
            "actor_id": event.get("actor_id"),
            "data": event.get("data") or {},
        },
    }
    return json.dumps(
        payload, separators=(",", ":"), ensure_ascii=False, default=_json_default
    ).encode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=` + hex HMAC-SHA256 of `"<timestamp>." + body` with `secret`."""
    message = f"{int(timestamp)}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    timestamp: int | str,
    body: bytes,
    signature: str,
    *,
    now: float | None = None,
    tolerance_s: float = 300,
) -> bool:
    """Whether `signature` signs `body` at `timestamp` with `secret`, and `timestamp` is within
    `tolerance_s` of `now` (default: the current time)."""
    try:
        ts = int(timestamp)
        given = signature.strip().encode("ascii")
    except (TypeError, ValueError, AttributeError):
        return False
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body).encode("ascii"), given)


def delivery_headers(
    *, secret: str, delivery: str, event_type: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The headers of one delivery attempt (signed now unless `timestamp` is given)."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return {
        "Content-Type": "application/json",
        DELIVERY_HEADER: delivery,
        EVENT_HEADER: event_type,
        TIMESTAMP_HEADER: str(ts),
        SIGNATURE_HEADER: sign(secret, ts, body),
    }


# ---- Retries -----------------------------------------------------------------------------


def retry_delay(attempt: int, delivery: str | None = None) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based) before the next one:
    5 s, 10 s, 20 s, ... doubling, never more than one hour.

    With a `delivery` id the wait is jittered, deterministically from (delivery id, attempt)
    so a workflow replays it identically: uniformly between half the step and the step, which
    spreads receivers' retries apart while keeping the schedule as long as it says.
    """
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt}")
    step = min(RETRY_CAP_S, RETRY_BASE_S * RETRY_FACTOR ** min(attempt - 1, 64))
    if delivery is None:
        return step
    digest = hashlib.sha256(f"{delivery}:{attempt}".encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    return step / 2 + fraction * step / 2


def outcome(status: int | None) -> Literal["sent", "retry", "failed"]:
    """What an attempt's HTTP status means. None is a connection error or a timeout.

    2xx: sent. None, 408, 429 and 5xx: retry (until `MAX_ATTEMPTS`). Anything else, including
    3xx (redirects are not followed) and other 4xx: failed, not retried.
    """
    if status is None or status in (408, 429) or 500 <= status <= 599:
        return "retry"
    if 200 <= status <= 299:
        return "sent"
    return "failed"


# What the delivery log shows of a failed attempt: a class, never the host, port or error
# text, which would let a subscriber map what the sender can reach.
FailureClass = Literal[
    "refused_by_policy",
    "timeout",
    "tls",
    "dns",
    "connection_refused",
    "connection_error",
    "http_3xx",
    "http_4xx",
    "http_5xx",
]


def failure_class(status: int | None, error: BaseException | None = None) -> FailureClass | None:
    """The class of an attempt's failure (None: it succeeded): its HTTP status class, or what
    kind of error kept it from getting one."""
    if error is None:
        if status is None or 200 <= status <= 299:
            return None
        return "http_3xx" if status < 400 else "http_4xx" if status < 500 else "http_5xx"
    cause = getattr(error, "os_error", None)
    if isinstance(error, WebhookURLRefused) or isinstance(cause, WebhookAddressRefused):
        return "refused_by_policy"
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, aiohttp.ClientSSLError | ssl.SSLError):
        return "tls"
    if isinstance(error, WebhookHostUnresolved | aiohttp.ClientConnectorDNSError):
        return "dns"
    if isinstance(cause, ConnectionRefusedError) or isinstance(error, ConnectionRefusedError):
        return "connection_refused"
    return "connection_error"
