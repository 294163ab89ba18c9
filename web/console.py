"""The secretariat's reviews: the list of its regions' reviews, the form that creates one, and
the page that changes what may change once a review runs (its title and description; more
stakeholders are invited from the invitations page, deadlines move on the dashboard).

Creating runs the JSON API's use case (services.reviews.create_review) under an idempotency key
made for each rendering of the form, so a double click creates one review.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
from aiohttp import web
from multidict import MultiDictProxy

import i18n
from api.keys import SERVICES
from api.requests import NEW_REVIEW, REVIEW_TEXT
from domain.access import Actor
from domain.approval import change_refusal
from domain.phases import more_states_refusal
from domain.reference import Region, load_reference
from domain.review import Deadline, LatePolicy, Phase, Timeline
from domain.timeline import next_deadline, on_day, suggested_timeline
from i18n import country_name
from schemas import problems_in
from services import approvals, reviews
from services.refusals import STATUS_OF_KIND, Kind, Refused
from services.reviews import Command
from web import approver_rows
from web.approver_rows import ApproverRow, Named
from web.format import deadline
from web.render import page
from web.reviews import DEADLINES, KEY_FIELD, form_key, new_form_key, shown_count
from web.sessions import require_person
from web.signin import see_other

routes = web.RouteTableDef()

# The words below are translated where they are shown (i18n.gettext).
PHASE_NAMES = {
    Phase.SCHEDULED: i18n.N_("Scheduled"),
    Phase.CALL_FOR_INPUTS: i18n.N_("Call for inputs"),
    Phase.CONSULTATION: i18n.N_("Consultation"),
    Phase.COMPILATION: i18n.N_("Compilation"),
    Phase.APPROVAL: i18n.N_("Approval"),
    Phase.PUBLISHED: i18n.N_("Published"),
    Phase.CANCELLED: i18n.N_("Cancelled"),
}
# Each deadline's question on the form, and how an error names it.
DAY_LABELS = {
    Deadline.CALL_OPENS_AT: i18n.N_("the date the call for inputs opens"),
    Deadline.INPUTS_DUE_AT: i18n.N_("the date national reports and inputs are due"),
    Deadline.CONSULTATION_DUE_AT: i18n.N_("the date the consultation closes"),
    Deadline.REPORT_DUE_AT: i18n.N_("the date the regional report is due"),
}
# The same questions as the form's labels.
DAY_HEADINGS = {
    Deadline.CALL_OPENS_AT: i18n.N_("The date the call for inputs opens"),
    Deadline.INPUTS_DUE_AT: i18n.N_("The date national reports and inputs are due"),
    Deadline.CONSULTATION_DUE_AT: i18n.N_("The date the consultation closes"),
    Deadline.REPORT_DUE_AT: i18n.N_("The date the regional report is due"),
}
LATE_CHOICES = (
    (LatePolicy.ACCEPT_FLAGGED, i18n.N_("Accept them, marked as late")),
    (LatePolicy.REJECT, i18n.N_("Refuse them")),
)
DEFAULT_REMINDERS = ", ".join(str(d) for d in reviews.DEFAULT_REMINDER_DAYS)
# The most stakeholders the form lists to pick from; more are invited by CSV file.
PICKABLE = 2000
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NO_ACCOUNT = i18n.N_("no account has this email; add it on the People page")
NOT_EMAIL = i18n.N_("this is not an email address")
# The most rows of a CSV file named one by one; past them, how many more.
MAX_ROW_ERRORS = 50
# The message beside each field for what the schema refuses there.
FIELD_MESSAGES = {
    "title": i18n.N_("Enter a title of at most 300 characters"),
    "description": i18n.N_("Enter a description of at most 5,000 characters"),
    "member_states": i18n.N_("Select at least one member State, from the list"),
    "reminder_days": i18n.N_(
        "Enter up to 10 different numbers of days from 1 to 365, such as 14, 7, 1"
    ),
    "late_submissions": i18n.N_("Select what happens to national reports and inputs sent late"),
    "stakeholders": i18n.N_("Select stakeholders from the list"),
    "region": i18n.N_("Select a region from the list"),
}
KEY_REUSED = i18n.N_(
    "This page was already used to create a review with other answers. Check them and"
    " create the review again."
)


def _field(pointer: str) -> str:
    """The form field a JSON Pointer into a NewReview body is about."""
    parts = pointer.split("/")
    if len(parts) < 2:
        return ""
    return parts[2] if parts[1] == "timeline" and len(parts) > 2 else parts[1]


def _message(field_id: str, message: str) -> str:
    """A problem the schema or the use case found, in the form's words."""
    if field_id in DAY_LABELS:
        for name, label in DAY_LABELS.items():
            message = message.replace(name.value, i18n.gettext(label))
        return f"{i18n.gettext(DAY_HEADINGS[Deadline(field_id)])} {message}"
    return i18n.gettext(FIELD_MESSAGES[field_id]) if field_id in FIELD_MESSAGES else message


