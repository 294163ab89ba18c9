"""Webhook subscriptions: a secretariat's systems told of its reviews' events, signed."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from aiohttp import web

from api import requests
from api.auth import require_role
from api.bodies import path_uuid, query_uuid, read_json
from api.idempotency import Created, create_once, idempotency_key, request_fingerprint
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
from api.problems import Problem, invalid
from api.reviews import query_int
from db.actors import record_account_event
from db.pool import Connection
from db.reviews import visible_review
from db.webhooks import (
    count_live_webhooks,
    delete_webhook,
    deliveries,
    insert_webhook,
    webhook,
    webhooks_of,
)
from domain.access import RUNS_REVIEWS, Actor, runs_review
from notifications.webhooks import check_url

routes = web.RouteTableDef()

# Live subscriptions one account may hold: each adds deliveries to every event of its scope.
WEBHOOKS_PER_OWNER = 20


def webhook_document(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "url": row["url"],
        "events": row["events"],
        "review_id": row["review_id"],
        "regions": row["regions"],
        "created_at": row["created_at"].isoformat(),
    }


async def _scope(
    request: web.Request, actor: Actor, body: dict[str, Any]
) -> tuple[str | None, list[str]]:
    """The review or regions the webhook covers; only what the actor runs."""
    review_id = body.get("review_id")
    if review_id is not None:
        row = await visible_review(request.app[POOL], actor, review_id)
        if row is None or not runs_review(actor, row["region"]):
            raise invalid([("/review_id", "is not a review you run")])
        return review_id, []
    regions = body.get("regions") or list(actor.regions)
    if not regions:
        raise invalid([("/regions", "name the regions (or the review) to subscribe to")])
    outside = sorted(set(regions) - set(actor.regions)) if actor.role != "admin" else []
    if outside:
        raise invalid([("/regions", f"not your region(s): {', '.join(outside)}")])
    return None, regions


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
    refused = await check_url(body["url"], request.app[WEBHOOK_POLICY])
    if refused:
        raise invalid([("/url", reason) for reason in refused], "This webhook URL is not allowed.")
    review_id, regions = await _scope(request, actor, body)

    async def create(conn: Connection) -> Created:
        if await count_live_webhooks(conn, actor.id) >= WEBHOOKS_PER_OWNER:
            raise Problem(
                409,
                f"You already have {WEBHOOKS_PER_OWNER} webhooks, the most one account may"
                " have: delete one you no longer need first.",
            )
        row = await insert_webhook(
            conn,
            {
                "id": uuid.uuid4(),
                "owner": actor.id,
                "url": body["url"],
                "events": body["events"],
                "secret": body["secret"],
                "review_id": review_id,
                "regions": regions,
            },
        )
        await record_account_event(conn, actor.id, "webhook.subscribed", actor.id, **_audited(row))
        return Created(201, webhook_document(row))

    return await create_once(
        request.app[POOL], actor, key, request_fingerprint(request, body), create
    )


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
    rows = await webhooks_of(request.app[POOL], None if actor.role == "admin" else actor.id)
    return web.json_response({"items": [webhook_document(r) for r in rows]})


async def _own_webhook(request: web.Request) -> tuple[Actor, asyncpg.Record]:
    """The webhook of the path, and who asks for it: its owner or an admin."""
    actor = require_role(request, RUNS_REVIEWS)
    not_found = Problem(404, f"There is no webhook {request.match_info['id']!r} of yours.")
    webhook_id = path_uuid(request, not_found)
    row = await webhook(request.app[POOL], webhook_id)
    if row is None or (actor.role != "admin" and row["owner"] != actor.id):
        raise not_found
    return actor, row


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
    actor, row = await _own_webhook(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        await delete_webhook(conn, row["id"])
        await record_account_event(conn, row["owner"], "webhook.deleted", actor.id, **_audited(row))
    return web.Response(status=204)


def _audited(row: asyncpg.Record) -> dict[str, Any]:
    """What the audit trail says of a subscription: which one, where to and for what; of the
    URL only its origin, since a path or query may carry a receiver's own secret."""
    url = urlsplit(row["url"])
    return {
        "webhook_id": str(row["id"]),
        "origin": f"{url.scheme}://{url.netloc}",
        "events": list(row["events"]),
        "review_id": row["review_id"],
        "regions": list(row["regions"] or []),
    }


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
    _, row = await _own_webhook(request)
    limit = query_int(request, "limit", 50, 1, 500)
    after_id = query_uuid(request, "after", "a delivery id")
    rows = await deliveries(request.app[POOL], row["id"], after=after_id, limit=limit)
    items = [
        {
            "id": str(d["id"]),
            "event_id": str(d["event_id"]),
            "event_type": d["event_type"],
            "status": d["status"],
            "attempts": d["attempts"],
            "next_attempt_at": d["next_attempt_at"].isoformat()
            if d["status"] == "pending"
            else None,
            "sent_at": d["sent_at"].isoformat() if d["sent_at"] else None,
            "last_error": d["last_error"],
            "created_at": d["created_at"].isoformat(),
            "attempt_log": d["attempt_log"],
        }
        for d in rows
    ]
    next_after = items[-1]["id"] if len(items) == limit else None
    return web.json_response({"items": items, "next_after": next_after})
