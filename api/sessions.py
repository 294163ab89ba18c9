"""Consultation meetings of a review (`services.sessions`): scheduling by the secretariat,
registration by the invited organisations and member States, attendance and summaries."""

from __future__ import annotations

from aiohttp import web

from api.auth import current_actor
from api.bodies import read_json
from api.idempotency import idempotency_key
from api.keys import SERVICES
from api.operations import (
    NOT_FOUND,
    SECRETARIAT_ONLY,
    UUID,
    answer,
    component,
    operation,
    path_parameter,
    shared_response,
)
from services import sessions as use_cases

routes = web.RouteTableDef()

SESSIONS = "/v1/reviews/{id}/sessions"
SESSION = "/v1/sessions/{id}"
SESSION_ID = path_parameter("id", UUID, "The meeting's id.")
SESSION_ANSWER = answer("The meeting.", component("Session"))
REGISTRATIONS_ANSWER = answer(
    "Those registered and the waiting list, each in order.", component("SessionRegistrations")
)
NOT_STARTED = shared_response("Conflict", "The meeting was cancelled, or has not started yet.")


@routes.post(SESSIONS)
@operation(
    "Sessions",
    "createSession",
    "Schedule a consultation meeting of the review",
    {"201": SESSION_ANSWER, "403": SECRETARIAT_ONLY, "404": NOT_FOUND},
    description="Its registrants are reminded a day and an hour before it starts.",
    parameters=("ReviewId", "IdempotencyKey"),
    body="NewSession",
)
async def create_session(request: web.Request) -> web.Response:
    deps, actor = request.app[SERVICES], current_actor(request)
    await use_cases.scheduling(deps, actor, request.match_info["id"])
    body = await read_json(request, use_cases.NEW_SESSION_SCHEMA)
    created = await use_cases.create_session(
        deps, actor, request.match_info["id"], body, idempotency_key(request)
    )
    return web.json_response(created.body, status=created.status)


@routes.get(SESSIONS)
@operation(
    "Sessions",
    "listSessions",
    "The review's meetings you may see (the secretariat: all; a participant: those it is"
    " invited to, with its registration)",
    {"200": answer("The meetings, soonest first.", component("SessionList")), "404": NOT_FOUND},
    parameters=("ReviewId",),
)
async def list_sessions(request: web.Request) -> web.Response:
    deps, actor = request.app[SERVICES], current_actor(request)
    items = await use_cases.list_sessions(deps, actor, request.match_info["id"])
    return web.json_response({"items": items})


@routes.get(SESSION)
@operation(
    "Sessions",
    "getSession",
    "One meeting",
    {"200": SESSION_ANSWER, "404": NOT_FOUND},
    parameters=(SESSION_ID,),
)
async def get_session(request: web.Request) -> web.Response:
    deps, actor = request.app[SERVICES], current_actor(request)
    return web.json_response(await use_cases.read_session(deps, actor, request.match_info["id"]))


@routes.patch(SESSION)
@operation(
    "Sessions",
    "editSession",
    'Edit or move a meeting, or cancel it ({"status": "cancelled", "reason": ...})',
    {
        "200": SESSION_ANSWER,
        "403": SECRETARIAT_ONLY,
        "404": NOT_FOUND,
        "409": shared_response("Conflict", "The meeting was cancelled."),
    },
    parameters=(SESSION_ID,),
    body="SessionChanges",
)
async def edit_session(request: web.Request) -> web.Response:
    deps, actor = request.app[SERVICES], current_actor(request)
    await use_cases.running(deps, actor, request.match_info["id"])
    body = await read_json(request, use_cases.SESSION_CHANGES_SCHEMA)
    return web.json_response(
        await use_cases.edit_session(deps, actor, request.match_info["id"], body)
    )


@routes.post(SESSION + "/registrations")
@operation(
    "Sessions",
    "registerForSession",
    "Register your organisation's people, or your country's delegation (again: update it)",
    {
        "200": answer("The registration, updated.", component("SessionRegistration")),
        "201": answer(
            "The registration: a place, or the waiting list when full.",
            component("SessionRegistration"),
        ),
        "403": shared_response("Forbidden", "The meeting is not open to you."),
        "404": NOT_FOUND,
        "409": shared_response(
            "Conflict", "The meeting was cancelled or has started, or too few places are left."
        ),
    },
    parameters=(SESSION_ID, "IdempotencyKey"),
    body="SessionRegistrationRequest",
)
async def register(request: web.Request) -> web.Response:
    deps, actor = request.app[SERVICES], current_actor(request)
    await use_cases.registering(deps, actor, request.match_info["id"])
    body = await read_json(request, use_cases.REGISTRATION_SCHEMA)
    created = await use_cases.register(
        deps, actor, request.match_info["id"], body, idempotency_key(request)
    )
    return web.json_response(created.body, status=created.status)


@routes.delete(SESSION + "/registrations/mine")
@operation(
    "Sessions",
    "cancelRegistration",
    "Cancel your registration: the first on the waiting list who fits gets the places",
    {"204": {"description": "Cancelled."}, "404": NOT_FOUND},
    parameters=(SESSION_ID,),
)
async def unregister(request: web.Request) -> web.Response:
    deps, actor = request.app[SERVICES], current_actor(request)
    await use_cases.unregister(deps, actor, request.match_info["id"])
    return web.Response(status=204)


@routes.get(SESSION + "/registrations")
@operation(
    "Sessions",
    "listRegistrations",
    "Who registered for a meeting, and its waiting list",
    {"200": REGISTRATIONS_ANSWER, "403": SECRETARIAT_ONLY, "404": NOT_FOUND},
    parameters=(SESSION_ID,),
)
async def registrations(request: web.Request) -> web.Response:
    deps, actor = request.app[SERVICES], current_actor(request)
    return web.json_response(
        await use_cases.registration_list(deps, actor, request.match_info["id"])
    )


@routes.post(SESSION + "/attendance")
@operation(
    "Sessions",
    "recordAttendance",
    "Record who attended a meeting that has started",
    {"200": REGISTRATIONS_ANSWER, "403": SECRETARIAT_ONLY, "404": NOT_FOUND, "409": NOT_STARTED},
    parameters=(SESSION_ID,),
    body="SessionAttendance",
)
async def attendance(request: web.Request) -> web.Response:
    deps, actor = request.app[SERVICES], current_actor(request)
    await use_cases.running(deps, actor, request.match_info["id"])
    body = await read_json(request, use_cases.ATTENDANCE_SCHEMA)
    return web.json_response(
        await use_cases.record_attendance(deps, actor, request.match_info["id"], body)
    )


@routes.put(SESSION + "/summary")
@operation(
    "Sessions",
    "writeSessionSummary",
    "Write the meeting's summary (the rapporteur's or the chair's)",
    {
        "200": answer("The summary, with its SHA-256.", component("SessionSummary")),
        "403": SECRETARIAT_ONLY,
        "404": NOT_FOUND,
        "409": NOT_STARTED,
    },
    parameters=(SESSION_ID,),
    body="SessionSummaryText",
)
async def summary(request: web.Request) -> web.Response:
    deps, actor = request.app[SERVICES], current_actor(request)
    await use_cases.running(deps, actor, request.match_info["id"])
    body = await read_json(request, use_cases.SUMMARY_SCHEMA)
    return web.json_response(
        await use_cases.write_summary(deps, actor, request.match_info["id"], body)
    )
