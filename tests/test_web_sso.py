"""Single sign-on for staff against a real OpenID provider: panva's oidc-provider, run by node
from tests/oidc (its packages installed by `make test`, or `npm ci --prefix tests/oidc`),
driven in chromium from reviewflow's sign-in page through the provider's own login and consent
forms and back."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import shutil
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser, BrowserContext, Page
from temporalio.client import Client

from api.app import create_app
from config.settings import OidcSettings, Settings, load_settings
from services import sso
from tests.browser import assert_accessible, needs_chromium
from tests.conftest import Account
from tests.processes import free_port
from web.sessions import SESSION_COOKIE
from web.sso import PENDING_COOKIE

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(
    NODE is None,
    reason="single sign-on tests skipped: node is not installed (apt-get install nodejs)",
)

CLIENT_ID = "reviewflow-tests"
CLIENT_SECRET = "a-client-secret-for-the-tests-only-0123456789"
LABEL = "UN Staff Login"
BUTTON = f"Sign in with {LABEL}"
# Each login of the provider's form, and the claims the provider vouches for.
PROVIDER_ACCOUNTS = {
    "secretariat": {"email": "Sso-Secretariat@staff.example.org", "email_verified": True},
    "admin": {"email": "sso-admin@staff.example.org", "email_verified": True},
    "unverified": {"email": "sso-unverified@staff.example.org", "email_verified": False},
    "nobody": {"email": "sso-nobody@staff.example.org", "email_verified": True},
    "focal": {"email": "sso-focal@gov.example.org", "email_verified": True},
    "gone": {"email": "sso-gone@staff.example.org", "email_verified": True},
}
STARTUP_S = 30.0


@dataclass
class SsoSite:
    """reviewflow with single sign-on, at `url`, and the provider at `issuer`."""

    url: str
    issuer: str
    settings: Settings
    pool: asyncpg.Pool
    accounts: dict[str, Account]


async def _start_provider(tmp: Path, redirect_uri: str) -> tuple[asyncio.subprocess.Process, str]:
    if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("the test OpenID provider is not installed: run npm ci --prefix tests/oidc")
    config = tmp / "provider.json"
    client = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uri": redirect_uri}
    config.write_text(json.dumps({"port": 0, "client": client, "accounts": PROVIDER_ACCOUNTS}))
    assert NODE is not None
    process = await asyncio.create_subprocess_exec(
        NODE,
        str(OIDC_DIR / "provider.js"),
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), STARTUP_S)
        issuer = json.loads(line)["issuer"]
    except (TimeoutError, ValueError, KeyError):
        process.kill()
        await process.wait()
        pytest.fail(f"the test OpenID provider did not start: {line!r}")
    return process, issuer


@pytest.fixture(scope="module")
async def sso_site(
    tmp_path_factory: pytest.TempPathFactory,
    pool: asyncpg.Pool,
    temporal_client: Client,
    make_account: Any,
    admin: Account,
    api: TestClient[Any, Any],
) -> AsyncIterator[SsoSite]:
    if NODE is None:
        pytest.skip(needs_node.kwargs["reason"])
    tmp = tmp_path_factory.mktemp("sso")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process, issuer = await _start_provider(tmp, f"{url}{sso.CALLBACK_PATH}")
    try:
        settings = load_settings(
            {
                "REVIEWFLOW_DATA_DIR": str(tmp),
                "TEMPORAL_TASK_QUEUE": "reviewflow-test",
                "REVIEWFLOW_PUBLIC_URL": url,
                "REVIEWFLOW_OIDC_ISSUER": issuer,
                "REVIEWFLOW_OIDC_CLIENT_ID": CLIENT_ID,
                "REVIEWFLOW_OIDC_CLIENT_SECRET": CLIENT_SECRET,
                "REVIEWFLOW_OIDC_LABEL": LABEL,
            }
        )
        accounts = {
            # Matched whatever the case of the address.
            "secretariat": await make_account(
                "secretariat",
                name="Sofia Staff",
                regions=("ECE",),
                email="sso-secretariat@staff.example.org",
            ),
            "admin": await make_account(
                "admin", name="Ada Admin", email=PROVIDER_ACCOUNTS["admin"]["email"]
            ),
            "unverified": await make_account(
                "secretariat", regions=("ECE",), email=PROVIDER_ACCOUNTS["unverified"]["email"]
            ),
            "focal": await make_account(
                "focal_point", country="DEU", email=PROVIDER_ACCOUNTS["focal"]["email"]
            ),
            "gone": await make_account(
                "secretariat", regions=("ECE",), email=PROVIDER_ACCOUNTS["gone"]["email"]
            ),
        }
        off = await api.post(f"/v1/actors/{accounts['gone'].id}/deactivate", headers=admin.headers)
        assert off.status == 204
        app = create_app(settings, pool=pool, temporal=temporal_client)
        async with TestClient(TestServer(app, host="127.0.0.1", port=port)):
            yield SsoSite(url, issuer, settings, pool, accounts)
    finally:
        process.kill()
        await process.wait()


async def _fresh_context(browser: Browser, sso_site: SsoSite) -> BrowserContext:
    """A fresh browser (no cookies, at reviewflow or the provider) that reaches nothing but
    this machine (the provider's pages ask for a web font)."""
    opened = await browser.new_context(base_url=sso_site.url)
    await opened.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda r: r.abort())
    return opened


