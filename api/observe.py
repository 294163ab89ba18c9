"""What the API tells its operators about each request: its id in every log line and in the
answer's `X-Request-Id`, and the Prometheus metrics (`GET /metrics`).

Requests are counted by route, the resource's canonical path (`/v1/reviews/{id}`), never the
path asked for, so however many reviews and ids there are the number of series stays bounded.
The gauges of what the database holds (deliveries by status, reviews by phase) are read from
PostgreSQL when scraped, so every API process reports the same true totals.
"""

from __future__ import annotations

import re
import time
import uuid

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest

from api.keys import DATABASE_METRICS
from api.operations import answer, operation
from api.problems import Handler
from config.logs import REVIEW_ID, log_context

REQUEST_ID_HEADER = "X-Request-Id"
# A caller's own request id is kept when it is short and plain enough to write in a log line
# as it is; any other is replaced by one of ours.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

# Where the request's ids are kept for the access log and the answer's header.
REQUEST_ID_KEY = web.RequestKey("request_id", str)
REVIEW_ID_KEY = web.RequestKey("review_id", str)
ROUTE_KEY = web.RequestKey("route", str)

# The route of a request that matched none (a 404 for an unknown path, whatever it was).
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# Routes about one review, by the name of its id in the path.
REVIEW_ROUTES = re.compile(r"^(/v1)?/reviews/\{id\}")

REQUESTS = Counter(
    "reviewflow_http_requests",
    "HTTP requests answered, by route (its canonical path), method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "reviewflow_http_request_duration_seconds",
    "Time from a request's arrival to its answer, by route and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def request_id_of(request: web.Request) -> str:
    """The caller's X-Request-Id when it is a sane one, else a new one."""
    asked = request.headers.get(REQUEST_ID_HEADER, "")
    return asked if SAFE_REQUEST_ID.fullmatch(asked) else uuid.uuid4().hex


def route_of(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return UNMATCHED if resource is None else resource.canonical


def review_id_in_path(request: web.Request, route: str) -> str | None:
    return request.match_info.get("id") if REVIEW_ROUTES.match(route) else None


@web.middleware
async def observe_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: every line logged while the request is handled names it (and its review),
    and every request is counted and timed, whatever it was answered."""
    request_id = request_id_of(request)
    route = route_of(request)
    request[REQUEST_ID_KEY] = request_id
    request[ROUTE_KEY] = route
    method = request.method if request.method in METHODS else "OTHER"
    started = time.perf_counter()
    status = 500
    with log_context(request_id=request_id, review_id=review_id_in_path(request, route)):
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as http_error:
            status = http_error.status
            raise
        finally:
            # A service may have named the review on the way (a delivery's, say).
            if (review_id := REVIEW_ID.get()) is not None:
                request[REVIEW_ID_KEY] = review_id
            REQUESTS.labels(route, method, str(status)).inc()
            LATENCY.labels(route, method).observe(time.perf_counter() - started)


async def echo_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer names its request, so a caller can quote it to an operator."""
    if (request_id := request.get(REQUEST_ID_KEY)) is not None:
        response.headers[REQUEST_ID_HEADER] = request_id


routes = web.RouteTableDef()


@routes.get("/metrics")
@operation(
    "Service",
    "metrics",
    "Prometheus metrics",
    {
        "200": answer(
            "The metrics in Prometheus' text format: requests by route, method and status with"
            " their latency, submissions accepted and refused, deliveries by status and reviews"
            " by phase (the last two read from the database), and the process's own.",
            {"type": "string"},
            "text/plain",
        )
    },
    public=True,
)
async def metrics(request: web.Request) -> web.Response:
    gauges = request.app[DATABASE_METRICS]
    await gauges.refresh()
    body = generate_latest(REGISTRY) + generate_latest(gauges)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
