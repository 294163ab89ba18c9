"""Clients behind a reverse proxy: X-Forwarded-For is believed only from trusted proxies, read
from the right, and a header that cannot be believed leaves the connection's peer as the
client. Seen through the rate limits over real HTTP: two requests are one client exactly when
they share a budget."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from multidict import CIMultiDict
from temporalio.client import Client

from api.app import create_app
from api.clients import MAX_FORWARDED_LENGTH, MAX_HOPS, forwarded_client
from config.settings import Settings, load_settings
from services.signin import REQUESTS_PER_CLIENT, TOO_MANY_MESSAGE
from tests.test_api_basics import assert_problem
from tests.web_site import ask_for_link, email_address

# The test server's clients connect from here: the proxy, when it is trusted.
PROXY = "127.0.0.1/32"
INNER_PROXIES = "10.0.0.0/8"
BURST = 3
Forwarded = str | list[str] | None


def networks(text: str) -> tuple[Any, ...]:
    return load_settings({"REVIEWFLOW_TRUSTED_PROXIES": text}).trusted_proxies


# ---- settings -------------------------------------------------------------------------------


def test_trusted_proxies_are_read_as_networks() -> None:
    assert load_settings({}).trusted_proxies == ()
    assert networks(" 127.0.0.1/32, 10.0.0.0/8,,::1, 2001:db8::/32 ") == (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
        ipaddress.ip_network("2001:db8::/32"),
    )


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("127.0.0.1/32,proxy.internal", "'proxy.internal'"),
        ("10.0.0.1/8", "10.0.0.1/8 has host bits set"),
        ("10.0.0.0/33", "'10.0.0.0/33'"),
        ("10.0.0.0/8;192.168.0.0/16", "'10.0.0.0/8;192.168.0.0/16'"),
    ],
)
def test_a_bad_trusted_proxy_stops_the_start_naming_it(value: str, named: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        load_settings({"REVIEWFLOW_TRUSTED_PROXIES": value})
    message = str(stopped.value)
    assert message.startswith("REVIEWFLOW_TRUSTED_PROXIES must be")
    assert named in message and "\n" not in message


# ---- the walk, without a server -------------------------------------------------------------


def test_the_client_is_the_rightmost_address_that_is_no_trusted_proxy() -> None:
    trusted = networks(f"{PROXY},{INNER_PROXIES},fd00::/8")

    def walk(peer: str | None, *lines: str) -> str | None:
        return forwarded_client(peer, list(lines), trusted)

    assert walk("127.0.0.1", "192.0.2.1, 203.0.113.5, 10.0.0.2") == "203.0.113.5"
    assert walk("::ffff:127.0.0.1", "2001:db8::7, fd00::1") == "2001:db8::7"
    assert walk("127.0.0.1", "192.0.2.1", "10.0.0.2") == "192.0.2.1"
    # Every hop a trusted one: the first is a machine of the trusted network itself.
    assert walk("127.0.0.1", "10.0.0.9, 10.0.0.2") == "10.0.0.9"
    # More trusted hops than believable, an address with a port: the peer.
    assert walk("127.0.0.1", ", ".join(["10.0.0.1"] * (MAX_HOPS + 1))) == "127.0.0.1"
    assert walk("127.0.0.1", "192.0.2.1:4711") == "127.0.0.1"
    # An untrusted peer's header is never read; no peer (a Unix socket) stays none.
    assert walk("192.0.2.50", "203.0.113.5") == "192.0.2.50"
    assert walk(None, "203.0.113.5") is None
    assert forwarded_client("127.0.0.1", ["203.0.113.5"], ()) == "127.0.0.1"


# ---- the API's rate limit over HTTP ---------------------------------------------------------


@pytest.fixture
def limited(
    settings: Settings, pool: asyncpg.Pool, temporal_client: Client
) -> Callable[[str], AbstractAsyncContextManager[TestClient[Any, Any]]]:
    """The API trusting the proxies listed, allowing each client BURST requests, then one
    every 10 s."""

    @asynccontextmanager
    async def serve(trusted: str) -> AsyncIterator[TestClient[Any, Any]]:
        limits = replace(
            settings, rate_limit=0.1, rate_burst=BURST, trusted_proxies=networks(trusted)
        )
        app = create_app(limits, pool=pool, temporal=temporal_client)
        async with TestClient(TestServer(app)) as client:
            yield client

    return serve


def forwarded(value: Forwarded) -> CIMultiDict[str]:
    """X-Forwarded-For as one header line, several, or none."""
    lines = [] if value is None else [value] if isinstance(value, str) else value
    return CIMultiDict(("X-Forwarded-For", line) for line in lines)


async def anonymous(client: TestClient[Any, Any], value: Forwarded) -> int:
    """The status of a request without a token, that is: 401 while within its client's
    budget, 429 past it; never a 5xx."""
    response = await client.get("/v1/regions", headers=forwarded(value))
    await assert_problem(response, response.status)
    assert response.status in (401, 429), response.status
    return response.status


async def spend(client: TestClient[Any, Any], value: Forwarded) -> None:
    for _ in range(BURST):
        assert await anonymous(client, value) == 401


async def test_an_untrusted_peer_cannot_forge_its_address(limited: Any) -> None:
    for trusted in ("", INNER_PROXIES):
        async with limited(trusted) as api:
            await spend(api, "203.0.113.1")
            # Another forged address, or none: the same peer, the same spent budget.
            assert await anonymous(api, "203.0.113.2") == 429
            assert await anonymous(api, None) == 429


async def test_behind_a_trusted_proxy_each_client_has_its_own_budget(limited: Any) -> None:
    async with limited(PROXY) as api:
        await spend(api, "203.0.113.1")
        assert await anonymous(api, "203.0.113.1") == 429
        assert await anonymous(api, "203.0.113.2") == 401
        assert await anonymous(api, "2001:db8::1") == 401
        # The proxy itself, asking without a header, is a client apart.
        assert await anonymous(api, None) == 401


async def test_a_chain_of_proxies_is_read_from_the_right(limited: Any) -> None:
    async with limited(f"{PROXY},{INNER_PROXIES}") as api:
        await spend(api, "192.0.2.1, 203.0.113.7, 10.1.2.3")
        # What the client wrote left of itself changes nothing; nor do the lines the proxies
        # split the header into.
        assert await anonymous(api, "198.51.100.9, 203.0.113.7, 10.9.9.9") == 429
        assert await anonymous(api, ["192.0.2.1", "203.0.113.7", "10.1.2.3"]) == 429
        assert await anonymous(api, "203.0.113.7") == 429
        # The address the client forged is a client of its own, that one untouched.
        assert await anonymous(api, "192.0.2.1, 10.1.2.3") == 401


GARBAGE: list[Forwarded] = [
    "not-an-address",
    "203.0.113.1, proxy.internal",
    "203.0.113.1,",
    ",,,",
    "",
    "203.0.113.1:8080",
    "[2001:db8::1]",
    "1" * (MAX_FORWARDED_LENGTH + 1),
    "203.0.113.1, " + ", ".join(f"10.0.0.{n}" for n in range(1, MAX_HOPS + 1)),
    ["203.0.113.1", "x" * MAX_FORWARDED_LENGTH],
]


async def test_a_header_that_cannot_be_believed_leaves_the_proxy_as_the_client(
    limited: Any,
) -> None:
    async with limited(f"{PROXY},{INNER_PROXIES}") as api:
        # Each spends from the one budget of the proxy: past BURST of them, all are refused.
        statuses = [await anonymous(api, value) for value in GARBAGE]
        assert statuses == [401] * BURST + [429] * (len(GARBAGE) - BURST)
        assert await anonymous(api, None) == 429
        assert await anonymous(api, "203.0.113.1") == 401


# ---- the sign-in limit over HTTP ------------------------------------------------------------


@pytest.fixture
async def sign_in_site(
    settings: Settings, pool: asyncpg.Pool, temporal_client: Client
) -> Callable[[str], AbstractAsyncContextManager[TestClient[Any, Any]]]:
    await pool.execute("DELETE FROM sign_in_requests")

    @asynccontextmanager
    async def serve(trusted: str) -> AsyncIterator[TestClient[Any, Any]]:
        unlimited = replace(settings, rate_limit=0.0, trusted_proxies=networks(trusted))
        app = create_app(unlimited, pool=pool, temporal=temporal_client)
        async with TestClient(TestServer(app)) as client:
            yield client

    return serve


def browser_at(site: TestClient[Any, Any], address: str) -> aiohttp.ClientSession:
    """A browser of its own whose requests the proxy forwards from `address`."""
    return aiohttp.ClientSession(
        base_url=str(site.make_url("/")),
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        headers={"X-Forwarded-For": address},
    )


async def asked(browser: aiohttp.ClientSession) -> int:
    response = await ask_for_link(browser, email_address())
    assert response.status in (303, 429), response.status
    if response.status == 429:
        assert TOO_MANY_MESSAGE in await response.text()
    return response.status


async def test_sign_in_links_are_limited_per_client_behind_a_trusted_proxy(
    sign_in_site: Any,
) -> None:
    async with sign_in_site(PROXY) as site:
        async with browser_at(site, "203.0.113.21") as first:
            for _ in range(REQUESTS_PER_CLIENT):
                assert await asked(first) == 303
            assert await asked(first) == 429
        async with browser_at(site, "203.0.113.22") as second:
            assert await asked(second) == 303


async def test_sign_in_links_are_limited_per_peer_without_a_trusted_proxy(
    sign_in_site: Any,
) -> None:
    async with sign_in_site(INNER_PROXIES) as site:
        for n in range(REQUESTS_PER_CLIENT):
            async with browser_at(site, f"203.0.113.{n + 1}") as forged:
                assert await asked(forged) == 303
        async with browser_at(site, "198.51.100.1") as forged:
            assert await asked(forged) == 429
