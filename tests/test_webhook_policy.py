"""Webhook URL policy, signatures and retry policy. No traffic leaves the process: hosts are
IP literals, `localhost` (the hosts file) or names under the reserved `.invalid` TLD."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
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
    outcome,
    resolve_allowed,
    retry_delay,
    sign,
    verify,
)

API_PORT, DB_PORT, TEMPORAL_PORT, TEMPORAL_UI_PORT = 8080, 5432, 7233, 8233
OWN_PORTS = frozenset({API_PORT, DB_PORT, TEMPORAL_PORT, TEMPORAL_UI_PORT})
DEFAULT = WebhookPolicy(deny_private=False, own_ports=OWN_PORTS)
STRICT = WebhookPolicy(deny_private=True, own_ports=OWN_PORTS)

# (url, refused by default, refused with deny_private, a word the reason must contain)
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
    for policy, expected in ((DEFAULT, refused), (STRICT, refused_strict)):
        reasons = await check_url(url, policy)
        assert bool(reasons) is expected, (url, policy, reasons)
        if reasons:
            assert word is not None
            assert any(word in r for r in reasons), (url, reasons)
            assert all(r and r[0].islower() for r in reasons), reasons


async def test_several_problems_are_all_reported() -> None:
    reasons = await check_url("ftp://user:pw@203.0.113.7/", DEFAULT)
    assert any("http or https" in r for r in reasons)
    assert any("password" in r for r in reasons)


async def test_resolve_allowed_returns_addresses_or_raises() -> None:
    assert await resolve_allowed("https://1.1.1.1/hook", STRICT) == ["1.1.1.1"]
    assert "127.0.0.1" in await resolve_allowed("http://localhost:9000/", DEFAULT)
    with pytest.raises(WebhookURLRefused) as refused:
        await resolve_allowed("http://169.254.169.254/", DEFAULT)
    assert "metadata" in refused.value.reasons[0]
    # A host that does not resolve now is a connection error at delivery: retried, not failed.
    with pytest.raises(WebhookHostUnresolved) as unresolved:
        await resolve_allowed("https://no-such-host.invalid/", DEFAULT)
    assert isinstance(unresolved.value, OSError)
    assert not isinstance(unresolved.value, WebhookURLRefused)


def test_policy_from_settings() -> None:
    settings = SimpleNamespace(port=9090)
    policy = WebhookPolicy.from_settings(
        settings, database_port=55432, temporal_ports=[7233, 8233], env={}
    )
    assert policy == WebhookPolicy(
        deny_private=False, own_ports=frozenset({9090, 55432, 7233, 8233})
    )
    strict = WebhookPolicy.from_settings(
        settings,
        database_port=None,
        temporal_ports=(),
        env={"REVIEWFLOW_WEBHOOK_DENY_PRIVATE": "1"},
    )
    assert strict == WebhookPolicy(deny_private=True, own_ports=frozenset({9090}))


async def test_resolver_checks_at_connection_time() -> None:
    resolver = PolicyResolver(DEFAULT)
    try:
        results = await resolver.resolve("localhost", 9000)
        assert {r["host"] for r in results} <= {"127.0.0.1", "::1"}
        with pytest.raises(WebhookAddressRefused):
            await resolver.resolve("localhost", DB_PORT)
    finally:
        await resolver.close()
    async with aiohttp.ClientSession(connector=delivery_connector(STRICT)) as session:
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
