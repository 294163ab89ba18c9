"""Accounts: who may create whom, and `who am I`."""

from __future__ import annotations

import json

from aiohttp import web

from api import requests
from api.auth import current_actor, require_role
from api.bodies import read_json
from api.idempotency import idempotency_key
from api.keys import POOL, SETTINGS
from api.operations import (
    TEXT,
    UUID,
    answer,
    array_of,
    component,
    nullable,
    object_of,
    operation,
    shared_response,
)
from services import accounts, signin
from services.accounts import NEW_ACTOR_SCHEMA
from web.background import BACKGROUND

routes = web.RouteTableDef()

NOT_AN_ACCOUNT_YOU_MANAGE = shared_response(
    "NotFound",
    "Not an account you manage (yourself; any, for an admin; those it created, for a secretariat).",
)


@routes.post("/v1/actors")
@operation(
    "Accounts",
    "createActor",
    "Create an account",
    {
        "201": answer(
            "The account, with its token (shown this once).",
            component("NewActorAnswer"),
        ),
        "403": shared_response("Forbidden", "The actor may not create this account."),
    },
    description="An admin may create any account; a secretariat may create focal"
    " points, stakeholders and observers of its own regions.\n\n"
    "A focal point acts for its `country` in the reviews of its `regions` only."
    " Made by a secretariat, it gets those of the secretariat's regions (or of the"
    " `regions` named) that count the State; made by an admin without `regions`, the"
    " regions whose regional membership lists the State (both, for a State of two"
    " commissions). Each region named must count the State (else 422).\n\n"
    "A stakeholder names a new organisation with `organisation` and"
    " `stakeholder_category`: a new organisation is created, even if another has the"
    " same name. To add an account to an existing organisation, send its"
    " `organisation_id` instead: the name and category are the organisation's. A"
    " secretariat may join only organisations whose regions are all its own; any"
    " other id gets the same 422 as an unknown one.",
    parameters=("IdempotencyKey",),
    body="NewActor",
)
async def create_actor(request: web.Request) -> web.Response:
    creator = require_role(request, ("admin", "secretariat"))
    key = idempotency_key(request)
    body = await read_json(request, NEW_ACTOR_SCHEMA)  # checked off the event loop
    pool, settings = request.app[POOL], request.app[SETTINGS]
    created = await accounts.create_account(pool, creator, body, key)
    if created.made is not None:
        # Mailed after answering: a slow mail server does not hold up the answer.
        invitation = signin.send_invitation(pool, settings, created.made)
        request.app[BACKGROUND].spawn(invitation, "mailing a new account its invitation")
    return web.json_response(created.body, status=201)


@routes.get("/v1/actors/me")
@operation(
    "Accounts",
    "getMe",
    "Who am I",
    {"200": answer("The token's actor.", component("Actor"))},
)
async def me(request: web.Request) -> web.Response:
    return web.json_response(current_actor(request).as_json())


@routes.get("/v1/actors/me/export")
@operation(
    "Accounts",
    "exportMe",
    "Export my personal data",
    {
        "200": answer(
            "Everything stored that is the account's own: the account, every"
            " version it submitted (refused ones too), the tasks it was given or"
            " answered, its webhooks (never their secrets) and the audit trail of"
            " the account.",
            object_of(
                {
                    "account": component("ExportedAccount"),
                    "submissions": array_of({"type": "object"}),
                    "tasks": array_of({"type": "object"}),
                    "webhooks": array_of({"type": "object"}),
                    "account_events": array_of(
                        object_of(
                            {
                                "type": TEXT,
                                "by": nullable(UUID),
                                "at": TEXT,
                                "data": {"type": "object"},
                            }
                        )
                    ),
                }
            ),
        )
    },
)
async def export_me(request: web.Request) -> web.Response:
    """Everything stored that is the person's own, as one JSON document."""
    data = await accounts.export_personal_data(request.app[POOL], current_actor(request))
    return web.json_response(data, dumps=lambda value: json.dumps(value, default=str))


