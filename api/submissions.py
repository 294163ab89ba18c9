"""Submissions: a focal point's national report or a stakeholder's input, and reading them back.

A submission is checked here against its JSON Schema (422 with every problem); its use case
(`services.submissions`) stores it as pending, then offers it to the review's workflow as an
Update, which accepts it (201, with its version) or refuses it (409/403). The request id, and
so the Update id, comes from the `Idempotency-Key`, so a retried request finds its first
answer and creates nothing twice.
"""

from __future__ import annotations

from aiohttp import web

from api import requests
from api.auth import current_actor
from api.bodies import body_problems, off_loop, raise_if_invalid, read_json
from api.idempotency import idempotency_key
from api.keys import SERVICES
from api.operations import (
    NOT_FOUND,
    UNAVAILABLE,
    VERSION,
    answer,
    component,
    operation,
    query_parameter,
    shared_response,
)
from services import annexes
from services import submissions as use_cases

routes = web.RouteTableDef()


@routes.post("/v1/reviews/{id}/submissions")
@operation(
    "Submissions",
    "submit",
    "Submit a national report or a stakeholder input",
    {
        "201": answer("Accepted; a resubmission is a new version.", component("SubmissionReceipt")),
        "403": shared_response(
            "Forbidden",
            "Only focal points (national_report) and stakeholders"
            " (stakeholder_input) submit, each for its own country or organisation,"
            " to reviews it takes part in.",
        ),
        "404": NOT_FOUND,
        "409": shared_response(
            "Conflict",
            "The review's phase does not take this submission (now); or the country has a"
            " team (drafters or a clearing officer) and this content is not its cleared draft.",
        ),
        "422": shared_response(
            "Unprocessable",
            "The body or the document is not valid: `errors` lists every problem,"
            " each with a JSON Pointer into the request body.",
        ),
        "503": UNAVAILABLE,
    },
    description="`content` is checked against the version of the schema named by `kind`"
    " that the review collects (its `schema_versions`; GET /v1/schemas/{name}?version=N),"
    " which the receipt names. A focal point submits for its own country, a"
    " stakeholder for its own organisation.",
    parameters=("ReviewId", "IdempotencyKey"),
    body="NewSubmission",
)
async def submit(request: web.Request) -> web.Response:
    deps = request.app[SERVICES]
    intake = await use_cases.intake(deps, current_actor(request), request.match_info["id"])
    key = idempotency_key(request)
    body = await read_json(request)
    kind = use_cases.schema_kind(intake, body)
    # Off the loop: a large document must not hold up every other request while it is checked.
    raise_if_invalid(
        await off_loop(
            body_problems, body, requests.SUBMISSION, "content", kind.value, intake.schema_version
        )
    )
    return web.json_response(await use_cases.submit(deps, intake, body, key), status=201)


@routes.get("/v1/reviews/{id}/submissions")
@operation(
    "Submissions",
    "listSubmissions",
    "The review's submissions the actor may see",
    {
        "200": answer(
            "The secretariat sees all; a submitter sees its own.",
            component("SubmissionList"),
        ),
        "403": shared_response("Forbidden", "Only the secretariat and the submitters."),
        "404": NOT_FOUND,
    },
    parameters=("ReviewId",),
)
async def list_submissions(request: web.Request) -> web.Response:
    deps, actor = request.app[SERVICES], current_actor(request)
    items = await use_cases.listed(deps, actor, request.match_info["id"])
    return web.json_response({"items": items})


@routes.get("/v1/submissions/{id}")
@operation(
    "Submissions",
    "getSubmission",
    "A submission: the latest version or the one asked for",
    {
        "200": answer(
            "The submission, with the annexes it was sent with.", component("Submission")
        ),
        "404": NOT_FOUND,
    },
    parameters=(
        "SubmissionId",
        query_parameter("version", VERSION, "An earlier version; the latest when absent."),
    ),
)
async def read_submission(request: web.Request) -> web.Response:
    deps, actor = request.app[SERVICES], current_actor(request)
    document = await annexes.submission_document(
        deps, actor, request.match_info["id"], request.query.get("version")
    )
    return web.json_response(document)