def form_errors(
    problems: list[tuple[str, str]], named: Named, *, from_schema: bool = False
) -> list[dict[str, str]]:
    """The errors of a review form naming approvers: those about an approver beside its row,
    the others as `errors_from` places them."""
    beside_rows, others = approver_rows.approver_errors(problems, named, from_schema=from_schema)
    return errors_from(others) + beside_rows


def errors_from(problems: list[tuple[str, str]]) -> list[dict[str, str]]:
    """One error per field (the first found there), in the order of the problems."""
    errors: dict[str, dict[str, str]] = {}
    for pointer, message in problems:
        field_id = _field(pointer)
        if pointer == "":
            errors.setdefault("", {"field_id": "", "message": i18n.gettext(KEY_REUSED)})
        else:
            errors.setdefault(
                field_id, {"field_id": field_id, "message": _message(field_id, message)}
            )
    return list(errors.values())


# ---- the list --------------------------------------------------------------------------------


def _timeline(deadlines: Mapping[str, str]) -> Timeline:
    return Timeline(**{name: datetime.fromisoformat(v) for name, v in deadlines.items()})


def _listed(row: asyncpg.Record, person: Actor, now: datetime) -> dict[str, Any]:
    phase = Phase(row["phase"])
    coming = None if phase.terminal else next_deadline(_timeline(row["deadlines"]), now)
    return {
        "id": row["id"],
        "title": row["title"],
        "region": row["region"],
        "phase": i18n.gettext(PHASE_NAMES[phase]),
        "next": coming
        and i18n.gettext("%(label)s: %(when)s")
        % {
            "label": i18n.gettext(DEADLINES[coming[0]]),
            "when": deadline(coming[1], person.time_zone),
        },
        "submissions": row["submissions"],
    }


