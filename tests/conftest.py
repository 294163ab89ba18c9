"""Real services for the tests: PostgreSQL, a Temporal dev server and the API over HTTP.

PostgreSQL is the one `DATABASE_URL` names, or an embedded cluster in a temporary folder;
either way the session works in a database of its own, created here and dropped after.
"""

from __future__ import annotations

import os
import secrets
import socket
import tempfile
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser, Page, async_playwright
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

import api.app
from config.settings import Settings, load_settings
from db.actors import insert_actor, new_token, update_preferences
from db.migrate import migrate_dsn
from db.pool import create_pool
from domain.access import Actor
from reviewflow.embedded import EmbeddedPostgres, find_binary
from tests.browser import CHROMIUM, CHROMIUM_ARGS, needs_chromium
from tests.openapi_check import DRIFTS, checking_answers
from tests.reviews import Review, ece_2020_timeline, review_body, with_database
from tests.web_site import Site, browser_like
from workflows.review import SEARCH_ATTRIBUTES


def _checked_create_app(*args: Any, **kwargs: Any) -> Any:
    return checking_answers(_create_app(*args, **kwargs))


# Every app the tests build, here or in a test module (which imports `create_app` after this
# conftest has run), checks its answers against the OpenAPI document.
_create_app = api.app.create_app
api.app.create_app = _checked_create_app
create_app = _checked_create_app


@pytest.fixture(autouse=True)
def answers_keep_their_declarations() -> Iterator[None]:
    """Fails the test during which the API answered other than its OpenAPI document says."""
    already = len(DRIFTS)
    yield
    if drifts := DRIFTS[already:]:
        pytest.fail("answers that break the OpenAPI document:\n" + "\n".join(drifts))


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any attempt to reach the network fail the test loudly."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)


@pytest.fixture(scope="session")
def server_dsn() -> Iterator[str]:
    """A PostgreSQL server: DATABASE_URL if given, else an embedded one for this session."""
    external = os.environ.get("DATABASE_URL")
    if external:
        yield external
        return
    with tempfile.TemporaryDirectory(prefix="rf-pg-") as folder:
        postgres = EmbeddedPostgres(Path(folder) / "pgdata")
        try:
            yield postgres.start()
        finally:
            postgres.stop()