@routes.patch("/v1/actors/me")
@operation(
    "Accounts",
    "setPreferences",
    "Set my notification preferences",
    {"200": answer("The token's actor, as it is now.", component("Actor"))},
    description="Send only what changes, at least one field. `language`: the"
    " language of the mail sent to you. `notifications`: `essential` leaves out"
    " mail that does not ask you to act; reminders too when the review's"
    " `reminders_optional` is true. `time_zone`: the IANA time zone the pages write"
    " times in (422 for one this service does not know).",
    body="Preferences",
)
async def set_preferences(request: web.Request) -> web.Response:
    """The actor's own notification language and whether it wants non-essential mail."""
    body = await read_json(request, requests.PREFERENCES)
    updated = await accounts.set_preferences(request.app[POOL], current_actor(request), body)
    return web.json_response(updated.as_json())


@routes.delete("/v1/actors/{id}/tokens")
@operation(
    "Accounts",
    "revokeToken",
    "Revoke an account's token",
    {
        "204": {"description": "Revoked: the token no longer works."},
        "404": NOT_AN_ACCOUNT_YOU_MANAGE,
    },
    parameters=("ActorId",),
)
async def revoke_token(request: web.Request) -> web.Response:
    """Revoke the account's token at once: it is replaced by one nobody knows."""
    await accounts.revoke_token(request.app[POOL], current_actor(request), request.match_info["id"])
    return web.Response(status=204)


@routes.post("/v1/actors/{id}/tokens")
@operation(
    "Accounts",
    "issueToken",
    "Issue a new token for an account",
    {
        "201": answer(
            "The new token, shown only in this answer; the previous one stops working.",
            {
                "type": "object",
                "required": ["id", "token"],
                "additionalProperties": False,
                "properties": {"id": UUID, "token": {"type": "string"}},
            },
        ),
        "403": shared_response(
            "Forbidden",
            "A secretariat may revoke, not issue, the token of an account it created:"
            " only the account itself or an admin issues one.",
        ),
        "404": NOT_AN_ACCOUNT_YOU_MANAGE,
    },
    description="Every issue and revocation is recorded (who, whose, when; never"
    " the token) in the account's audit trail. A deactivated account stays"
    " deactivated: a token issued for it does not sign in.",
    parameters=("ActorId",),
)
async def issue_token(request: web.Request) -> web.Response:
    """A new token for the account, shown once; the previous one stops working."""
    issued = await accounts.issue_token(
        request.app[POOL], current_actor(request), request.match_info["id"]
    )
    return web.json_response(issued, status=201)


@routes.post("/v1/actors/{id}/deactivate")
@operation(
    "Accounts",
    "deactivateActor",
    "Deactivate an account",
    {
        "204": {
            "description": "Deactivated (or it already was): its token no longer"
            " works, it is sent no mail, and its webhooks stop."
        },
        "403": shared_response("Forbidden", "Nobody deactivates their own account."),
        "404": shared_response(
            "NotFound",
            "Not an account you manage (any, for an admin; those it created, for a secretariat).",
        ),
    },
    description="By an admin, or by the secretariat that created the account. The"
    " account, its submissions and its audit trail stay; it is not consulted in"
    " consultations opening after. Recorded in the account's audit trail.",
    parameters=("ActorId",),
)
async def deactivate_account(request: web.Request) -> web.Response:
    """Deactivate an account for good: its token stops working, it is sent no more mail and
    its webhooks stop. Deactivating it again changes nothing."""
    await accounts.deactivate_account(
        request.app[POOL], current_actor(request), request.match_info["id"]
    )
    return web.Response(status=204)


@routes.post("/v1/actors/{id}/erase")
@operation(
    "Accounts",
    "eraseActor",
    "Erase a person's data",
    {
        "204": {"description": "Erased: the person is pseudonymised, the account deactivated."},
        "403": shared_response("Forbidden", "Only an admin erases, and never its own account."),
        "404": shared_response("NotFound", "There is no such account."),
    },
    description="By an admin. The account's name becomes `Erased account` and the"
    " start of its id, its email is removed, and it is deactivated. Wherever the"
    " name or email was stored as a value (review events, the contact of its"
    " submissions, the stored answer to the request that created it, its email"
    " deliveries), it is replaced; rows stay, so the audit trail keeps its shape."
    " An organisation's name is not personal data and stays.",
    parameters=("ActorId",),
)
async def erase_account(request: web.Request) -> web.Response:
    """Pseudonymise a person everywhere and deactivate the account; the audit trail keeps its
    rows, with the person's name and email replaced."""
    admin = require_role(request, ("admin",))
    await accounts.erase_account(request.app[POOL], admin, request.match_info["id"])
    return web.Response(status=204)
