"""People: the accounts an admin or a secretariat manages, listed and searched, edited, and
imported from a CSV file."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from api.auth import current_actor, require_role
from api.bodies import read_json
from api.keys import POOL, SETTINGS
from api.operations import answer, component, operation, query_parameter, shared_response
from api.problems import Problem, invalid
from domain.access import ROLES, Actor
from domain.reference import load_reference
from services import imports, people, signin
from web.background import BACKGROUND

routes = web.RouteTableDef()

CSV_TYPES = frozenset({"text/csv", "text/plain"})
MANAGERS_ONLY = shared_response("Forbidden", "Only admins and secretariats.")


def invite(app: web.Application, created: Iterable[Actor]) -> None:
    """Mail each new account its invitation, after answering (as `POST /v1/actors` does)."""
    pool, settings = app[POOL], app[SETTINGS]
    for actor in created:
        invitation = signin.send_invitation(pool, settings, actor)
        app[BACKGROUND].spawn(invitation, "mailing a new account its invitation")


@routes.get("/v1/actors")
@operation(
    "Accounts",
    "listPeople",
    "The accounts the actor manages",
    {
        "200": answer("A page of accounts, by name.", component("PeopleList")),
        "403": MANAGERS_ONLY,
        "422": shared_response("Unprocessable", "A query parameter is not valid."),
    },
    description="An admin lists every account; a secretariat the accounts it created (those"
    " it may deactivate). Paged by name then id: a page's `next_cursor` continues after its"
    " last account, whatever is added meanwhile. Every invalid parameter is named at once.",
    parameters=(
        query_parameter("q", {"type": "string", "maxLength": people.MAX_QUERY},
                        "Only accounts whose name, email or organisation holds this, in any"
                        " case."),
        query_parameter("role", {"enum": list(ROLES)}, "Only accounts of this role."),
        query_parameter("category", {"enum": list(load_reference().category_ids)},
                        "Only stakeholders of this category."),
        query_parameter("country", {"type": "string", "pattern": "^[A-Za-z]{3}$"},
                        "Only accounts of this country (ISO3)."),
        query_parameter("active", {"enum": ["true", "false"]},
                        "Only active accounts (true) or deactivated ones (false)."),
        query_parameter("limit", {"type": "integer", "minimum": 1, "maximum": people.MAX_PAGE,
                                  "default": people.DEFAULT_PAGE}, "At most this many accounts."),
        query_parameter("cursor", {"type": "string"}, "`next_cursor` of the previous page."),
    ),
)  # fmt: skip
async def list_people(request: web.Request) -> web.Response:
    page = await people.people_page(request.app[POOL], current_actor(request), request.query)
    return web.json_response(
        {"items": [p.as_json() for p in page.items], "next_cursor": page.next_cursor}
    )


@routes.patch("/v1/actors/{id}")
@operation(
    "Accounts",
    "editPerson",
    "Edit an account",
    {
        "200": answer("The account, as it is now.", component("Person")),
        "403": shared_response(
            "Forbidden",
            "Only admins and secretariats; a stakeholder's organisation is renamed only by"
            " one who may add accounts to it.",
        ),
        "404": shared_response("NotFound", "Not an account you manage."),
    },
    description="Send only what changes: `name`, `email`, `organisation`,"
    " `stakeholder_category`. Several accounts may share an address (a ministry's). A"
    " stakeholder's organisation and category are its organisation's: changing them renames"
    " the organisation for each of its accounts. Recorded in the account's audit trail.",
    parameters=("ActorId",),
    body="PersonChanges",
)
async def edit_person(request: web.Request) -> web.Response:
    changes = await read_json(request, people.EDIT_PERSON_SCHEMA)
    edited = await people.edit_person(
        request.app[POOL], current_actor(request), request.match_info["id"], changes
    )
    return web.json_response(edited.as_json())


@routes.post("/v1/actors/import")
@operation(
    "Accounts",
    "importPeople",
    "Import accounts from CSV",
    {
        "200": answer("What each row does (a preview), or did.", component("ImportOutcome")),
        "403": MANAGERS_ONLY,
        "422": shared_response(
            "Unprocessable",
            "The file is not a CSV file with the columns, or (unless `dry_run`) a row is not"
            " valid: `/rows/<row>/<column>` names each; nothing was imported.",
        ),
    },
    description="Each row an account, matched by `email` among the accounts you manage: a"
    " new address creates an account (by the rules of `POST /v1/actors`) and mails it an"
    " invitation; a known one updates its name, organisation and category. The same file"
    " sent twice creates nothing the second time. All rows are applied in one transaction,"
    " or none. With `dry_run=true`, nothing is written: the answer says what each row would"
    " do, with its errors.",
    parameters=(query_parameter("dry_run", {"enum": ["true", "false"]}, "true: a preview only."),),
    body="AccountsCsv",
    body_type="text/csv",
)
async def import_people(request: web.Request) -> web.Response:
    importer = require_role(request, ("admin", "secretariat"))
    if request.content_type not in CSV_TYPES:
        raise Problem(415, "Send the body as text/csv.")
    dry_run = request.query.get("dry_run", "false")
    if dry_run not in ("true", "false"):
        raise invalid([("/dry_run", "must be true or false")])
    raw = await request.read()
    outcome = await imports.import_accounts(
        request.app[POOL], importer, raw, apply=dry_run == "false"
    )
    invite(request.app, outcome.created)
    return web.json_response(outcome.as_json())