@pytest.fixture
async def fresh_database(server_dsn: str) -> AsyncIterator[str]:
    """An empty database of its own, for a test that must see no other test's rows."""
    name = f"reviewflow_fresh_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server_dsn, name)
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
async def database_url(server_dsn: str) -> AsyncIterator[str]:
    name = f"reviewflow_test_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        dsn = with_database(server_dsn, name)
        await migrate_dsn(dsn)
        yield dsn
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, max_size=20)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """A Temporal dev server (in memory) with reviewflow's search attributes."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_binary("temporal"),
        search_attributes=list(SEARCH_ATTRIBUTES),
    )
    yield env
    await env.shutdown()


LOOPBACK_RECEIVERS = "127.0.0.0/8"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("data")
    return load_settings(
        {
            "REVIEWFLOW_DATA_DIR": str(data_dir),
            "TEMPORAL_TASK_QUEUE": "reviewflow-test",
            # The tests' webhook receivers listen on loopback, which webhooks may not reach
            # unless the operator's allow-list names it.
            "REVIEWFLOW_WEBHOOK_ALLOW": LOOPBACK_RECEIVERS,
        }
    )


@pytest.fixture(scope="session")
async def temporal_client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture(scope="session")
async def api(
    settings: Settings, pool: asyncpg.Pool, temporal_client: Client
) -> AsyncIterator[TestClient[Any, Any]]:
    """The API served over real HTTP on a loopback port."""
    app = create_app(settings, pool=pool, temporal=temporal_client)
    async with TestClient(TestServer(app)) as client:
        yield client


class Account:
    """An actor with its token, as the tests use it."""

    def __init__(self, actor: Actor, token: str) -> None:
        self.actor = actor
        self.token = token

    @property
    def id(self) -> str:
        return str(self.actor.id)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def create_account(pool: asyncpg.Pool, role: str, **fields: Any) -> Account:
    """An actor stored with a fresh token; `notifications` sets its mail preference.

    A focal point named without regions gets those whose membership lists its country, a
    stakeholder without `organisation_id` the organisation of its same-named colleagues."""
    name = fields.pop("name", f"{role} {secrets.token_hex(3)}")
    preference = fields.pop("notifications", None)
    if "regions" in fields:
        fields["regions"] = tuple(fields["regions"])
    token = new_token()
    actor = await insert_actor(
        pool, Actor(id=uuid.uuid4(), name=name, role=role, **fields), token, created_by=None
    )
    if preference is not None:
        await update_preferences(pool, actor.id, {"notifications": preference})
    return Account(actor, token)


@pytest.fixture(scope="session")
def make_account(pool: asyncpg.Pool) -> Any:
    async def make(role: str, **fields: Any) -> Account:
        return await create_account(pool, role, **fields)

    return make


@pytest.fixture(scope="session")
async def admin(make_account: Any) -> Account:
    return await make_account("admin")


@pytest.fixture(scope="session")
async def ece_secretariat(make_account: Any) -> Account:
    return await make_account("secretariat", regions=("ECE",), email="ece@example.org")


@pytest.fixture(scope="session")
async def worker(
    temporal_client: Client, pool: asyncpg.Pool, settings: Settings
) -> AsyncIterator[Any]:
    """The real workers (every workflow and activity) on the dev server, for the session."""
    from worker import running_workers

    async with running_workers(temporal_client, pool, settings):
        yield


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server: months of deadlines pass in seconds."""
    from worker import ensure_search_attributes

    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=find_binary("temporal-test-server")
    )
    await ensure_search_attributes(env.client)
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def skipping_api(
    time_skipping_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings
) -> AsyncIterator[TestClient[Any, Any]]:
    """The API and the real worker on the time-skipping server."""
    from worker import build_worker

    client = time_skipping_env.client
    async with build_worker(client, pool, settings):
        app = create_app(settings, pool=pool, temporal=client)
        async with TestClient(TestServer(app)) as http:
            yield http


@pytest.fixture
async def start_review(
    skipping_api: Any,
    time_skipping_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    ece_secretariat: Any,
) -> Any:
    async def start(**overrides: Any) -> Review:
        now = await time_skipping_env.get_current_time()
        # The API checks deadlines against the wall clock, the workflow against the server's.
        start_at = max(now, datetime.now(UTC))
        timeline = {k: v.isoformat() for k, v in ece_2020_timeline(start_at).items()}
        body = review_body(id=f"ece-2020-{secrets.token_hex(4)}", timeline=timeline, **overrides)
        response = await skipping_api.post(
            "/v1/reviews", json=body, headers=ece_secretariat.headers
        )
        assert response.status == 201, await response.text()
        return Review(skipping_api, time_skipping_env, pool, ece_secretariat, body)

    return start


@pytest.fixture
async def focal_points(make_account: Any) -> dict[str, Any]:
    return {c: await make_account("focal_point", country=c) for c in ("DEU", "FRA", "KAZ", "USA")}


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One headless chromium for the session (the tests that use it skip without one)."""
    if CHROMIUM is None:
        pytest.skip(needs_chromium.kwargs["reason"])
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser, api: TestClient[Any, Any]) -> AsyncIterator[Page]:
    """A fresh browser context (no cookies) on the API's server; every request the page makes
    is kept in `page.requests_made` so a test can check nothing left this host."""
    context = await browser.new_context(base_url=str(api.make_url("")).rstrip("/"))
    opened = await context.new_page()
    made: list[str] = []
    opened.on("request", lambda r: made.append(r.url))
    opened.requests_made = made  # type: ignore[attr-defined]
    yield opened
    await context.close()


@pytest.fixture
async def site(
    api: TestClient[Any, Any], pool: asyncpg.Pool, settings: Settings, make_account: Any
) -> AsyncIterator[Site]:
    """The pages as one person's browser sees them (tests/web_site.py)."""
    async with browser_like(api) as client:
        yield Site(api, client, pool, settings, make_account)
