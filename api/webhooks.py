"""Webhook subscriptions: a secretariat's systems told of its reviews' events, signed."""

from __future__ import annotations

from aiohttp import web

from api import requests
from api.auth import require_role
from api.bodies import query_uuid, read_json
from api.idempotency import idempotency_key
from api.keys import POOL, WEBHOOK_POLICY
from api.operations import (
    NOT_YOUR_WEBHOOK,
    RUNS_REVIEWS_ONLY,
    SIGNATURE,
    UUID,
    answer,
    component,
    operation,
    query_parameter,
    shared_response,
)
from api.reviews import query_int
from domain.access import RUNS_REVIEWS
from services import webhooks
from services.webhooks import WEBHOOKS_PER_OWNER

routes = web.RouteTableDef()


@routes.post("/v1/webhooks")
@operation(
    "Notifications",
    "createWebhook",
    "Subscribe a URL to the events of reviews you run",
    {
        "201": answer("The subscription, as created (without its secret).", component("Webhook")),
        "403": RUNS_REVIEWS_ONLY,
        "409": shared_response(
            "Conflict",
            f"The actor already has {WEBHOOKS_PER_OWNER} live subscriptions, the"
            " most one account may have.",
        ),
        "422": shared_response(
            "Unprocessable",
            "The body is not valid; or the URL is refused by the URL policy (one"
            " error per reason at /url, e.g. `must use http or https`, or its host"
            " resolves to a link-local, metadata or other refused address, or does"
            " not resolve); or `review_id` is not a review the actor runs"
            " (/review_id); or `regions` are not all the actor's own, or are absent"
            " and the actor has none (/regions).",
        ),
    },
    description='`events`: event types, or ["*"] for all. `secret`: 16 to 200'
    " characters, the key every delivery is signed with; keep it, it is never"
    " shown again. Scope: either `review_id` (one review the actor runs) or"
    " `regions` (every review of these regions, the actor's own; default: all the"
    " actor's regions), not both.\n\n" + SIGNATURE,
    parameters=("IdempotencyKey",),
    body="NewWebhook",
)
async def create_webhook(request: web.Request) -> web.Response:
    actor = require_role(request, RUNS_REVIEWS)
    key = idempotency_key(request)
    body = await read_json(request, requests.NEW_WEBHOOK)
    policy = request.app[WEBHOOK_POLICY]
    created = await webhooks.subscribe(request.app[POOL], policy, actor, body, key)
    return web.json_response(created, status=201)


@routes.get("/v1/webhooks")
@operation(
    "Notifications",
    "listWebhooks",
    "Your webhook subscriptions",
    {
        "200": answer(
            "The actor's subscriptions (an admin's: everyone's), oldest first;"
            " without their secrets.",
            component("WebhookList"),
        ),
        "403": RUNS_REVIEWS_ONLY,
    },
)
async def list_webhooks(request: web.Request) -> web.Response:
    actor = require_role(request, RUNS_REVIEWS)
    items = await webhooks.subscriptions(request.app[POOL], actor)
    return web.json_response({"items": items})


@routes.delete("/v1/webhooks/{id}")
@operation(
    "Notifications",
    "deleteWebhook",
    "End a subscription",
    {
        "204": {"description": "Ended: no event from now on is delivered to it."},
        "403": RUNS_REVIEWS_ONLY,
        "404": NOT_YOUR_WEBHOOK,
    },
    description="Its delivery log can no longer be read. Its deliveries waiting for"
    " an attempt (retries included) are failed; only an attempt already under way"
    " may still be made.",
    parameters=("WebhookId",),
)
async def remove_webhook(request: web.Request) -> web.Response:
    actor = require_role(request, RUNS_REVIEWS)
    await webhooks.unsubscribe(request.app[POOL], actor, request.match_info["id"])
    return web.Response(status=204)


@routes.get("/v1/webhooks/{id}/deliveries")
@operation(
    "Notifications",
    "listWebhookDeliveries",
    "A subscription's deliveries, each with every attempt",
    {
        "200": answer("A page of deliveries, newest first.", component("DeliveryList")),
        "403": RUNS_REVIEWS_ONLY,
        "404": NOT_YOUR_WEBHOOK,
        "422": shared_response("Unprocessable", "A query parameter is not valid."),
    },
    parameters=(
        "WebhookId",
        query_parameter(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
            "At most this many deliveries.",
        ),
        query_parameter(
            "after",
            UUID,
            "Only deliveries older than this one (`next_after` of the previous page).",
        ),
    ),
)
async def webhook_deliveries(request: web.Request) -> web.Response:
    actor = require_role(request, RUNS_REVIEWS)
    row = await webhooks.own_webhook(request.app[POOL], actor, request.match_info["id"])
    limit = query_int(request, "limit", 50, 1, 500)
    after_id = query_uuid(request, "after", "a delivery id")
    return web.json_response(await webhooks.delivery_page(request.app[POOL], row, limit, after_id))
