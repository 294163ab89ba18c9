"""Webhook URL policy, failure classes, signatures and retry policy. No traffic leaves the process: hosts are
IP literals, `localhost` (the hosts file) or names under the reserved `.invalid` TLD."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import socket
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest

from notifications.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    MAX_ATTEMPTS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    PolicyResolver,
    WebhookAddressRefused,
    WebhookHostUnresolved,
    WebhookPolicy,
    WebhookURLRefused,
    check_url,
    delivery_body,
    delivery_connector,
    delivery_headers,
    failure_class,
    outcome,
    parse_allow_list,
    resolve_allowed,
    retry_delay,
    service_policy,
    sign,
    verify,
)

API_PORT, DB_PORT, TEMPORAL_PORT, TEMPORAL_UI_PORT = 8080, 5432, 7233, 8233
OWN_PORTS = frozenset({API_PORT, DB_PORT, TEMPORAL_PORT, TEMPORAL_UI_PORT})
DEFAULT = WebhookPolicy(allow=(), own_ports=OWN_PORTS)
# An allow-list naming every non-public network the cases below use.
OPEN_PRIVATE = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,fc00::/7,203.0.113.0/24"
ALLOWING = WebhookPolicy(allow=parse_allow_list(OPEN_PRIVATE), own_ports=OWN_PORTS)

# (url, refused with that allow-list, refused by default, a word the reason must contain)
CASES = [
    ("https://1.1.1.1/hook", False, False, None),
    ("https://203.0.113.7/hook", False, True, "not a public address"),
    ("http://8.8.8.8:9000/hook", False, False, None),
    ("https://[2001:4860:4860::8888]/hook", False, False, None),
    ("ftp://203.0.113.7/hook", True, True, "http or https"),
    ("javascript:alert(1)", True, True, "http or https"),
    ("file:///etc/passwd", True, True, "http or https"),
    ("http:///path-only", True, True, "host"),
    ("http://user:pw@203.0.113.7/", True, True, "password"),
    ("http://user@203.0.113.7/", True, True, "user name"),
    ("http://203.0.113.7:99999/", True, True, "port"),
    ("http://203.0.113.7:0/", True, True, "port"),
    ("http://203.0.113.7:http/", True, True, "port"),
    ("http://203.0.113.7/a b", True, True, "spaces"),
    ("http://[::1/", True, True, "valid URL"),
    ("http://169.254.169.254/latest/meta-data", True, True, "metadata"),
    ("http://169.254.10.1/", True, True, "link-local"),
    ("http://[::ffff:169.254.169.254]/", True, True, "metadata"),
    ("http://[64:ff9b::a9fe:a9fe]/", True, True, "metadata"),
    ("http://[fd00:ec2::254]/", True, True, "metadata"),
    ("http://100.100.100.200/", True, True, "metadata"),
    ("http://[fe80::1]/", True, True, "link-local"),
    ("http://0.0.0.0:9000/", True, True, "unspecified"),
    ("http://[::]:9000/", True, True, "unspecified"),
    ("http://224.0.0.1/", True, True, "multicast"),
    ("http://[ff02::1]/", True, True, "multicast"),
    ("http://240.0.0.1/", True, True, "reserved"),
    ("http://255.255.255.255/", True, True, "reserved"),
    ("http://2130706433/", True, True, "dotted"),
    ("http://127.1:9000/", True, True, "dotted"),
    (f"http://127.0.0.1:{API_PORT}/", True, True, "this service"),
    (f"http://127.0.0.1:{DB_PORT}/", True, True, "this service"),
    (f"http://127.0.0.1:{TEMPORAL_PORT}/", True, True, "this service"),
    (f"http://127.0.0.1:{TEMPORAL_UI_PORT}/", True, True, "this service"),
    (f"http://127.8.9.10:{DB_PORT}/", True, True, "this service"),
    (f"http://[::1]:{TEMPORAL_PORT}/", True, True, "this service"),
    (f"http://[::ffff:127.0.0.1]:{DB_PORT}/", True, True, "this service"),
    (f"http://localhost:{DB_PORT}/", True, True, "this service"),
    ("http://127.0.0.1:9000/hook", False, True, "loopback"),
    ("http://[::1]:9000/hook", False, True, "loopback"),
    ("http://localhost:9000/hook", False, True, "loopback"),
    ("http://127.0.0.1/hook", False, True, "loopback"),
    ("http://10.0.0.5/", False, True, "private"),
    ("http://172.16.4.2/", False, True, "private"),
    ("http://192.168.1.10:8443/", False, True, "private"),
    ("http://100.64.0.1/", False, True, "private"),
    ("http://[fd12:3456::1]/", False, True, "private"),
    ("http://[::ffff:10.0.0.5]/", False, True, "private"),
    ("http://no-such-host.invalid/hook", True, True, "resolve"),
]


@pytest.mark.parametrize(("url", "refused", "refused_strict", "word"), CASES)
async def test_check_url(url: str, refused: bool, refused_strict: bool, word: str | None) -> None:
    for policy, expected in ((ALLOWING, refused), (DEFAULT, refused_strict)):
        reasons = await check_url(url, policy)
        assert bool(reasons) is expected, (url, policy, reasons)
        if reasons:
            assert word is not None
            assert any(word in r for r in reasons), (url, reasons)
            assert all(r and r[0].islower() for r in reasons), reasons


async def test_several_problems_are_all_reported() -> None:
    reasons = await check_url("ftp://user:pw@203.0.113.7/", ALLOWING)
    assert any("http or https" in r for r in reasons)
    assert any("password" in r for r in reasons)


async def test_resolve_allowed_returns_addresses_or_raises() -> None:
    assert await resolve_allowed("https://1.1.1.1/hook", DEFAULT) == ["1.1.1.1"]
    assert "127.0.0.1" in await resolve_allowed("http://localhost:9000/", ALLOWING)
    with pytest.raises(WebhookURLRefused) as refused:
        await resolve_allowed("http://169.254.169.254/", DEFAULT)
    assert "metadata" in refused.value.reasons[0]
    # A host that does not resolve now is a connection error at delivery: retried, not failed.
    with pytest.raises(WebhookHostUnresolved) as unresolved:
        await resolve_allowed("https://no-such-host.invalid/", DEFAULT)
    assert isinstance(unresolved.value, OSError)
    assert not isinstance(unresolved.value, WebhookURLRefused)


def test_policy_from_settings() -> None:
    settings = SimpleNamespace(port=9090, webhook_allow="")
    policy = WebhookPolicy.from_settings(settings, database_port=55432, temporal_ports=[7233, 8233])
    assert policy == WebhookPolicy(allow=(), own_ports=frozenset({9090, 55432, 7233, 8233}))
    listed = SimpleNamespace(port=9090, webhook_allow="10.1.2.0/24, 127.0.0.1:9000")
    assert WebhookPolicy.from_settings(
        listed, database_port=None, temporal_ports=()
    ) == WebhookPolicy(allow=parse_allow_list("10.1.2.0/24,127.0.0.1:9000"), own_ports={9090})
    with pytest.raises(SystemExit, match="REVIEWFLOW_WEBHOOK_ALLOW"):
        WebhookPolicy.from_settings(
            SimpleNamespace(port=9090, webhook_allow="10.1.2.0/33"),
            database_port=None,
            temporal_ports=(),
        )


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_default_policy_refuses_private_networks_and_loopback() -> None:
    settings = SimpleNamespace(port=8080, database_url=None, webhook_allow="")
    policy = service_policy(settings, "127.0.0.1:7233")
    for url in (
        "http://10.0.0.1/",
        f"http://127.0.0.1:{_unused_port()}/",
        f"http://localhost:{_unused_port()}/",
        "http://[fc00::1]/",
        "http://100.64.0.1/",
        "http://172.17.0.1:2375/containers/prune",
        "http://192.168.1.1/",
        "http://[::ffff:10.0.0.1]/",
    ):
        assert await check_url(url, policy), url
    assert await check_url("https://1.1.1.1/hook", policy) == []


async def test_the_allow_list_admits_exactly_what_it_names() -> None:
    policy = WebhookPolicy(
        allow=parse_allow_list("10.1.2.0/24,127.0.0.1:9000,[fd00::/8]:8443,::1"),
        own_ports=OWN_PORTS,
    )
    admitted = (
        "http://10.1.2.7/",
        "http://10.1.2.255:8443/",
        "http://127.0.0.1:9000/hook",
        "https://[fd00::5]:8443/",
        "http://[::1]:9999/",
        "http://[::ffff:10.1.2.9]/",
    )
    refused = (
        "http://10.1.3.1/",
        "http://127.0.0.1:9001/hook",
        "http://127.0.0.2:9000/hook",
        "https://[fd00::5]/",
        "http://[fc00::5]:8443/",
        "http://100.64.0.1/",
        # Naming a network never opens this service's own ports on it.
        f"http://10.1.2.7:{DB_PORT}/",
        f"http://[::1]:{TEMPORAL_PORT}/",
        # Nor what is always refused.
        "http://169.254.169.254/",
    )
    for url in admitted:
        assert await check_url(url, policy) == [], url
    for url in refused:
        assert await check_url(url, policy), url


@pytest.mark.parametrize(
    "entry", ["10.1.2.0/33", "10.1.2.1/24", "127.0.0.1:0", "127.0.0.1:http", "[::1", "x", "[::1]x"]
)
def test_an_allow_list_entry_that_is_not_understood_is_an_error(entry: str) -> None:
    with pytest.raises(ValueError, match=r"must|not an IP network|write"):
        parse_allow_list(f"10.0.0.0/8,{entry}")


@pytest.mark.parametrize(
    ("address", "port"),
    [("127.0.0.1:7300", 7300), ("temporal.internal", 7233), ("[::1]:7400", 7400), ("[::1]", 7233)],
)
def test_the_temporal_port_is_off_limits_whatever_the_address_looks_like(
    address: str, port: int
) -> None:
    settings = SimpleNamespace(port=8080, database_url=None, webhook_allow="")
    assert port in service_policy(settings, address).own_ports


def test_the_image_sets_nothing_that_opens_private_networks() -> None:
    dockerfile = (Path(__file__).parent.parent / "docker" / "Dockerfile").read_text()
    assert "REVIEWFLOW_WEBHOOK_ALLOW" not in dockerfile


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (200, None, None),
        (302, None, "http_3xx"),
        (404, None, "http_4xx"),
        (503, None, "http_5xx"),
        (None, TimeoutError(), "timeout"),
        (None, WebhookURLRefused("http://10.0.0.1/", ["private"]), "refused_by_policy"),
        (None, WebhookHostUnresolved("x.invalid", "no"), "dns"),
        (
            None,
            ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 9)"),
            "connection_refused",
        ),
        (None, ConnectionResetError(104, "reset"), "connection_error"),
    ],
)
def test_failure_classes(status: int | None, error: BaseException | None, expected: str) -> None:
    assert failure_class(status, error) == expected


async def test_failure_classes_of_real_connections() -> None:
    """What aiohttp raises for a refused connection and for the policy's refusal."""
    async with aiohttp.ClientSession(connector=delivery_connector(DEFAULT)) as session:
        with pytest.raises(aiohttp.ClientError) as refused:
            await session.post("http://localhost:9000/hook", allow_redirects=False)
        assert failure_class(None, refused.value) == "refused_by_policy"
    async with aiohttp.ClientSession(connector=delivery_connector(ALLOWING)) as session:
        with pytest.raises(aiohttp.ClientError) as closed:
            await session.post(f"http://127.0.0.1:{_unused_port()}/", allow_redirects=False)
        assert failure_class(None, closed.value) == "connection_refused"