@pytest.fixture
async def context(browser: Browser, sso_site: SsoSite) -> AsyncIterator[BrowserContext]:
    opened = await _fresh_context(browser, sso_site)
    yield opened
    await opened.close()


# Shadows conftest's `page`, which opens the session's own site, without single sign-on.
@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


async def _at_provider(page: Page, sso_site: SsoSite, login: str, start: str = "/sign-in") -> None:
    """From reviewflow's page `start`, through the button to the provider's forms, filled as
    `login`, up to (not including) the provider's last answer, which sends the browser back."""
    await page.goto(start)
    await page.get_by_role("link", name=BUTTON).click()
    await page.wait_for_url(f"{sso_site.issuer}/interaction/**")
    await page.locator('input[name="login"]').fill(login)
    await page.locator('input[name="password"]').fill("any password")
    await page.get_by_role("button", name="Sign-in").click()
    await page.get_by_role("button", name="Continue").wait_for()


async def _back(page: Page) -> int:
    """Consent at the provider; the status of reviewflow's answer to the browser's return."""
    async with page.expect_response(lambda r: sso.CALLBACK_PATH in r.url) as answer:
        await page.get_by_role("button", name="Continue").click()
    await page.wait_for_load_state()
    return (await answer.value).status


async def _sessions(pool: asyncpg.Pool, account: Account) -> int:
    return int(
        await pool.fetchval(
            "SELECT count(*) FROM web_sessions WHERE actor_id = $1", account.actor.id
        )
    )


async def _held_return(page: Page, sso_site: SsoSite, login: str) -> str:
    """Go through the provider as `login`, but come back without the flow's cookie: refused,
    so the code is not used. The address the provider sent the browser back to (with the code
    and the state); the flow's cookie is then set again."""
    await _at_provider(page, sso_site, login)
    kept = await _pending_cookie(page.context)
    await page.context.clear_cookies(name=PENDING_COOKIE)
    async with page.expect_response(lambda r: sso.CALLBACK_PATH in r.url) as answer:
        await page.get_by_role("button", name="Continue").click()
    returned = await answer.value
    assert returned.status == 422
    await _set_pending(page.context, sso_site, kept)
    return returned.url


async def _set_pending(context: BrowserContext, sso_site: SsoSite, value: str) -> None:
    await context.add_cookies([{"name": PENDING_COOKIE, "value": value, "url": sso_site.url}])


async def _pending_cookie(context: BrowserContext) -> str:
    [cookie] = [c for c in await context.cookies() if c["name"] == PENDING_COOKIE]
    return cookie["value"]


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


def _main_text(page: Page) -> Awaitable[str]:
    return page.locator("main").inner_text()


@pytest.mark.parametrize(
    ("login", "name"), [("secretariat", "Sofia Staff"), ("admin", "Ada Admin")]
)
@needs_node
@needs_chromium
async def test_staff_sign_in_with_the_provider(
    page: Page, context: BrowserContext, sso_site: SsoSite, login: str, name: str
) -> None:
    account = sso_site.accounts[login]
    before = await _sessions(sso_site.pool, account)
    # A page for staff, asked for signed out: the sign-in page, then back there.
    await page.goto("/reviews")
    await page.wait_for_url(lambda url: urlsplit(url).path == "/sign-in")
    assert parse_qs(urlsplit(page.url).query)["next"] == ["/reviews"]
    await assert_accessible(page)
    await _at_provider(page, sso_site, login, start=page.url)
    assert await _back(page) == 303
    await page.wait_for_url(f"{sso_site.url}/reviews")
    assert await page.get_by_role("heading", level=1).inner_text() == "Reviews"
    assert f"Signed in as {name}" in await page.locator("footer").inner_text()
    assert await _sessions(sso_site.pool, account) == before + 1
    names = {c["name"] for c in await context.cookies(sso_site.url)}
    assert SESSION_COOKIE in names and PENDING_COOKIE not in names