@routes.get("/reviews")
async def reviews_page(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    rows = await reviews.newest_first(request.app[SERVICES], person)
    now = datetime.now(UTC)
    listed = [_listed(row, person, now) for row in rows]
    created = next((r for r in listed if r["id"] == request.query.get("created")), None)
    context = {
        "reviews": listed,
        "notice": created
        and i18n.gettext("The review “%(title)s” was created.") % {"title": created["title"]},
    }
    return page(request, "reviews/list.html", context)


# ---- the new review's form -------------------------------------------------------------------


@dataclass
class NewReview:
    """The form's answers as typed."""

    region: str
    title: str = ""
    description: str = ""
    member_states: set[str] = field(default_factory=set)
    days: dict[str, str] = field(default_factory=dict)
    late: str = LatePolicy.ACCEPT_FLAGGED.value
    reminders: str = DEFAULT_REMINDERS
    stakeholders: set[str] = field(default_factory=set)
    report_languages: list[str] = field(default_factory=lambda: [i18n.DEFAULT_LANGUAGE])
    approvers: list[ApproverRow] = field(default_factory=lambda: approver_rows.named_rows([]))

    @classmethod
    def suggested(cls, region: Region, now: datetime) -> NewReview:
        """A new review of `region`: its member States, and the 2020 spacing from a week on."""
        timeline = suggested_timeline(now)
        days = {d.value: timeline.get(d).date().isoformat() for d in Deadline}
        return cls(region.code, member_states=set(region.default_scope), days=days)


def _states(region: Region, picked: set[str]) -> list[dict[str, Any]]:
    names = {code: country_name(code) for code in region.iso3_codes}
    return [
        {"code": code, "name": name, "checked": code in picked}
        for code, name in sorted(names.items(), key=lambda item: item[1])
    ]


def _region_asked(person: Actor, code: str | None) -> Region | None:
    """The region the form is for: the one asked for, or the person's only one."""
    codes = reviews.creatable_regions(person)
    if not code and len(codes) == 1:
        code = codes[0]
    return load_reference().region(code) if code in codes else None


async def _form(
    request: web.Request,
    person: Actor,
    region: Region,
    answers: NewReview,
    errors: list[dict[str, str]] | None = None,
    status: int = 200,
) -> web.Response:
    deps = request.app[SERVICES]
    stakeholders = await reviews.stakeholders_to_invite(deps, person, region.code, PICKABLE)
    errors = errors or []
    context = {
        "region": region,
        "answers": answers,
        "states": _states(region, answers.member_states),
        "deadlines": [(d.value, i18n.gettext(DAY_HEADINGS[d])) for d in Deadline],
        "late_choices": [(value, i18n.gettext(label)) for value, label in LATE_CHOICES],
        "stakeholders": [
            {**dict(s), "id": str(s["id"]), "checked": str(s["id"]) in answers.stakeholders}
            for s in stakeholders
        ],
        "hidden": new_form_key(),
        "report_language_choices": [i18n.language(code) for code in i18n.LANGUAGES],
        "approver_rows": answers.approvers,
        "approver_choices": await _approver_choices(request, person, region.code, []),
        "errors": errors,
        "error_of": {e["field_id"]: e["message"] for e in errors},
    }
    return page(request, "reviews/new.html", context, status=status)


@routes.get("/reviews/new")
async def new_review_page(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    asked = request.query.get("region")
    region = _region_asked(person, asked)
    if region is None:
        regions = [load_reference().region(c) for c in reviews.creatable_regions(person)]
        errors = (
            [{"field_id": "region", "message": i18n.gettext("Select a region")}] if asked else []
        )
        context = {"regions": regions, "errors": errors}
        return page(request, "reviews/new_region.html", context, status=422 if asked else 200)
    return await _form(request, person, region, NewReview.suggested(region, datetime.now(UTC)))


def _upload(posted: MultiDictProxy[Any]) -> bytes | None:
    """The CSV file's bytes, if one was chosen (the application bounds a request's size)."""
    upload = posted.get("csv")
    if not isinstance(upload, web.FileField) or not upload.filename:
        return None
    raw: bytes = upload.file.read()
    return raw


def _text(posted: MultiDictProxy[Any], name: str) -> str:
    value = posted.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _texts(posted: MultiDictProxy[Any], name: str) -> set[str]:
    return {value for value in posted.getall(name, []) if isinstance(value, str)}


def _answers(region: Region, posted: MultiDictProxy[Any]) -> NewReview:
    return NewReview(
        region.code,
        title=_text(posted, "title"),
        description=_text(posted, "description"),
        member_states=_texts(posted, "member_states"),
        days={d.value: _text(posted, d.value) for d in Deadline},
        late=_text(posted, "late_submissions"),
        reminders=_text(posted, "reminder_days"),
        stakeholders=_texts(posted, "stakeholders"),
        # In the order of the form: the first gives the report's own files.
        report_languages=[v for v in posted.getall("report_languages", []) if v in i18n.LANGUAGES],
        approvers=approver_rows.typed_rows(posted),
    )


async def _approver_choices(
    request: web.Request, person: Actor, region: str, named: list[Mapping[str, Any]]
) -> list[dict[str, str]]:
    """What each approver row offers: the region's accounts that may approve the report."""
    deps = request.app[SERVICES]
    candidates = await reviews.approvers_to_name(deps, person, region, approver_rows.PICKABLE)
    return approver_rows.choices(candidates, named)


def _timeline_body(answers: NewReview, errors: list[dict[str, str]]) -> dict[str, str]:
    timeline = {}
    for d in Deadline:
        try:
            day = date.fromisoformat(answers.days[d.value])
        except ValueError:
            label = i18n.gettext(DAY_LABELS[d])
            message = i18n.gettext("Enter %(label)s as a date, such as 2026-10-26") % {
                "label": label
            }
            errors.append({"field_id": d.value, "message": message})
            continue
        timeline[d.value] = on_day(d, day).isoformat()
    return timeline


def _reminder_days(text: str, errors: list[dict[str, str]]) -> list[int]:
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    if all(p.isascii() and p.isdigit() and len(p) <= 3 for p in parts):
        return [int(p) for p in parts]
    message = i18n.gettext(FIELD_MESSAGES["reminder_days"])
    errors.append({"field_id": "reminder_days", "message": message})
    return []


def csv_emails(raw: bytes) -> list[tuple[int, str]]:
    """The addresses of a CSV file, each with its row number: the first cell of each row that is
    not empty, a heading such as "email" on the first row left out."""
    text = raw.decode("utf-8-sig", "replace")
    rows = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [cell.strip() for cell in row if cell.strip()]
        if not cells or (number == 1 and "@" not in cells[0]):
            continue
        rows.append((number, cells[0]))
    return rows


async def _from_csv(
    request: web.Request, person: Actor, region: Region, raw: bytes
) -> tuple[set[str], list[dict[str, str]]]:
    """The stakeholder accounts of the region the file's addresses name, and an error for each
    row that names none."""
    rows = csv_emails(raw)
    found = await reviews.stakeholders_with_emails(
        request.app[SERVICES], person, region.code, [email.lower() for _, email in rows]
    )
    picked: set[str] = set()
    errors = []
    for number, email in rows:
        ids = found.get(email.lower())
        if ids:
            picked.update(str(i) for i in ids)
            continue
        why = i18n.gettext(NO_ACCOUNT if EMAIL.match(email) else NOT_EMAIL)
        message = i18n.gettext("Row %(number)s of the CSV file: %(why)s") % {
            "number": number,
            "why": why,
        }
        errors.append({"field_id": "csv", "message": message})
    if not rows:
        message = i18n.gettext("The CSV file holds no email address")
        errors.append({"field_id": "csv", "message": message})
    if len(errors) > MAX_ROW_ERRORS:
        more = len(errors) - MAX_ROW_ERRORS
        errors = errors[:MAX_ROW_ERRORS]
        message = i18n.ngettext(
            "And %(count)s more row of the CSV file",
            "And %(count)s more rows of the CSV file",
            more,
        ) % {"count": more}
        errors.append({"field_id": "csv", "message": message})
    return picked, errors


def _body(
    answers: NewReview, invited: set[str], named: Named, errors: list[dict[str, str]]
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "region": answers.region,
        "title": answers.title,
        "member_states": sorted(answers.member_states),
        "timeline": _timeline_body(answers, errors),
        "reminder_days": _reminder_days(answers.reminders, errors),
        "late_submissions": answers.late,
        # Nobody picked: the review is open to every stakeholder of the region.
        "stakeholders": sorted(invited) if invited else "open",
    }
    if answers.description:
        body["description"] = answers.description
    if named.approvers:
        body["approvers"] = named.approvers
    # None selected: the report is in English, as the API makes it unless told.
    if len(answers.report_languages) <= 2:
        body["report_languages"] = answers.report_languages or [i18n.DEFAULT_LANGUAGE]
    else:
        message = i18n.gettext("Select at most two languages for the report")
        errors.append({"field_id": "report_languages", "message": message})
    return body


@routes.post("/reviews/new")
async def create_review(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    posted = await request.post()
    region = _region_asked(person, _text(posted, "region"))
    if region is None:
        raise web.HTTPNotFound()
    answers = _answers(region, posted)
    errors: list[dict[str, str]] = []
    invited = set(answers.stakeholders)
    upload = _upload(posted)
    if upload is not None:
        from_file, errors = await _from_csv(request, person, region, upload)
        invited |= from_file
    offered = await _approver_choices(request, person, region.code, [])
    named = approver_rows.named_by(answers.approvers, approver_rows.roles_of(offered), errors)
    body = _body(answers, invited, named, errors)
    # A date that could not be read is named beside its field already, not again as missing.
    problems = [(p.pointer, p.message) for p in problems_in(NEW_REVIEW, body)]
    problems = [(pointer, why) for pointer, why in problems if pointer != "/timeline"]
    errors = form_errors(problems, named, from_schema=True) + errors
    if errors:
        return await _form(request, person, region, answers, errors, 422)
    key = form_key(posted)
    try:
        created = await reviews.create_review(request.app[SERVICES], person, body, key)
    except Refused as refused:
        if refused.kind is not Kind.INVALID:
            raise
        errors = form_errors(refused.problems, named)
        return await _form(request, person, region, answers, errors, 422)
    return see_other(f"/reviews?created={created['id']}")


# ---- editing a review ------------------------------------------------------------------------


async def _edit_page(
    request: web.Request,
    person: Actor,
    values: Mapping[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    status: int = 200,
    rows: list[ApproverRow] | None = None,
) -> web.Response:
    deps, review_id = request.app[SERVICES], request.match_info["id"]
    review = await reviews.run_by(deps, person, review_id, "may change it")
    chain = await approvals.approval_chain(deps, person, review_id)
    approvers_closed = change_refusal(Phase(chain["phase"]), chain["version"])
    region = load_reference().region(review["region"])
    assert region is not None  # a review's region is one of the five
    members = set(review["member_states"])
    errors = errors or []
    context = {
        "review": review,
        "values": values or {"title": review["title"], "description": review["description"]},
        "states": [country_name(c) for c in review["member_states"]],
        "more_states": [s for s in _states(region, set()) if s["code"] not in members],
        "states_closed": more_states_refusal(Phase(review["phase"])),
        "state_key": new_form_key()[KEY_FIELD],
        "hidden": new_form_key(),
        "approvers": chain["approvers"],
        "approvers_closed": approvers_closed and i18n.rule_text(approvers_closed.message),
        "approver_rows": rows or approver_rows.named_rows(chain["approvers"]),
        "approver_choices": await _approver_choices(
            request, person, review["region"], chain["approvers"]
        ),
        "notice": _edit_notice(request.query),
        "errors": errors,
        "error_of": {e["field_id"]: e["message"] for e in errors},
    }
    return page(request, "reviews/edit.html", context, status=status)


def _edit_notice(query: Mapping[str, str]) -> str | None:
    """What the page's forms did (303 here with `saved`, or `states`: a count)."""
    if "saved" in query:
        return i18n.gettext("Your changes were saved.")
    states = shown_count(query, "states")
    if states is None:
        return None
    if states == 0:
        return i18n.gettext(
            "No member State invited: those you selected were member States already."
        )
    return i18n.ngettext(
        "%(count)s member State invited; its focal points get an invitation by email.",
        "%(count)s member States invited; their focal points get an invitation by email.",
        states,
    ) % {"count": states}


@routes.get("/reviews/{id}/edit")
async def edit_page(request: web.Request) -> web.StreamResponse:
    return await _edit_page(request, require_person(request))


@routes.post("/reviews/{id}/edit")
async def edit(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    deps, review_id = request.app[SERVICES], request.match_info["id"]
    review = await reviews.run_by(deps, person, review_id, "may change it")
    posted = await request.post()
    values = {name: str(posted.get(name, "")).strip() for name in ("title", "description")}
    changes: dict[str, Any] = dict(values)
    errors: list[dict[str, str]] = []
    # The form leaves the rows out once the approval has begun: then the approvers stay.
    rows = approver_rows.typed_rows(posted) if approver_rows.has_rows(posted) else None
    named = Named([], [])
    if rows is not None:
        offered = await _approver_choices(request, person, review["region"], [])
        named = approver_rows.named_by(rows, approver_rows.roles_of(offered), errors)
        changes["approvers"] = named.approvers
    problems = [(p.pointer, p.message) for p in problems_in(REVIEW_TEXT, changes)]
    errors = form_errors(problems, named, from_schema=True) + errors
    if errors:
        return await _edit_page(request, person, values, errors, 422, rows)
    try:
        await reviews.describe_review(deps, person, review_id, changes, form_key(posted))
    except Refused as refused:
        if refused.kind not in (Kind.INVALID, Kind.CONFLICT):
            raise
        errors = form_errors(refused.problems, named) or [
            {"field_id": "approvers", "message": i18n.rule_text(refused.message)}
        ]
        status = STATUS_OF_KIND[refused.kind]
        return await _edit_page(request, person, values, errors, status, rows)
    return see_other(f"/reviews/{review_id}/edit?saved")


@routes.post("/reviews/{id}/member-states")
async def invite_states(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    posted = await request.post()
    picked = sorted(_texts(posted, "member_states"))
    if not picked:
        message = i18n.gettext("Select at least one member State")
        error = {"field_id": "member_states", "message": message}
        return await _edit_page(request, person, errors=[error], status=422)
    review_id = request.match_info["id"]
    command = Command(review_id, {"member_states": picked}, form_key(posted))
    try:
        answer = await reviews.invite(request.app[SERVICES], person, command)
    except Refused as refused:
        if refused.kind not in (Kind.INVALID, Kind.CONFLICT):
            raise
        error = {"field_id": "member_states", "message": i18n.rule_text(refused.message)}
        return await _edit_page(request, person, errors=[error], status=422)
    return see_other(f"/reviews/{review_id}/edit?states={len(answer['member_states_invited'])}")
