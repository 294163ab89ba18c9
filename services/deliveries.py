"""A review's notification deliveries for its secretariat: those that failed for good, and
putting one back to be sent again.

Only the review's secretariat (or an admin) sees them; for anyone else the review is not there.
Putting a delivery back gives it a fresh budget of attempts and records who did it in the
review's audit trail; asking again for one already put back answers the same, and a delivery
that never failed is not put back.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from config.logs import set_review_id
from db import deliveries
from db.events import insert_event
from domain.access import Actor
from domain.events import EventType, ReviewEvent
from i18n import gettext
from services.engine import Deps
from services.refusals import Refused, conflict, invalid, named_id, not_found
from services.reviews import run_or_unseen

STATUSES = ("pending", "sending", "sent", "failed")
# The newest this many are listed: a review's failures are few, or something else is wrong.
LISTED = 200

# The ids of the audit events that record a delivery put back.
RETRY_NAMESPACE = uuid.UUID("7d5b0f3e-2a61-4c8e-b7f0-4f9a1c2e6d38")


def delivery_status(asked: str | None) -> str | None:
    """The status to list by, None for all; another is refused naming the parameter."""
    if asked is None or asked in STATUSES:
        return asked
    message = gettext("must be one of: %(choices)s") % {"choices": ", ".join(STATUSES)}
    raise invalid([("/status", message)])


def _recipient(row: asyncpg.Record) -> dict[str, Any]:
    """An account by name and address; a webhook by its host alone (its path may hold a
    secret of its owner's)."""
    if row["channel"] == "email":
        return {"name": row["recipient_name"], "address": row["address"]}
    return {"name": None, "address": urlsplit(row["address"]).hostname or ""}


def _document(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "channel": row["channel"],
        "status": row["status"],
        "template": row["template"],
        "event_type": row["event_type"],
        "event_at": row["event_at"].isoformat(),
        "created_at": row["created_at"].isoformat(),
        "sent_at": row["sent_at"].isoformat() if row["sent_at"] else None,
        "attempts": row["attempts"],
        "error": row["last_error"],
        "recipient": _recipient(row),
    }


async def review_deliveries(
    deps: Deps, actor: Actor, review_id: str, status: str | None
) -> tuple[asyncpg.Record, list[dict[str, Any]]]:
    """The review, and its deliveries of `status` (any when None), newest first."""
    review = await run_or_unseen(deps, actor, review_id)
    rows = await deliveries.review_deliveries(
        deps.pool, review["id"], delivery_status(status), LISTED
    )
    return review, [_document(row) for row in rows]


def _no_such_delivery(delivery_id: str) -> Refused:
    return not_found(
        gettext("There is no delivery %(id)s you may see.") % {"id": repr(delivery_id)}
    )


async def _run_delivery(
    deps: Deps, actor: Actor, delivery_id: str
) -> tuple[asyncpg.Record, asyncpg.Record]:
    """The delivery with its review's id, and the review, if `actor` runs it; for anyone
    else, the refusal of a delivery that does not exist."""
    nothing = _no_such_delivery(delivery_id)
    found = await deliveries.delivery_review(deps.pool, named_id(delivery_id, nothing))
    if found is None:
        raise nothing
    set_review_id(found["review_id"])
    try:
        review = await run_or_unseen(deps, actor, found["review_id"])
    except Refused:
        raise nothing from None
    return found, review


async def _as_listed(deps: Deps, delivery_id: uuid.UUID) -> dict[str, Any]:
    row = await deliveries.listed_delivery(deps.pool, delivery_id)
    if row is None:  # gone since (expired by the retention rules)
        raise _no_such_delivery(str(delivery_id))
    return _document(row)


async def review_delivery(
    deps: Deps, actor: Actor, delivery_id: str
) -> tuple[asyncpg.Record, dict[str, Any]]:
    """The delivery's review and the delivery, for those who run the review."""
    found, review = await _run_delivery(deps, actor, delivery_id)
    return review, await _as_listed(deps, found["id"])


async def retry(deps: Deps, actor: Actor, delivery_id: str) -> dict[str, Any]:
    """Put a delivery that failed for good back to be sent, once: the delivery as it is now."""
    found, _ = await _run_delivery(deps, actor, delivery_id)
    async with deps.pool.acquire() as conn, conn.transaction():
        base = await deliveries.put_back(conn, found["id"])
        if base is not None:
            await insert_event(conn, _retried(found, base, actor))
    if base is None and found["attempt_base"] == 0:
        raise conflict(gettext("Only a message that failed for good is sent again."))
    return await _as_listed(deps, found["id"])


def _retried(delivery: asyncpg.Record, base: int, actor: Actor) -> ReviewEvent:
    return ReviewEvent(
        id=str(uuid.uuid5(RETRY_NAMESPACE, f"{delivery['id']}:{base}")),
        review_id=delivery["review_id"],
        type=EventType.DELIVERY_RETRIED,
        at=datetime.now(UTC),
        actor_id=str(actor.id),
        data={
            "delivery_id": str(delivery["id"]),
            "channel": delivery["channel"],
            "template": delivery["template"],
        },
    )