@pytest.mark.parametrize(
    ("login", "explained"),
    [
        ("unverified", "has not confirmed that the address sso-unverified@staff.example.org"),
        ("nobody", "No active account of this service has the address sso-nobody@"),
        ("gone", "No active account of this service has the address sso-gone@"),
        ("focal", "Single sign-on is for secretariat and administrator accounts only"),
    ],
)
@needs_node
@needs_chromium
async def test_the_provider_s_word_alone_opens_no_account(
    page: Page, sso_site: SsoSite, login: str, explained: str
) -> None:
    await _at_provider(page, sso_site, login)
    assert await _back(page) == 403
    assert await page.get_by_role("heading", level=1).inner_text() == "You could not sign in"
    assert explained in await _main_text(page)
    await assert_accessible(page)
    assert not await _signed_in(page)
    if login in sso_site.accounts:
        assert await _sessions(sso_site.pool, sso_site.accounts[login]) == 0
    await page.get_by_role("link", name="Go to the sign-in page").click()
    await page.wait_for_url("**/sign-in")


async def _signed_in(page: Page) -> bool:
    answer = await page.request.get("/tasks", max_redirects=0)
    return answer.status == 200


async def _refused_on_return(page: Page, url: str) -> str:
    answer = await page.goto(url)
    assert answer is not None and answer.status == 422
    assert await page.get_by_role("heading", level=1).inner_text() == "You could not sign in"
    assert not await _signed_in(page)
    return await _main_text(page)


@needs_node
@needs_chromium
async def test_a_tampered_state_or_issuer_or_a_used_state_is_refused(
    page: Page, context: BrowserContext, sso_site: SsoSite
) -> None:
    returned = await _held_return(page, sso_site, "secretariat")
    kept = await _pending_cookie(context)
    # An answer that names another provider as its issuer (a mix-up): not sent on.
    other_issuer = _with_query(returned, iss="https://other.example.org")
    assert "could not be checked" in await _refused_on_return(page, other_issuer)
    await _set_pending(context, sso_site, kept)
    tampered = _with_query(returned, state="someone-else-s-state")
    assert "Start again from the sign-in page" in await _refused_on_return(page, tampered)
    # That return ended the flow: the true state, after it, is refused too.
    assert "did not start on this browser" in await _refused_on_return(page, returned)


@needs_node
@needs_chromium
async def test_a_replayed_code_or_a_wrong_nonce_is_refused(
    browser: Browser,
    page: Page,
    context: BrowserContext,
    sso_site: SsoSite,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="services.sso")
    oidc = sso_site.settings.oidc
    assert oidc is not None
    # A wrong nonce: the flow's cookie sealed again (as only the server could) with another.
    returned = await _held_return(page, sso_site, "secretariat")
    pending = sso.unseal(oidc, await _pending_cookie(context))
    assert pending is not None
    await _set_pending(context, sso_site, sso.seal(oidc, replace(pending, nonce="not-the-nonce")))
    assert "could not be checked" in await _refused_on_return(page, returned)
    assert "nonce" in _refusal_logged(caplog)

    # A code used once, sent again with its own flow's cookie: the provider refuses it.
    other = await _fresh_context(browser, sso_site)
    try:
        second = await other.new_page()
        returned = await _held_return(second, sso_site, "secretariat")
        kept = await _pending_cookie(other)
        await second.goto(returned)
        await second.wait_for_url(f"{sso_site.url}/tasks")
        await other.clear_cookies()
        await _set_pending(other, sso_site, kept)
        assert "could not be checked" in await _refused_on_return(second, returned)
        assert "invalid_grant" in _refusal_logged(caplog)
    finally:
        await other.close()


@needs_node
async def test_the_button_speaks_each_language(sso_site: SsoSite) -> None:
    expected = {
        "en": f"Sign in with {LABEL}",
        "fr": f"Se connecter avec {LABEL}",
        "es": f"Iniciar sesión con {LABEL}",
        "ru": f"Войти через {LABEL}",
        "zh": f"通过 {LABEL} 登录",
        "ar": f"تسجيل الدخول عبر {LABEL}",
    }
    async with aiohttp.ClientSession() as client:
        for language, button in expected.items():
            answer = await client.get(
                f"{sso_site.url}/sign-in?next=/reviews", headers={"Accept-Language": language}
            )
            html = await answer.text()
            assert (
                f'<a class="button button--secondary" href="/sign-in/sso?next=%2Freviews">{button}</a>'
                in html
            ), language


