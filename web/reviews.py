"""A review as the focal point or stakeholder taking part in it sees it, and the form that
sends its national report or input.

The form is generated from the document's schema (web.forms). What is typed is kept on the
server as a draft (services.drafts) whenever the form is posted; sending runs the API's own
checks and use case (services.submissions), under an idempotency key made for each rendering
of the form, so a double click sends once.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg
from aiohttp import web
from multidict import MultiDictProxy

import i18n
from api.bodies import off_loop, unstorable_or_too_many_values
from api.idempotency import MAX_KEY_LENGTH
from api.keys import SERVICES
from domain.access import KIND_OF_ROLE, Actor, may_submit, own_subject, runs_review
from domain.clearance import drafting_country
from domain.intake import TAKING_SUBMISSIONS
from domain.reference import load_reference
from domain.review import Deadline, LatePolicy, Phase, SubmissionKind
from i18n import country_name
from services import annexes, clearance, drafts, reviews, schema_versions, submissions
from services.engine import Deps
from services.refusals import STATUS_OF_KIND, Kind, Refused
from services.submissions import Intake
from web import meetings
from web.annex_section import ANNEX_FIELD, annex_rows, annex_section
from web.clearance import form_status
from web.format import deadline, local_time
from web.forms import FieldError, Form, FormButton, form_for
from web.render import page
from web.sessions import require_person

routes = web.RouteTableDef()

# What each kind is called in a sentence.
# (Each translated where it is shown: i18n.gettext(WHAT[kind]).)
WHAT = {
    SubmissionKind.NATIONAL_REPORT: i18n.N_("national report"),
    SubmissionKind.STAKEHOLDER_INPUT: i18n.N_("input"),
}
PHASES = {
    Phase.SCHEDULED: i18n.N_("Not open yet: the call for inputs has not started"),
    Phase.CALL_FOR_INPUTS: i18n.N_(
        "Call for inputs: national reports and stakeholder inputs are collected"
    ),
    Phase.CONSULTATION: i18n.N_(
        "Consultation: stakeholders comment on the synthesis of the inputs"
    ),
    Phase.COMPILATION: i18n.N_("The regional report is being compiled"),
    Phase.APPROVAL: i18n.N_("The regional report is awaiting approval"),
    Phase.PUBLISHED: i18n.N_("The regional report is published"),
    Phase.CANCELLED: i18n.N_("Cancelled: this review ended without a report"),
}
DEADLINES = {
    Deadline.CALL_OPENS_AT: i18n.N_("The call for inputs opens"),
    Deadline.INPUTS_DUE_AT: i18n.N_("National reports and stakeholder inputs are due"),
    Deadline.CONSULTATION_DUE_AT: i18n.N_("The consultation closes"),
    Deadline.REPORT_DUE_AT: i18n.N_("The regional report is due"),
}
KEY_FIELD = "_key"
SEND, SAVE = "_submit", "_save"


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _review_path(review_id: str) -> str:
    return f"/reviews/{review_id}"


def _kind_asked(intake: Intake, query: Mapping[str, str]) -> SubmissionKind:
    """The person's own kind; a form of the other kind asked for by name is refused (403)."""
    return submissions.schema_kind(intake, {"kind": query.get("kind")})


# ---- the review's page -----------------------------------------------------------------------


def _asked(person: Actor, kind: SubmissionKind | None) -> str:
    if kind is SubmissionKind.NATIONAL_REPORT:
        country = country_name(person.country or "")
        return i18n.gettext(
            "The national report of %(country)s on its implementation of the Global Compact."
        ) % {"country": country}
    if kind is SubmissionKind.STAKEHOLDER_INPUT:
        return i18n.gettext(
            "The written input of %(organisation)s on the objectives it works on."
        ) % {"organisation": person.organisation}
    return i18n.gettext("Nothing: you follow this review.")


def _deadlines(review: Mapping[str, Any], person: Actor) -> list[dict[str, str]]:
    return [
        {
            "label": i18n.gettext(label),
            "when": deadline(_instant(review["deadlines"][d.value]), person.time_zone),
        }
        for d, label in DEADLINES.items()
    ]


def _sent(items: list[dict[str, Any]], review_id: str, zone: str) -> list[dict[str, Any]]:
    return [
        {
            "label": _upper_first(i18n.gettext(WHAT[SubmissionKind(item["kind"])])),
            "versions": [
                {
                    "version": v["version"],
                    "late": v["late"],
                    "received": local_time(_instant(v["received_at"]), zone),
                    "href": f"/reviews/{review_id}/submissions/{item['id']}?version={v['version']}",
                }
                for v in reversed(item["versions"])
            ],
        }
        for item in items
    ]


