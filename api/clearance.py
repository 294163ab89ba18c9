"""A member State's team for its national report: drafters, the clearing officer, the history
of the draft and its clearance (`services.clearance`). When a country has a team, a national
report is sent only as a cleared revision of its draft (POST /v1/reviews/{id}/submissions
answers 409 otherwise)."""

from __future__ import annotations

from aiohttp import web

from api.auth import current_actor
from api.bodies import read_json
from api.idempotency import idempotency_key
from api.keys import POOL, SERVICES, SETTINGS
from api.operations import (
    NOT_FOUND,
    UUID,
    VERSION,
    answer,
    component,
    operation,
    path_parameter,
    shared_response,
)
from services import clearance as use_cases
from services import signin
from web.background import BACKGROUND

routes = web.RouteTableDef()

TEAM = "/v1/reviews/{id}/team"
DRAFT = "/v1/reviews/{id}/draft"
TEAM_ANSWER = answer("The team, and where the draft stands.", component("Team"))
DRAFTERS_ONLY = shared_response(
    "Forbidden", "Only the focal points and drafters of a member State of the review."
)
FOCAL_POINT_ONLY = shared_response(
    "Forbidden", "Only a focal point of a member State of the review manages its team."
)
NO_DRAFT = shared_response("Conflict", "There is no draft (saved on the form page) yet.")


@routes.get(TEAM)
@operation(
    "Clearance",
    "getTeam",
    "Your country's team for its national report, and where the draft stands",
    {"200": TEAM_ANSWER, "403": DRAFTERS_ONLY, "404": NOT_FOUND},
    parameters=("ReviewId",),
)
async def get_team(request: web.Request) -> web.Response:
    deps, actor = request.app[SERVICES], current_actor(request)
    return web.json_response(await use_cases.team_document(deps, actor, request.match_info["id"]))


@routes.post(TEAM + "/drafters")
@operation(
    "Clearance",
    "addDrafter",
    "Invite a colleague of your country to draft the national report",
    {
        "201": answer("The new drafter's account (mailed a sign-in link).", component("Drafter")),
        "403": FOCAL_POINT_ONLY,
        "404": NOT_FOUND,
    },
    description="The drafter acts for the focal point's country in its regions: it reads and"
    " edits the country's national report drafts, sends them for clearance, and sends nothing"
    " to a review itself.",
    parameters=("ReviewId", "IdempotencyKey"),
    body="NewDrafter",
)
async def add_drafter(request: web.Request) -> web.Response:
    deps, actor = request.app[SERVICES], current_actor(request)
    review_id = request.match_info["id"]
    await use_cases.managing(deps, actor, review_id)
    key = idempotency_key(request)
    body = await read_json(request, use_cases.NEW_DRAFTER_SCHEMA)
    created, made = await use_cases.add_drafter(deps, actor, review_id, body, key)
    if made is not None:
        invitation = signin.send_invitation(request.app[POOL], request.app[SETTINGS], made)
        request.app[BACKGROUND].spawn(invitation, "mailing a new drafter its invitation")
    return web.json_response(created, status=201)


@routes.delete(TEAM + "/drafters/{drafter}")
@operation(
    "Clearance",
    "removeDrafter",
    "Remove a drafter: the account is deactivated, its work stays",
    {
        "204": {"description": "Removed."},
        "403": FOCAL_POINT_ONLY,
        "404": shared_response("NotFound", "No such review, or no such drafter of your country."),
    },
    parameters=("ReviewId", path_parameter("drafter", UUID, "The drafter's account id.")),
)
async def remove_drafter(request: web.Request) -> web.Response:
    deps, actor = request.app[SERVICES], current_actor(request)
    await use_cases.remove_drafter(
        deps, actor, request.match_info["id"], request.match_info["drafter"]
    )
    return web.Response(status=204)


@routes.put(TEAM + "/clearing-officer")
@operation(
    "Clearance",
    "nameClearingOfficer",
    "Name the colleague who clears the national report (or none)",
    {"200": TEAM_ANSWER, "403": FOCAL_POINT_ONLY, "404": NOT_FOUND},
    parameters=("ReviewId",),
    body="ClearingOfficer",
)
async def name_officer(request: web.Request) -> web.Response:
    deps, actor = request.app[SERVICES], current_actor(request)
    review_id = request.match_info["id"]
    await use_cases.managing(deps, actor, review_id)
    body = await read_json(request, use_cases.CLEARING_OFFICER_SCHEMA)
    return web.json_response(await use_cases.name_officer(deps, actor, review_id, body))


@routes.get(DRAFT + "/revisions")
@operation(
    "Clearance",
    "listDraftRevisions",
    "Every saved revision of the national report's draft, the latest first",
    {
        "200": answer("Who saved what when.", component("DraftRevisionList")),
        "403": DRAFTERS_ONLY,
        "404": NOT_FOUND,
    },
    parameters=("ReviewId",),
)
async def list_revisions(request: web.Request) -> web.Response:
    deps, actor = request.app[SERVICES], current_actor(request)
    items = await use_cases.revision_list(deps, actor, request.match_info["id"])
    return web.json_response({"items": items})


@routes.get(DRAFT + "/revisions/{number}")
@operation(
    "Clearance",
    "getDraftRevision",
    "One revision of the national report's draft, with its content",
    {
        "200": answer("The revision.", component("DraftRevision")),
        "403": DRAFTERS_ONLY,
        "404": NOT_FOUND,
    },
    parameters=("ReviewId", path_parameter("number", VERSION, "The revision's number.")),
)
async def read_revision(request: web.Request) -> web.Response:
    deps, actor = request.app[SERVICES], current_actor(request)
    document = await use_cases.revision_document(
        deps, actor, request.match_info["id"], request.match_info["number"]
    )
    return web.json_response(document)


@routes.post(DRAFT + "/clearance-request")
@operation(
    "Clearance",
    "requestClearance",
    "Send the draft as it is now for clearance",
    {"200": TEAM_ANSWER, "403": DRAFTERS_ONLY, "404": NOT_FOUND, "409": NO_DRAFT},
    description="Marks the latest revision as sent for clearance, in the review's audit trail.",
    parameters=("ReviewId",),
)
async def request_clearance(request: web.Request) -> web.Response:
    deps, actor = request.app[SERVICES], current_actor(request)
    return web.json_response(
        await use_cases.request_clearance(deps, actor, request.match_info["id"])
    )


@routes.post(DRAFT + "/clearance")
@operation(
    "Clearance",
    "clearDraft",
    "Clear the draft's latest revision, named by its content hash",
    {
        "200": TEAM_ANSWER,
        "403": shared_response(
            "Forbidden",
            "Only the clearing officer clears; when none is named, a focal point of the country.",
        ),
        "404": NOT_FOUND,
        "409": shared_response(
            "Conflict", "There is no draft, or it changed since the revision named was read."
        ),
    },
    description="A later save that changes the draft voids the clearance.",
    parameters=("ReviewId",),
    body="Clearance",
)
async def clear(request: web.Request) -> web.Response:
    deps, actor = request.app[SERVICES], current_actor(request)
    review_id = request.match_info["id"]
    await use_cases.drafting(deps, actor, review_id)
    body = await read_json(request, use_cases.CLEARANCE_SCHEMA)
    return web.json_response(await use_cases.clear(deps, actor, review_id, body))
