"""A review's notification deliveries for its secretariat, and sending a failed one again."""

from __future__ import annotations

from aiohttp import web

from api.auth import current_actor
from api.keys import SERVICES
from api.operations import (
    NOT_FOUND,
    UUID,
    answer,
    component,
    operation,
    path_parameter,
    query_parameter,
    shared_response,
)
from services import deliveries as use_cases

routes = web.RouteTableDef()


@routes.get("/v1/reviews/{id}/deliveries")
@operation(
    "Notifications",
    "listReviewDeliveries",
    "The review's notifications: to whom, what, when, and why not sent",
    {
        "200": answer("The deliveries, newest first.", component("ReviewDeliveryList")),
        "404": NOT_FOUND,
        "422": shared_response("Unprocessable", "`status` is not one of the statuses."),
    },
    description="For the review's secretariat (and admins); for anyone else the review is"
    " not there. `status=failed` lists those that failed for good, which"
    " POST /v1/deliveries/{id}/retry sends again.",
    parameters=(
        "ReviewId",
        query_parameter(
            "status",
            {"enum": list(use_cases.STATUSES)},
            "Only deliveries in this status (failed: failed for good).",
        ),
    ),
)
async def review_deliveries(request: web.Request) -> web.Response:
    _, items = await use_cases.review_deliveries(
        request.app[SERVICES],
        current_actor(request),
        request.match_info["id"],
        request.query.get("status"),
    )
    return web.json_response({"items": items})


@routes.post("/v1/deliveries/{id}/retry")
@operation(
    "Notifications",
    "retryDelivery",
    "Send a notification that failed for good again",
    {
        "200": answer(
            "Due again now, with a fresh budget of attempts (or put back already: as it is now).",
            component("ReviewDelivery"),
        ),
        "404": NOT_FOUND,
        "409": shared_response("Conflict", "The delivery has not failed: it is not put back."),
    },
    description="For the review's secretariat (and admins). Recorded in the review's audit"
    " trail (`delivery.retried`); asking again for one already put back changes nothing.",
    parameters=(path_parameter("id", UUID, "The delivery's id."),),
)
async def retry_delivery(request: web.Request) -> web.Response:
    delivery = await use_cases.retry(
        request.app[SERVICES], current_actor(request), request.match_info["id"]
    )
    return web.json_response(delivery)