async def test_resolver_checks_at_connection_time() -> None:
    resolver = PolicyResolver(ALLOWING)
    try:
        results = await resolver.resolve("localhost", 9000)
        assert {r["host"] for r in results} <= {"127.0.0.1", "::1"}
        with pytest.raises(WebhookAddressRefused):
            await resolver.resolve("localhost", DB_PORT)
    finally:
        await resolver.close()
    async with aiohttp.ClientSession(connector=delivery_connector(DEFAULT)) as session:
        with pytest.raises(aiohttp.ClientConnectorError) as refused:
            await session.post("http://localhost:9000/hook", allow_redirects=False)
        assert isinstance(refused.value.os_error, WebhookAddressRefused)


# ---- signatures --------------------------------------------------------------------------

SECRET = "s3cret-value"
BODY = b'{"id":"d1","event":{"type":"report.published"}}'


def test_sign_matches_hmac_of_timestamp_and_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1_700_000_000, BODY) == "sha256=" + expected


def test_sign_verify_round_trip() -> None:
    ts = 1_700_000_000
    signature = sign(SECRET, ts, BODY)
    assert verify(SECRET, ts, BODY, signature, now=ts + 10)
    assert verify(SECRET, str(ts), BODY, signature, now=ts - 10)


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "now"),
    [
        (SECRET, 1_700_000_000, BODY.replace(b"published", b"cancelled"), 1_700_000_000),
        ("other-secret", 1_700_000_000, BODY, 1_700_000_000),
        (SECRET, 1_700_000_001, BODY, 1_700_000_000),
        (SECRET, 1_700_000_000, BODY, 1_700_000_000 + 301),
        (SECRET, 1_700_000_000, BODY, 1_700_000_000 - 301),
    ],
    ids=["tampered-body", "wrong-secret", "other-timestamp", "too-old", "from-the-future"],
)
def test_verify_refuses(secret: str, timestamp: int, body: bytes, now: int) -> None:
    signature = sign(SECRET, 1_700_000_000, BODY)
    assert not verify(secret, timestamp, body, signature, now=now)