def shown_count(query: Mapping[str, str], name: str) -> int | None:
    """A count the page's address carries for its notice (a redirect after a form put it
    there), if it is one: anything else typed there shows no notice."""
    text = query.get(name, "")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else None


def _sent_notice(query: Mapping[str, str], kind: SubmissionKind | None) -> str | None:
    """The notice after a form was sent (303 to this page with `sent` = its version)."""
    version = shown_count(query, "sent")
    if kind is None or version is None:
        return None
    return i18n.gettext("Your %(what)s was sent: version %(version)s") % {
        "what": i18n.gettext(WHAT[kind]),
        "version": version,
    }


@routes.get("/reviews/{id}")
async def review_page(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    deps = request.app[SERVICES]
    review = await reviews.review_document(deps, person, request.match_info["id"])
    kind = KIND_OF_ROLE.get(person.role)
    sent = await submissions.sent(deps, person, review["id"]) if kind else []
    extension = review["country_extensions"].get(person.country or "")
    region = load_reference().region(review["region"])
    context = {
        "review": review,
        "region": f"{i18n.gettext(region.commission)} ({i18n.gettext(region.region)})"
        if region
        else review["region"],
        "phase": i18n.gettext(PHASES[Phase(review["phase"])]),
        "asked": _asked(person, kind),
        "what": i18n.gettext(WHAT[kind]) if kind else None,
        "deadlines": _deadlines(review, person),
        "extension": deadline(_instant(extension), person.time_zone) if extension else None,
        "late_accepted": review["late_submissions"] == LatePolicy.ACCEPT_FLAGGED,
        "sent": _sent(sent, review["id"], person.time_zone),
        "open": kind is not None and Phase(review["phase"]) in TAKING_SUBMISSIONS,
        "notice": _sent_notice(request.query, kind),
        # Those who run the review invite stakeholders from here; those taking part never see it.
        "runs": runs_review(person, review["region"]),
        "team": drafting_country(person) is not None,
        "meetings": await meetings.invited_meetings(request, person, review["id"]),
        "meeting_notice": meetings.meeting_notice(request.query),
        "delegate_rows": range(meetings.DELEGATE_ROWS),
        "delegation": person.role == "focal_point",
    }
    return page(request, "reviews/review.html", context)


@routes.get("/reviews/{id}/submissions/{submission}")
async def submission_page(request: web.Request) -> web.StreamResponse:
    """One version of a submission, read only."""
    person = require_person(request)
    deps = request.app[SERVICES]
    review = await reviews.visible(deps, person, request.match_info["id"])
    document = await annexes.submission_document(
        deps, person, request.match_info["submission"], request.query.get("version")
    )
    if document["review_id"] != review["id"]:
        raise web.HTTPNotFound()
    kind = SubmissionKind(document["kind"])
    context = {
        "review": review,
        "what": i18n.gettext(WHAT[kind]),
        # The secretariat reads other people's submissions: "Your" is only for their authors.
        "own": own_subject(person) == (kind.value, document["subject"]),
        "sender": _sender(document["content"]),
        "document": document,
        "received": local_time(_instant(document["received_at"]), person.time_zone),
        "fields": form_for(kind.value, document["schema_version"]).view(document["content"]).fields,
        "annexes": annex_rows(document["annexes"]),
    }
    return page(request, "reviews/submission.html", context)


def _sender(content: dict[str, Any]) -> str:
    """Who a submission is from, in words: the State's name or the organisation's."""
    if "country" in content:
        iso3 = str(content["country"])
        return country_name(iso3)
    return str(content.get("organisation", {}).get("name", ""))


# ---- the form --------------------------------------------------------------------------------


def _blank(person: Actor, kind: SubmissionKind) -> dict[str, Any]:
    """A new document with what the account already says filled in."""
    if kind is SubmissionKind.NATIONAL_REPORT:
        return {"country": person.country} if person.country else {}
    organisation = {"name": person.organisation, "category": person.stakeholder_category}
    return {"organisation": {k: v for k, v in organisation.items() if v}}


def new_form_key() -> dict[str, str]:
    """The hidden field of a form sent through an idempotent use case: a new key for each
    rendering, so that a form sent twice from one page is sent once."""
    return {KEY_FIELD: secrets.token_urlsafe(16)}


def form_key(form: MultiDictProxy[Any]) -> str | None:
    """The form's idempotency key, when it is one `new_form_key` could have made."""
    key = form.get(KEY_FIELD)
    if isinstance(key, str) and 0 < len(key) <= MAX_KEY_LENGTH and key.isprintable():
        return key
    return None


async def _form_page(
    request: web.Request,
    intake: Intake,
    form: Form,
    document: dict[str, Any],
    *,
    problems: list[Any] | None = None,
    refusal: str | None = None,
    notice: str | None = None,
    annex_error: str | None = None,
    status: int = 200,
) -> web.Response:
    what = i18n.gettext(WHAT[intake.kind])
    view = form.view(document, problems or [])
    errors = view.errors or ([FieldError(refusal, "")] if refusal else [])
    if annex_error:
        errors = [FieldError(annex_error, ANNEX_FIELD)]
    buttons = [
        FormButton(SEND, "1", i18n.gettext("Send your %(what)s") % {"what": what}),
        FormButton(SAVE, "1", i18n.gettext("Save draft"), secondary=True),
    ]
    if not may_submit(intake.actor):  # a drafter saves; a focal point sends
        buttons = buttons[1:]
    team = drafting_country(intake.actor) is not None
    context = {
        "review": intake.review,
        "what": what,
        "national": intake.kind is SubmissionKind.NATIONAL_REPORT,
        "view": view,
        "errors": errors,
        "notice": notice,
        "buttons": buttons,
        "hidden": new_form_key(),
        # Not the request's path: the form is shown again after a file was refused too.
        "action": f"{_review_path(intake.review['id'])}/submit",
        "back": _review_path(intake.review["id"]),
        "team": team,
        "clearance": await form_status(request, intake.actor, intake.review["id"])
        if team
        else None,
        "annexes": await annex_section(request, intake, annex_error),
    }
    return page(request, "reviews/submit.html", context, status=status)


async def _intake(request: web.Request) -> tuple[Deps, Intake, Form]:
    person = require_person(request)
    deps = request.app[SERVICES]
    intake = await submissions.intake(deps, person, request.match_info["id"])
    return deps, intake, form_for(_kind_asked(intake, request.query).value, intake.schema_version)


async def _last_sent(deps: Deps, intake: Intake) -> dict[str, Any] | None:
    """The latest version sent, if any: a new version starts from it."""
    items = await submissions.sent(deps, intake.actor, intake.review["id"])
    if not items:
        return None
    return await submissions.submission_document(deps, intake.actor, items[0]["id"], None)


async def _form_start(
    request: web.Request, deps: Deps, intake: Intake
) -> tuple[dict[str, Any], int, str | None]:
    """What the form starts from: the draft if there is one, else the version sent last,
    else a new document; the version of the form it was written for; and the notice that
    says which."""
    draft = await drafts.load(deps, intake)
    if draft is not None:
        saved = local_time(draft.updated_at, intake.actor.time_zone)
        notice = (
            i18n.gettext("Your draft was saved on %(when)s.") % {"when": saved}
            if "saved" in request.query
            else None
        )
        return draft.content, draft.schema_version, notice
    last = await _last_sent(deps, intake)
    if last is not None:
        notice = i18n.gettext("This starts from version %(version)s, the last you sent.") % {
            "version": last["version"]
        }
        return last["content"], last["schema_version"], notice
    return _blank(intake.actor, intake.kind), intake.schema_version, None


@routes.get("/reviews/{id}/submit")
async def submission_form(request: web.Request) -> web.StreamResponse:
    """The draft if there is one, else the version sent last, else a new document; either
    brought up to date when written for an earlier version of the form."""
    deps, intake, form = await _intake(request)
    content, written_for, notice = await _form_start(request, deps, intake)
    return await _started_from(request, intake, form, content, written_for, notice)


async def form_with_annex_error(
    request: web.Request, deps: Deps, intake: Intake, message: str, status: int
) -> web.Response:
    """The form as it starts, with what was wrong with the file beside the field to attach
    one."""
    content, written_for, _ = await _form_start(request, deps, intake)
    form = form_for(intake.kind.value, intake.schema_version)
    return await _started_from(
        request, intake, form, content, written_for, None, annex_error=message, status=status
    )


async def _started_from(
    request: web.Request,
    intake: Intake,
    form: Form,
    content: dict[str, Any],
    written_for: int,
    notice: str | None,
    *,
    annex_error: str | None = None,
    status: int = 200,
) -> web.Response:
    """The form filled with `content`, written against version `written_for` of the form:
    an earlier version's answers are carried over where the form still asks for them, and
    what is left to fix is shown beside its fields."""
    updated = schema_versions.up_to_date(
        intake.kind.value, content, written_for, intake.schema_version
    )
    if updated is None:
        return await _form_page(
            request, intake, form, content, notice=notice, annex_error=annex_error, status=status
        )
    changed = i18n.gettext(
        "This form has changed since these answers were written. They were carried over to"
        " the new form; check the questions marked below before you send it."
    )
    return await _form_page(
        request,
        intake,
        form,
        updated.content,
        problems=updated.problems,
        notice=f"{notice} {changed}" if notice else changed,
        annex_error=annex_error,
        status=status,
    )


def _plain_refusal(refused: Refused, review: asyncpg.Record, actor: Actor, what: str) -> str:
    """Why the review did not take the submission, in plain words."""
    if refused.kind is Kind.INVALID:  # the key of a page already sent, with other answers
        return i18n.gettext(
            "This page was already used to send your %(what)s with other answers."
            " Check your answers and send them again."
        ) % {"what": what}
    if refused.kind is not Kind.CONFLICT:
        return i18n.rule_text(refused.message)
    phase = Phase(review["phase"])
    if phase is Phase.SCHEDULED:
        opens = deadline(_instant(review["deadlines"][Deadline.CALL_OPENS_AT]), actor.time_zone)
        return i18n.gettext(
            "The call for inputs has not opened yet. You can send your %(what)s from %(opens)s."
        ) % {"what": what, "opens": opens}
    if phase in TAKING_SUBMISSIONS and review["late_submissions"] == LatePolicy.REJECT:
        due = deadline(_instant(review["deadlines"][Deadline.INPUTS_DUE_AT]), actor.time_zone)
        return i18n.gettext(
            "The deadline was %(due)s, and this review does not take late submissions."
        ) % {"due": due}
    return i18n.gettext("This review no longer takes submissions (%(phase)s).") % {
        "phase": _lower_first(i18n.gettext(PHASES[phase]))
    }


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    """A phrase that ends a sentence, its first letter in lower case (for the languages that
    have cases at all)."""
    return text[:1].lower() + text[1:]


async def _send(
    request: web.Request, deps: Deps, intake: Intake, form: Form, document: dict[str, Any]
) -> web.StreamResponse:
    """Send the document as the API would, after the same checks; the draft stays until the
    review has accepted it."""
    problems = await off_loop(form.problems, document)
    if problems:
        return await _form_page(request, intake, form, document, problems=problems, status=422)
    body = {"kind": intake.kind.value, "content": document}
    try:
        receipt = await submissions.submit(deps, intake, body, form_key(await request.post()))
    except Refused as refused:
        if refused.kind not in (Kind.CONFLICT, Kind.FORBIDDEN, Kind.INVALID):
            raise
        review = await reviews.visible(deps, intake.actor, intake.review["id"])
        what = i18n.gettext(WHAT[intake.kind])
        words = (
            i18n.rule_text(refused.message)
            if isinstance(refused, clearance.NotCleared)
            else _plain_refusal(refused, review, intake.actor, what)
        )
        refusal = i18n.gettext(
            "Your %(what)s was not sent. %(why)s Your answers are kept as a draft."
        ) % {"what": what, "why": words}
        status = STATUS_OF_KIND[refused.kind]
        return await _form_page(request, intake, form, document, refusal=refusal, status=status)
    await drafts.discard(deps, intake)
    location = f"{_review_path(intake.review['id'])}?sent={receipt['version']}"
    return web.Response(status=303, headers={"Location": location})


@routes.post("/reviews/{id}/submit")
async def post_submission_form(request: web.Request) -> web.StreamResponse:
    """Every post keeps what was typed as the draft (when it can be stored), then adds or
    removes an entry, saves, or sends."""
    deps, intake, form = await _intake(request)
    posted = await request.post()
    document = form.parse(posted)
    action = form.action(posted)
    if action is not None:
        document = form.apply(document, action)
    unstorable = unstorable_or_too_many_values(document)
    if unstorable:
        return await _form_page(request, intake, form, document, problems=unstorable, status=422)
    await drafts.save(deps, intake, document)
    if SEND in posted and action is None:
        return await _send(request, deps, intake, form, document)
    if SAVE in posted and action is None:
        location = f"{request.path}?saved"
        return web.Response(status=303, headers={"Location": location})
    return await _form_page(request, intake, form, document)
