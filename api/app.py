"""The aiohttp application: factory, shared resources and middlewares."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web
from temporalio.client import Client

from api import (
    actors,
    annexes,
    clearance,
    deliveries,
    evidence,
    exports,
    meta,
    observe,
    openapi,
    outreach,
    people,
    reports,
    reviews,
    rollups,
    sessions,
    submissions,
    tasks,
    webhooks,
)
from api.auth import auth_middleware
from api.bodies import storable_text_middleware
from api.engine import TemporalReviews
from api.keys import (
    DATABASE_METRICS,
    POOL,
    SERVICES,
    SETTINGS,
    TEMPORAL,
    UPDATE_GATE,
    WEBHOOK_POLICY,
)
from api.observe import echo_request_id, observe_middleware
from api.problems import problem_middleware
from api.ratelimit import RATE_LIMITER, RateLimiter, rate_limit_middleware
from api.refusals import refusal_middleware
from api.updates import UpdateGate
from config.settings import Settings
from config.temporal import connect_temporal
from db.pool import create_pool
from notifications.webhooks import service_policy
from services.engine import Deps
from services.metrics import DatabaseGauges
from web.app import add_web, page_middleware
from web.language import content_language_middleware, language_middleware
from web.sessions import session_middleware

# Large enough for a full national report (23 objectives of long text), small enough that
# nobody can make the API buffer an arbitrary upload.
MAX_BODY_BYTES = 2 * 1024 * 1024


def create_app(
    settings: Settings,
    *,
    database_url: str | None = None,
    temporal_address: str | None = None,
    pool: asyncpg.Pool | None = None,
    temporal: Client | None = None,
) -> web.Application:
    """Build the API. Resources not handed in are opened at startup and closed at cleanup."""
    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[
            # Outermost: its request id and review id are on every line the others log.
            observe_middleware,
            content_language_middleware,
            problem_middleware,
            refusal_middleware,
            page_middleware,
            session_middleware,
            language_middleware,
            rate_limit_middleware,
            auth_middleware,
            storable_text_middleware,
        ],
        # Room for long bearer tokens: a refused one gets a 401 problem, not a bare 400.
        handler_args={"max_field_size": 16384},
    )
    app[SETTINGS] = settings
    app[UPDATE_GATE] = UpdateGate()
    app[RATE_LIMITER] = RateLimiter(settings.rate_limit, settings.rate_burst)
    app.on_response_prepare.append(echo_request_id)

    async def database(app: web.Application) -> AsyncIterator[None]:
        if pool is not None:
            app[POOL] = pool
            app[DATABASE_METRICS] = DatabaseGauges(pool)
            yield
            return
        dsn = database_url or settings.database_url
        if dsn is None:
            raise RuntimeError("no database URL")
        app[POOL] = await create_pool(dsn)
        app[DATABASE_METRICS] = DatabaseGauges(app[POOL])
        yield
        await app[POOL].close()

    async def temporal_client(app: web.Application) -> AsyncIterator[None]:
        address = temporal_address or settings.temporal_address
        if temporal is None and address is None:
            raise RuntimeError("no Temporal address")
        # Lazy: the API goes on (and /readyz says why it is not ready) while Temporal is away.
        app[TEMPORAL] = temporal or await connect_temporal(settings, address, lazy=True)
        engine = TemporalReviews(app[TEMPORAL], app[UPDATE_GATE], app[POOL], settings.task_queue)
        app[SERVICES] = Deps(app[POOL], engine)
        app[WEBHOOK_POLICY] = service_policy(
            settings, app[TEMPORAL].service_client.config.target_host
        )
        yield

    app.cleanup_ctx.extend([database, temporal_client])
    for operations in (
        meta,
        observe,
        actors,
        reviews,
        submissions,
        clearance,
        sessions,
        annexes,
        tasks,
        reports,
        rollups,
        webhooks,
        openapi,
        people,
        outreach,
        exports,
        evidence,
        deliveries,
    ):
        app.add_routes(operations.routes)
    add_web(app)
    return app