def test_verify_refuses_garbage() -> None:
    assert not verify(SECRET, "not-a-number", BODY, sign(SECRET, 1, BODY), now=1)
    assert not verify(SECRET, 1, BODY, "sha256=é", now=1)
    assert not verify(SECRET, 1, BODY, "", now=1)


def test_delivery_body_and_headers() -> None:
    event = {
        "id": "e1",
        "type": "report.published",
        "review_id": "r1",
        "at": "2026-01-02T03:04:05+00:00",
        "actor_id": None,
        "data": {"title": "ECE 2026"},
    }
    delivery = "7d3c2f0e-5b1a-4c1e-9a53-0b8f6d1e2a4c"
    body = delivery_body(delivery, event)
    assert json.loads(body) == {"id": delivery, "event": event}
    headers = delivery_headers(
        secret=SECRET, delivery=delivery, event_type="report.published", body=body, timestamp=42
    )
    assert headers[DELIVERY_HEADER] == delivery
    assert headers[EVENT_HEADER] == "report.published"
    assert headers[TIMESTAMP_HEADER] == "42"
    assert verify(SECRET, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER], now=42)


# ---- retries -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, "sent"),
        (204, "sent"),
        (301, "failed"),
        (400, "failed"),
        (404, "failed"),
        (408, "retry"),
        (429, "retry"),
        (500, "retry"),
        (503, "retry"),
        (None, "retry"),
    ],
)
def test_outcome(status: int | None, expected: str) -> None:
    assert outcome(status) == expected


def test_retry_delay_grows_and_is_capped() -> None:
    delays = [retry_delay(n) for n in range(1, 20)]
    assert delays[:4] == [5, 10, 20, 40]
    assert all(a < b for a, b in itertools.pairwise(delays) if b < 3600)
    assert max(delays) == 3600 == delays[-1]
    assert retry_delay(10_000) == 3600
    assert MAX_ATTEMPTS == 10
    with pytest.raises(ValueError):
        retry_delay(0)


def test_retry_delay_jitter_is_deterministic_and_bounded() -> None:
    for n in range(1, 15):
        jittered = retry_delay(n, "delivery-1")
        assert jittered == retry_delay(n, "delivery-1")
        assert retry_delay(n) / 2 <= jittered <= retry_delay(n)
    assert retry_delay(3, "delivery-1") != retry_delay(3, "delivery-2")
