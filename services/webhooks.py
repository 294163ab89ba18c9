"""Webhook subscriptions' use cases: a secretariat's systems told of its reviews' events,
signed. Subscribe (a URL the policy allows, to reviews the actor runs), list, end one, and read
its deliveries; each subscription and its end is recorded in the owner's audit trail."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

import asyncpg

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
from i18n import gettext
from notifications.webhooks import WebhookPolicy, check_url
from services import once
from services.once import Created
from services.refusals import conflict, forbidden, invalid, named_id, not_found

# Live subscriptions one account may hold: each adds deliveries to every event of its scope.
WEBHOOKS_PER_OWNER = 20
NEW_WEBHOOK_ADDRESS = "/v1/webhooks"


def webhook_document(row: asyncpg.Record) -> dict[str, Any]:
    """A subscription as its owner reads it: where to, for what; not whose."""
    shown = {name: row[name] for name in ("url", "events", "review_id", "regions")}
    return {"id": str(row["id"]), **shown, "created_at": row["created_at"].isoformat()}


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


def _runs_reviews(actor: Actor) -> None:
    """Only those who run reviews subscribe to their events."""
    if actor.role not in RUNS_REVIEWS:
        raise forbidden(
            gettext("This needs one of the roles: %(roles)s.") % {"roles": ", ".join(RUNS_REVIEWS)}
        )


async def _scope(
    pool: asyncpg.Pool, actor: Actor, body: dict[str, Any]
) -> tuple[str | None, list[str]]:
    """The review or regions the webhook covers; only what the actor runs."""
    review_id = body.get("review_id")
    if review_id is not None:
        row = await visible_review(pool, actor, review_id)
        if row is None or not runs_review(actor, row["region"]):
            raise invalid([("/review_id", gettext("is not a review you run"))])
        return review_id, []
    regions = body.get("regions") or list(actor.regions)
    if not regions:
        raise invalid([("/regions", gettext("name the regions (or the review) to subscribe to"))])
    outside = sorted(set(regions) - set(actor.regions)) if actor.role != "admin" else []
    if outside:
        raise invalid(
            [
                (
                    "/regions",
                    gettext("not your region(s): %(regions)s") % {"regions": ", ".join(outside)},
                )
            ]
        )
    return None, regions


async def subscribe(
    pool: asyncpg.Pool,
    policy: WebhookPolicy,
    actor: Actor,
    body: dict[str, Any],
    key: str | None,
) -> dict[str, Any]:
    """Subscribe `body`'s URL (which `policy` must allow) once per key; the subscription as
    created, without its secret."""
    _runs_reviews(actor)
    refused = await check_url(body["url"], policy)
    if refused:
        raise invalid(
            [("/url", reason) for reason in refused], gettext("This webhook URL is not allowed.")
        )
    review_id, regions = await _scope(pool, actor, body)

    async def create(conn: Connection) -> Created:
        if await count_live_webhooks(conn, actor.id) >= WEBHOOKS_PER_OWNER:
            raise conflict(
                gettext(
                    "You already have %(count)d webhooks, the most one account may have:"
                    " delete one you no longer need first."
                )
                % {"count": WEBHOOKS_PER_OWNER}
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

    request = once.fingerprint("POST", NEW_WEBHOOK_ADDRESS, body)
    return (await once.created_once(pool, actor, key, request, create)).body


async def subscriptions(pool: asyncpg.Pool, actor: Actor) -> list[dict[str, Any]]:
    """The actor's subscriptions (an admin's: everyone's), oldest first."""
    _runs_reviews(actor)
    rows = await webhooks_of(pool, None if actor.role == "admin" else actor.id)
    return [webhook_document(r) for r in rows]


async def own_webhook(pool: asyncpg.Pool, actor: Actor, webhook_id: str) -> asyncpg.Record:
    """The webhook, if `actor` is its owner or an admin; the same refusal for one that does not
    exist (or an id that names nothing)."""
    _runs_reviews(actor)
    nothing = not_found(gettext("There is no webhook %(id)s of yours.") % {"id": repr(webhook_id)})
    row = await webhook(pool, named_id(webhook_id, nothing))
    if row is None or (actor.role != "admin" and row["owner"] != actor.id):
        raise nothing
    return row


async def unsubscribe(pool: asyncpg.Pool, actor: Actor, webhook_id: str) -> None:
    """End the subscription: no event from now on is delivered to it."""
    row = await own_webhook(pool, actor, webhook_id)
    async with pool.acquire() as conn, conn.transaction():
        await delete_webhook(conn, row["id"])
        await record_account_event(conn, row["owner"], "webhook.deleted", actor.id, **_audited(row))


async def delivery_page(
    pool: asyncpg.Pool, row: asyncpg.Record, limit: int, after: uuid.UUID | None
) -> dict[str, Any]:
    """A page of the deliveries of the webhook `row` (from `own_webhook`), newest first, each
    with every attempt; `next_after` names the last when there may be more."""
    rows = await deliveries(pool, row["id"], after=after, limit=limit)
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
    return {"items": items, "next_after": next_after}
