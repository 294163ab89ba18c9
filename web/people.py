"""People, for those who manage accounts (an admin every account, a secretariat those it
created): the list, searched and filtered a page at a time; adding a person; a person's page
to edit them; deactivating, after a confirmation; importing a CSV file, previewed row by row
before it is applied. Every page calls the JSON API's use cases (services.people,
services.accounts, services.imports)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

import i18n
from api.keys import POOL
from api.people import invite
from db.people import Person
from domain.reference import load_reference
from services import accounts, imports, people
from services.refusals import Kind, Refused
from web.render import page
from web.reviews import form_key, new_form_key, shown_count
from web.sessions import require_person
from web.signin import see_other

routes = web.RouteTableDef()

PATH = "/people"
# The roles a person may be given on these pages: participants and observers.
# The words below are translated where they are shown (i18n.gettext).
ROLES = (
    ("focal_point", i18n.N_("Government focal point")),
    ("stakeholder", i18n.N_("Stakeholder")),
    ("observer", i18n.N_("Observer")),
    ("approver", i18n.N_("Approver of reports (UN Network on Migration)")),
)
ROLE_NAMES = dict(ROLES) | {
    "admin": i18n.N_("Administrator"),
    "secretariat": i18n.N_("Secretariat"),
    # Added by a focal point to its country's team (web.clearance), not on these pages.
    "drafter": i18n.N_("Drafter of a national report"),
}
MAX_REASON = 500
# What each field's problem says, in plain words, by the field (the use case's pointer).
FIELD_ERRORS = {
    "q": i18n.N_("Enter at most 200 characters to search for"),
    "role": i18n.N_("Choose a role from the list"),
    "category": i18n.N_("Choose a category from the list"),
    "country": i18n.N_("Enter a country's three-letter code, such as DEU"),
    "active": i18n.N_("Choose active or deactivated accounts"),
    "limit": i18n.N_("Show between 1 and 200 people a page"),
    "cursor": i18n.N_("The link to more people is not valid; the list starts again"),
    "name": i18n.N_("Enter a name without line breaks, at most 200 characters"),
    "email": i18n.N_("Enter an email address in the correct format, like name@example.org"),
    "organisation": i18n.N_("Enter the organisation's name, at most 300 characters"),
    "stakeholder_category": i18n.N_("Choose the stakeholder's category"),
    "organisation_id": i18n.N_("Choose the organisation"),
    "regions": i18n.N_("Enter a country of your region"),
    "reason": i18n.N_("Enter a reason of at most 500 characters"),
    "file": i18n.N_("Choose a CSV file"),
    "language": i18n.N_("Choose a language from the list"),
}
CHECK_ANSWER = i18n.N_("Check this answer")
# Where the form shows a problem of the use case's field.
FIELD_OF = {
    "stakeholder_category": "category",
    "regions": "country",
    "organisation_id": "organisation",
}
NOTICES = {
    "created": i18n.N_("The person has been added. They get an invitation by email."),
    "saved": i18n.N_("The changes have been saved."),
    "deactivated": i18n.N_(
        "The account has been deactivated. Its owner is signed out and can no longer"
        " sign in; what they sent is kept."
    ),
}


def _notice(done: str) -> str | None:
    return i18n.gettext(NOTICES[done]) if done in NOTICES else None


def _categories() -> list[tuple[str, str]]:
    return [(term.id, i18n.gettext(term.title)) for term in load_reference().stakeholder_categories]


def _roles(roles: tuple[tuple[str, str], ...] = ROLES) -> list[tuple[str, str]]:
    return [(value, i18n.gettext(label)) for value, label in roles]


def _languages() -> list[tuple[str, str]]:
    """The six languages a person may be given, each named in itself."""
    return [(code, i18n.language(code).own_name) for code in i18n.LANGUAGES]


def _field_error(name: str, field: str) -> str:
    words = FIELD_ERRORS.get(name, FIELD_ERRORS.get(field, CHECK_ANSWER))
    return i18n.gettext(words)


def _errors(problems: list[tuple[str, str]], fields: tuple[str, ...]) -> list[dict[str, str]]:
    """The problems of the fields a form has, in plain words, each linking to its field."""
    found: dict[str, str] = {}
    for pointer, _ in problems:
        name = pointer.lstrip("/").split("/")[0]
        field = FIELD_OF.get(name, name)
        if field in fields and field not in found:
            found[field] = _field_error(name, field)
    if not found:  # a problem the form has no field for: told at the top
        return [{"field_id": "", "message": message} for _, message in problems]
    return [{"field_id": field, "message": found[field]} for field in fields if field in found]


def _row(person: Person) -> dict[str, Any]:
    actor = person.actor
    categories = dict(_categories())
    return {
        "id": str(actor.id),
        "name": actor.name,
        "email": actor.email or "",
        "organisation": actor.organisation or "",
        "role": i18n.gettext(ROLE_NAMES[actor.role]) if actor.role in ROLE_NAMES else actor.role,
        "category": categories.get(actor.stakeholder_category or "", ""),
        "country": actor.country or "",
        "language": actor.language and i18n.language(actor.language).own_name,
        "active": person.active,
    }


# ---- the list ---------------------------------------------------------------------------------

LIST_FIELDS = ("q", "role", "category", "country", "active", "limit", "cursor")


def _list_link(place: Mapping[str, str], **changes: str | None) -> str:
    query = {k: v for k, v in {**place, **changes}.items() if v}
    return PATH + (f"?{urlencode(query)}" if query else "")


def _list_notice(query: Mapping[str, str]) -> str | None:
    created, updated = shown_count(query, "imported"), shown_count(query, "updated")
    if created is None:
        return _notice(query.get("done", ""))
    return i18n.gettext(
        "Import done: %(created)s added (each gets an invitation by email), %(updated)s updated."
    ) % {"created": created, "updated": updated or 0}


@routes.get(PATH)
async def people_list(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    place = {name: request.query.get(name, "") for name in LIST_FIELDS}
    errors: list[dict[str, str]] = []
    try:
        found = await people.people_page(request.app[POOL], person, place)
    except Refused as refused:
        if refused.kind is not Kind.INVALID:
            raise
        errors = _errors(refused.problems, LIST_FIELDS)
        found = await people.people_page(request.app[POOL], person, {})
    context = {
        "people": [_row(p) for p in found.items],
        "place": place,
        "roles": _roles((*ROLES, ("secretariat", "Secretariat"), ("admin", "Administrator"))),
        "categories": _categories(),
        "errors": errors,
        "error_of": {e["field_id"]: e["message"] for e in errors},
        "more": found.next_cursor and _list_link(place, cursor=found.next_cursor),
        "first": place["cursor"] and _list_link(place, cursor=None),
        "cleared": any(place.values()) and PATH,
        "notice": _list_notice(request.query),
    }
    return page(request, "people/list.html", context, status=422 if errors else 200)


# ---- adding a person --------------------------------------------------------------------------

NEW_FIELDS = ("name", "email", "role", "country", "organisation", "category", "language")


def _new_page(
    request: web.Request,
    values: Mapping[str, str],
    errors: list[dict[str, str]] | None = None,
    status: int = 200,
) -> web.Response:
    errors = errors or []
    context = {
        "values": values,
        "roles": _roles(),
        "languages": _languages(),
        "categories": _categories(),
        "errors": errors,
        "error_of": {e["field_id"]: e["message"] for e in errors},
        "hidden": new_form_key(),
    }
    return page(request, "people/new.html", context, status=status)


@routes.get(f"{PATH}/new")
async def new_person_page(request: web.Request) -> web.StreamResponse:
    people.manager_scope(require_person(request))
    return _new_page(request, dict.fromkeys(NEW_FIELDS, ""))


def _new_body(values: Mapping[str, str]) -> dict[str, Any]:
    """The form as the body of `POST /v1/actors`: only what applies to the role chosen."""
    body: dict[str, Any] = {"name": values["name"], "role": values["role"]}
    if values["email"]:
        body["email"] = values["email"]
    if values["role"] == "focal_point":
        body["country"] = values["country"].upper()
    if values["role"] == "stakeholder":
        body["organisation"] = values["organisation"]
        body["stakeholder_category"] = values["category"]
    if values["language"]:
        body["language"] = values["language"]
    return body


@routes.post(f"{PATH}/new")
async def add_person(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    form = await request.post()
    values = {name: str(form.get(name, "")).strip() for name in NEW_FIELDS}
    if not values["email"]:
        error = {"field_id": "email", "message": i18n.gettext("Enter the person's email address")}
        return _new_page(request, values, [error], 422)
    try:
        created = await accounts.create_account(
            request.app[POOL], person, _new_body(values), form_key(form)
        )
    except Refused as refused:
        if refused.kind is Kind.FORBIDDEN:
            error = {"field_id": "country", "message": i18n.rule_text(refused.message)}
            return _new_page(request, values, [error], 422)
        if refused.kind is not Kind.INVALID:
            raise
        return _new_page(request, values, _errors(refused.problems, NEW_FIELDS), 422)
    if created.made is not None:
        invite(request.app, [created.made])
    return see_other(f"{PATH}/{created.body['id']}?done=created")


# ---- importing a CSV file ---------------------------------------------------------------------


@routes.get(f"{PATH}/import/example.csv")
async def example_csv(request: web.Request) -> web.StreamResponse:
    return web.Response(
        text=imports.EXAMPLE,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="people-example.csv"'},
    )


def _upload_page(request: web.Request, error: str | None = None, status: int = 200) -> web.Response:
    errors = [{"field_id": "file", "message": error}] if error else []
    context = {
        "columns": imports.COLUMNS,
        "language_codes": i18n.LANGUAGES,
        "required": imports.REQUIRED,
        "max_rows": imports.MAX_ROWS,
        "max_mb": imports.MAX_BYTES // 1_000_000,
        "categories": _categories(),
        "errors": errors,
        "error_of": {e["field_id"]: e["message"] for e in errors},
    }
    return page(request, "people/import.html", context, status=status)


@routes.get(f"{PATH}/import")
async def import_page(request: web.Request) -> web.StreamResponse:
    people.manager_scope(require_person(request))
    return _upload_page(request)


@routes.post(f"{PATH}/import")
async def upload(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    form = await request.post()
    sent = form.get("file")
    if not isinstance(sent, web.FileField) or not sent.filename:
        return _upload_page(request, i18n.gettext(FIELD_ERRORS["file"]), 422)
    try:
        import_id = await imports.keep_upload(request.app[POOL], person, sent.file.read())
    except Refused as refused:
        if refused.kind is not Kind.INVALID:
            raise
        return _upload_page(request, i18n.rule_text(refused.message), 422)
    return see_other(f"{PATH}/import/{import_id}")


STATUS_NAMES = {
    "new": i18n.N_("New"),
    "unchanged": i18n.N_("No change"),
    "updated": i18n.N_("Updated"),
    "error": i18n.N_("Error"),
}


@routes.get(f"{PATH}/import/{{id}}")
async def preview(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    outcome = await imports.preview_kept(request.app[POOL], person, request.match_info["id"])
    context = {
        "rows": [
            {**row.as_json(), "status_name": i18n.gettext(STATUS_NAMES[row.status])}
            for row in outcome.rows
        ],
        "counts": outcome.as_json()["counts"],
        "action": request.path,
    }
    return page(request, "people/preview.html", context)


@routes.post(f"{PATH}/import/{{id}}")
async def confirm_import(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    outcome = await imports.apply_kept(request.app[POOL], person, request.match_info["id"])
    invite(request.app, outcome.created)
    counts = {"imported": str(len(outcome.created)), "updated": str(outcome.count("updated"))}
    return see_other(f"{PATH}?{urlencode(counts)}")


# ---- a person ---------------------------------------------------------------------------------

EDIT_FIELDS = ("name", "email", "organisation", "category", "language")


def _person_page(
    request: web.Request,
    found: Person,
    values: Mapping[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    status: int = 200,
) -> web.Response:
    actor = found.actor
    errors = errors or []
    context = {
        "account": _row(found),
        "stakeholder": actor.role == "stakeholder",
        "values": values
        or {
            "name": actor.name,
            "email": actor.email or "",
            "organisation": actor.organisation or "",
            "category": actor.stakeholder_category or "",
            "language": actor.language or "",
        },
        "categories": _categories(),
        "languages": _languages(),
        "errors": errors,
        "error_of": {e["field_id"]: e["message"] for e in errors},
        "notice": _notice(request.query.get("done", "")),
    }
    return page(request, "people/person.html", context, status=status)


@routes.get(f"{PATH}/{{id}}")
async def person_page(request: web.Request) -> web.StreamResponse:
    found = await people.person(
        request.app[POOL], require_person(request), request.match_info["id"]
    )
    return _person_page(request, found)


def _changes(found: Person, values: Mapping[str, str]) -> dict[str, str | None]:
    """What the form changes, as the body of `PATCH /v1/actors/{id}`."""
    changes: dict[str, str | None] = {"name": values["name"]}
    if values["email"] or found.actor.email:  # an account made without an address may stay so
        changes["email"] = values["email"]
    if values["organisation"] or found.actor.organisation:
        changes["organisation"] = values["organisation"]
    if found.actor.role == "stakeholder":
        changes["stakeholder_category"] = values["category"]
    if values["language"] or found.actor.language:  # "not chosen" gives the choice back
        changes["language"] = values["language"] or None
    return changes


@routes.post(f"{PATH}/{{id}}")
async def edit(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    pool, person_id = request.app[POOL], request.match_info["id"]
    found = await people.person(pool, person, person_id)
    form = await request.post()
    values = {name: str(form.get(name, "")).strip() for name in EDIT_FIELDS}
    try:
        await people.edit_person(pool, person, person_id, _changes(found, values))
    except Refused as refused:
        if refused.kind is not Kind.INVALID:
            raise
        errors = _errors(refused.problems, EDIT_FIELDS)
        return _person_page(request, found, values, errors, 422)
    return see_other(f"{PATH}/{person_id}?done=saved")


@routes.get(f"{PATH}/{{id}}/deactivate")
async def deactivate_page(request: web.Request) -> web.StreamResponse:
    found = await people.person(
        request.app[POOL], require_person(request), request.match_info["id"]
    )
    context = {"account": _row(found), "errors": [], "error_of": {}, "reason": ""}
    return page(request, "people/deactivate.html", context)


@routes.post(f"{PATH}/{{id}}/deactivate")
async def deactivate(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    pool, person_id = request.app[POOL], request.match_info["id"]
    found = await people.person(pool, person, person_id)
    reason = str((await request.post()).get("reason", "")).strip()
    if len(reason) > MAX_REASON:
        message = i18n.gettext(FIELD_ERRORS["reason"])
        errors = [{"field_id": "reason", "message": message}]
        context = {
            "account": _row(found),
            "errors": errors,
            "error_of": {"reason": message},
            "reason": reason,
        }
        return page(request, "people/deactivate.html", context, status=422)
    await accounts.deactivate_account(pool, person, person_id, reason or None)
    return see_other(f"{PATH}/{person_id}?done=deactivated")
