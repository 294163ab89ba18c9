"""The messages of a review that failed for good, for its secretariat: to whom, what, when and
why, each with a page that confirms sending it again (services.deliveries)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

import i18n
from api.keys import SERVICES
from domain.access import Actor
from services import deliveries
from services.refusals import STATUS_OF_KIND, Kind, Refused, not_found
from web.audit import EVENT_TYPES
from web.format import local_time
from web.render import page
from web.sessions import require_person
from web.signin import see_other

routes = web.RouteTableDef()

CHANNELS = {"email": i18n.N_("Email"), "webhook": i18n.N_("Webhook")}


def _list_path(review_id: str) -> str:
    return f"/reviews/{review_id}/deliveries"


def _row(delivery: dict[str, Any], person: Actor) -> dict[str, Any]:
    event = delivery["event_type"]
    recipient = delivery["recipient"]
    return {
        "id": delivery["id"],
        "to": recipient["name"] or recipient["address"],
        "address": recipient["address"] if recipient["name"] else None,
        "channel": i18n.gettext(CHANNELS[delivery["channel"]]),
        "what": i18n.gettext(EVENT_TYPES[event]) if event in EVENT_TYPES else event,
        "when": local_time(datetime.fromisoformat(delivery["event_at"]), person.time_zone),
        "attempts": delivery["attempts"],
        "why": delivery["error"],
        "retry": f"{_list_path(delivery['review_id'])}/{delivery['id']}/retry",
    }


@routes.get("/reviews/{id}/deliveries")
async def failed_page(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    review, failed = await deliveries.review_deliveries(
        request.app[SERVICES], person, request.match_info["id"], "failed"
    )
    notice = request.query.get("done") == "retried"
    context = {
        "review": review,
        "rows": [_row({**d, "review_id": review["id"]}, person) for d in failed],
        "notice": i18n.gettext("The message will be sent again shortly.") if notice else None,
        "back": f"/reviews/{review['id']}/dashboard",
    }
    return page(request, "reviews/deliveries.html", context)


async def _delivery_of_review(request: web.Request, person: Actor) -> tuple[Any, dict[str, Any]]:
    """The delivery named in the path, if it is a message of the review named there."""
    review, delivery = await deliveries.review_delivery(
        request.app[SERVICES], person, request.match_info["delivery"]
    )
    if review["id"] != request.match_info["id"]:
        raise not_found(i18n.gettext("There is no such message in this review."))
    return review, {**delivery, "review_id": review["id"]}


async def _retry_page(
    request: web.Request, person: Actor, error: str | None = None, status: int = 200
) -> web.Response:
    review, delivery = await _delivery_of_review(request, person)
    context = {
        "review": review,
        "delivery": _row(delivery, person),
        "failed": delivery["status"] == "failed",
        "errors": [{"field_id": "", "message": error}] if error else [],
        "back": _list_path(review["id"]),
    }
    return page(request, "reviews/delivery_retry.html", context, status=status)


@routes.get("/reviews/{id}/deliveries/{delivery}/retry")
async def retry_form(request: web.Request) -> web.StreamResponse:
    return await _retry_page(request, require_person(request))


@routes.post("/reviews/{id}/deliveries/{delivery}/retry")
async def retry(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    review, delivery = await _delivery_of_review(request, person)
    try:
        await deliveries.retry(request.app[SERVICES], person, delivery["id"])
    except Refused as refused:
        if refused.kind is not Kind.CONFLICT:
            raise
        return await _retry_page(
            request, person, i18n.rule_text(refused.message), STATUS_OF_KIND[refused.kind]
        )
    return see_other(f"{_list_path(review['id'])}?done=retried")