@needs_node
async def test_a_provider_that_names_another_issuer_is_not_used(
    sso_site: SsoSite, pool: asyncpg.Pool, temporal_client: Client
) -> None:
    # Configured with a final slash the provider's discovery document does not have.
    oidc = sso_site.settings.oidc
    assert oidc is not None
    settings = replace(sso_site.settings, oidc=replace(oidc, issuer=f"{sso_site.issuer}/"))
    app = create_app(settings, pool=pool, temporal=temporal_client)
    async with TestClient(TestServer(app)) as client:
        answer = await client.get("/sign-in/sso", allow_redirects=False)
        assert answer.status == 503 and answer.headers["Retry-After"] == "60"
        assert "cannot be reached at the moment" in await answer.text()
        assert PENDING_COOKIE not in answer.cookies


def _refusal_logged(caplog: pytest.LogCaptureFixture) -> str:
    """The last reason a flow was refused for, as logged for the operator."""
    refusals = [
        r.getMessage() for r in caplog.records if "single sign-on refused" in r.getMessage()
    ]
    caplog.clear()
    return refusals[-1]


async def test_without_a_provider_configured_there_is_no_button(
    api: TestClient[Any, Any],
) -> None:
    form = await api.get("/sign-in")
    assert form.status == 200
    html = await form.text()
    assert "Sign in with" not in html and "/sign-in/sso" not in html
    for path in ("/sign-in/sso", sso.CALLBACK_PATH + "?code=x&state=y"):
        assert (await api.get(path, allow_redirects=False)).status == 404


OIDC = OidcSettings("https://login.example.org", CLIENT_ID, CLIENT_SECRET)


def test_a_sealed_flow_is_refused_when_edited_resealed_elsewhere_or_old() -> None:
    pending = sso.Pending("state", "nonce", "verifier", "/reviews", started_at=1000.0)
    sealed = sso.seal(OIDC, pending)
    assert sso.unseal(OIDC, sealed, now=1000.0 + sso.PENDING_SECONDS) == pending
    assert sso.unseal(OIDC, sealed, now=1001.0 + sso.PENDING_SECONDS) is None
    other = sso.seal(replace(OIDC, client_secret="another-secret"), pending)
    body, _, mac = sealed.partition(".")
    edited = sso.seal(OIDC, replace(pending, state="other")).split(".")[0] + "." + mac
    for bad in (other, edited, body, "", "..", "x.y", None):
        assert sso.unseal(OIDC, bad, now=1000.0) is None


@pytest.mark.parametrize(
    ("env", "said"),
    [
        (
            {"REVIEWFLOW_OIDC_ISSUER": "https://login.example.org"},
            "REVIEWFLOW_OIDC_CLIENT_ID, REVIEWFLOW_OIDC_CLIENT_SECRET not set",
        ),
        (
            {
                "REVIEWFLOW_OIDC_ISSUER": "http://login.example.org",
                "REVIEWFLOW_OIDC_CLIENT_ID": "x",
                "REVIEWFLOW_OIDC_CLIENT_SECRET": "y",
            },
            "REVIEWFLOW_OIDC_ISSUER must be the provider's https address",
        ),
    ],
)
def test_an_incomplete_or_insecure_configuration_is_one_clear_line(
    env: dict[str, str], said: str, tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as refused:
        load_settings({"REVIEWFLOW_DATA_DIR": str(tmp_path), **env})
    message = str(refused.value)
    assert said in message and "\n" not in message


def test_the_settings_never_show_the_client_secret(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "REVIEWFLOW_DATA_DIR": str(tmp_path),
            "REVIEWFLOW_OIDC_ISSUER": "https://login.example.org/realms/staff/",
            "REVIEWFLOW_OIDC_CLIENT_ID": CLIENT_ID,
            "REVIEWFLOW_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        }
    )
    # The issuer as written: its tokens name it so, a final slash included.
    assert settings.oidc == OidcSettings(
        "https://login.example.org/realms/staff/", CLIENT_ID, CLIENT_SECRET, None
    )
    assert CLIENT_SECRET not in repr(settings)
