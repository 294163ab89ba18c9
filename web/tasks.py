"""My tasks, a task's page (the synthesis, the response form, complete) and handing a task to
a colleague: the use cases of services.tasks, as the JSON API runs them."""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import asyncpg
from aiohttp import web

import i18n
from api.bodies import unstorable_or_too_many_values
from api.keys import SERVICES, SETTINGS
from api.requests import TASK_DELEGATION
from api.tasks import ANSWERS, HANDS_OVER
from domain.access import Actor, may_act_on_task
from domain.deadlines import overdue
from domain.reference import load_reference
from domain.review import SubmissionKind
from i18n import N_, gettext
from schemas import problems_in
from services import approvals, synthesis
from services import tasks as use_cases
from services.refusals import Kind, Refused
from web.format import deadline, local_time
from web.forms import FormButton, form_for
from web.render import page
from web.sessions import require_person, set_cookie
from web.signin import see_other
from web.synthesis import addendum, synthesis_part, words_for

routes = web.RouteTableDef()

RESPONSE = "consultation_response"
SEND_LABEL = N_("Send your answer")
# What a hand-over did, shown once on My tasks after the redirect (the task is no longer
# the person's to read): base64 of the sentence, so any name fits in a cookie.
NOTICE_COOKIE = "reviewflow_notice"
MAX_NOTICE = 600
# A browser keeps cookies up to 4 kB: the notice's 600 characters, encoded, fit.
MAX_NOTICE_COOKIE = 4000

# The words shown are translated where they are shown, in the language of the request.
STATUS_LABELS = {
    "open": N_("Open"),
    "completed": N_("Completed"),
    "expired": N_("Expired"),
    "cancelled": N_("Cancelled"),
}
OVERDUE = N_("Overdue")
ENDORSEMENTS = {
    "endorse": N_("Endorsed"),
    "endorse_with_reservations": N_("Endorsed with reservations"),
    "do_not_endorse": N_("Not endorsed"),
}
CONSULTATION = N_(
    "Comment on the synthesis of inputs and say whether your organisation endorses it"
)
WHAT_IS_SENT = {
    SubmissionKind.NATIONAL_REPORT: N_("Send the national report of %(party)s for %(title)s"),
    SubmissionKind.STAKEHOLDER_INPUT: N_("Send the written input of %(party)s for %(title)s"),
}

# The filters' problems in plain words, by the pointer the use case names, and the field.
FILTER_PROBLEMS = {
    "/status": ("status", N_("Select a status from the list")),
    "/after": (
        "more",
        N_("The link to more tasks is not valid; the list starts again from the top"),
    ),
}
TO_PROBLEMS = {
    "already has a task in this review": N_(
        "This colleague already has a task in this review; choose another"
    ),
}
CHOOSE_COLLEAGUE = N_("Select the colleague to give the task to")


# --- My tasks -------------------------------------------------------------------------------


def _status_tag(row: asyncpg.Record, now: datetime) -> tuple[str, str]:
    """The words and the class of a task's status tag."""
    if overdue(row["status"], row["due_at"], now):
        return gettext(OVERDUE), "tag tag--overdue"
    if row["status"] == "completed":
        return gettext(STATUS_LABELS["completed"]), "tag tag--done"
    label = STATUS_LABELS.get(row["status"])
    return (gettext(label) if label else row["status"]), "tag"


def _task_row(row: asyncpg.Record, person: Actor, now: datetime) -> dict[str, Any]:
    label, tag = _status_tag(row, now)
    return {
        "id": str(row["id"]),
        "title": row["title"],
        "what": gettext(CONSULTATION),
        "due": deadline(row["due_at"], person.time_zone),
        "status": label,
        "tag": tag,
    }


def _asked_row(asked: use_cases.Asked, person: Actor) -> dict[str, Any]:
    return {
        "review_id": asked.review_id,
        "what": gettext(WHAT_IS_SENT[asked.kind]) % {"party": asked.party, "title": asked.title},
        "due": deadline(asked.due_at, person.time_zone),
    }


def _approval_row(row: asyncpg.Record, person: Actor) -> dict[str, Any]:
    return {
        "href": f"/reviews/{quote(row['id'], safe='')}/report",
        "what": gettext("Approve the report of %(title)s") % {"title": row["title"]},
        "version": row["version"],
        "due": deadline(row["due_at"], person.time_zone),
    }


def _take_notice(request: web.Request) -> str | None:
    raw = request.cookies.get(NOTICE_COOKIE)
    if not raw or len(raw) > MAX_NOTICE_COOKIE:
        return None
    try:
        return base64.urlsafe_b64decode(raw.encode("ascii")).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeError):
        return None


def _put_notice(request: web.Request, response: web.StreamResponse, text: str) -> None:
    encoded = base64.urlsafe_b64encode(text[:MAX_NOTICE].encode("utf-8")).decode("ascii")
    set_cookie(response, request.app[SETTINGS], NOTICE_COOKIE, encoded)


async def _inbox(
    request: web.Request, person: Actor, filters: dict[str, str]
) -> tuple[use_cases.Inbox, list[dict[str, str]]]:
    """The page of tasks the filters ask for; with a filter that is not valid, the list
    without it and the problem beside its field."""
    deps = request.app[SERVICES]
    after = request.query.get("after") or None
    try:
        found = await use_cases.inbox_page(
            deps, person, status=filters["status"] or None, review_id=filters["review"] or None,
            after=after,
        )  # fmt: skip
        return found, []
    except Refused as refused:
        if refused.kind is not Kind.INVALID:
            raise
        errors = [
            {
                "field_id": FILTER_PROBLEMS[pointer][0],
                "message": gettext(FILTER_PROBLEMS[pointer][1]),
            }
            for pointer, _ in refused.problems
            if pointer in FILTER_PROBLEMS
        ]
    if any(error["field_id"] == "status" for error in errors):
        filters["status"] = ""
    found = await use_cases.inbox_page(
        deps, person, status=filters["status"] or None, review_id=filters["review"] or None,
        after=None,
    )  # fmt: skip
    return found, errors


@routes.get("/tasks")
async def my_tasks(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    filters = {"status": request.query.get("status", ""), "review": request.query.get("review", "")}
    found, errors = await _inbox(request, person, filters)
    now = datetime.now(UTC)
    more = None
    if found.next_after is not None:
        more = "/tasks?" + urlencode({**filters, "after": found.next_after})
    asked = await use_cases.asked_of(request.app[SERVICES], person)
    to_approve = await approvals.awaiting_me(request.app[SERVICES], person)
    notice = _take_notice(request)
    response = page(
        request,
        "tasks.html",
        {
            "tasks": [_task_row(row, person, now) for row in found.tasks],
            "asked": [_asked_row(a, person) for a in asked],
            "to_approve": [_approval_row(row, person) for row in to_approve],
            "reviews": found.reviews,
            "statuses": {value: gettext(label) for value, label in STATUS_LABELS.items()},
            "filters": filters,
            "filtered": any(filters.values()),
            "more": more,
            "first": "/tasks?" + urlencode(filters) if request.query.get("after") else None,
            "errors": errors,
            "notice": notice,
        },
        status=422 if errors else 200,
    )
    if NOTICE_COOKIE in request.cookies:
        response.del_cookie(NOTICE_COOKIE, path="/")
    return response


# --- a task's page --------------------------------------------------------------------------


async def _synthesis(
    request: web.Request, person: Actor, task: asyncpg.Record
) -> dict[str, Any] | None:
    """The page of the synthesis asked for, or None when the person may not read it (or
    there is none: the task's page still shows the task)."""
    try:
        found = await synthesis.readable_synthesis(request.app[SERVICES], person, task["review_id"])
    except Refused:
        return None
    return await synthesis_part(request, task["review_id"], found)


def _task_facts(task: asyncpg.Record, person: Actor) -> list[tuple[str, str]]:
    label, _ = _status_tag(task, datetime.now(UTC))
    facts = [
        (gettext("Review"), task["title"]),
        (gettext("What is asked"), gettext(CONSULTATION)),
        (gettext("Due"), deadline(task["due_at"], person.time_zone)),
        (gettext("Status"), label),
    ]
    if task["organisation"]:
        facts.insert(1, (gettext("For"), task["organisation"]))
    return facts


def _answer_facts(response: dict[str, Any]) -> list[tuple[str, str]]:
    """The answer as it reads, read-only."""
    endorsement = ENDORSEMENTS.get(response.get("endorsement", ""))
    facts = [(gettext("Endorsement"), gettext(endorsement) if endorsement else "")]
    if response.get("general_comment"):
        facts.append((gettext("General comment"), response["general_comment"]))
    titles = {o.number: o.title for o in load_reference().objectives}
    for comment in response.get("comments", []):
        number = comment.get("objective")
        title = titles.get(number)
        heading = gettext("Objective %(number)s: %(title)s") % {
            "number": number,
            "title": gettext(title) if title else "",
        }
        facts.append((heading, comment.get("comment", "")))
    consent = response.get("consent_to_publish")
    facts.append(
        (gettext("May be quoted in the report"), gettext("Yes") if consent else gettext("No"))
    )
    return facts


async def _task_page(
    request: web.Request,
    person: Actor,
    task: asyncpg.Record,
    document: dict[str, Any] | None = None,
    problems: list[Any] | None = None,
) -> web.Response:
    may_act = may_act_on_task(person, task["assignee"]) and task["status"] == "open"
    form = form_for(RESPONSE)
    view = form.view(document or {}, problems or []) if may_act else None
    answered = None
    if task["status"] == "completed":
        answered = {
            "on": local_time(task["completed_at"], person.time_zone),
            "facts": _answer_facts(task["response"]),
        }
    shown = await _synthesis(request, person, task)
    return page(
        request,
        "task.html",
        {
            "task": task,
            "task_id": str(task["id"]),
            "facts": _task_facts(task, person),
            "synthesis": shown,
            # Shown with the synthesis, to whoever may read it.
            "addendum": await addendum(request, task["review_id"]) if shown else None,
            **words_for(person),
            "view": view,
            "errors": view.errors if view else [],
            "buttons": [FormButton("_send", "answer", gettext(SEND_LABEL))],
            "answered": answered,
            "may_delegate": may_act,
        },
        status=422 if problems else 200,
    )


@routes.get("/tasks/{id}")
async def task_page(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    task = await use_cases.readable_task(request.app[SERVICES], person, request.match_info["id"])
    return await _task_page(request, person, task)


@routes.post("/tasks/{id}")
async def complete(request: web.Request) -> web.StreamResponse:
    """Add or remove a comment, or send the answer: checked as the API checks it."""
    person = require_person(request)
    deps, task_id = request.app[SERVICES], request.match_info["id"]
    task = await use_cases.assigned_task(deps, person, task_id, ANSWERS)
    posted = await request.post()
    form = form_for(RESPONSE)
    document = form.parse(posted)
    action = form.action(posted)
    if action is not None:
        return await _task_page(request, person, task, form.apply(document, action))
    problems = await asyncio.to_thread(form.problems, document)
    if problems:
        return await _task_page(request, person, task, document, problems)
    await use_cases.answer(deps, person, task, document)
    return see_other(f"/tasks/{task['id']}")


# --- handing a task over --------------------------------------------------------------------


def _colleague_options(colleagues: list[Actor]) -> list[dict[str, str]]:
    """Colleagues by name; two of one name told apart by their address."""
    names = Counter(c.name for c in colleagues)
    return [
        {
            "value": str(c.id),
            "label": f"{c.name} ({c.email})" if names[c.name] > 1 and c.email else c.name,
        }
        for c in colleagues
    ]


def _delegation_errors(problems: list[tuple[str, str]]) -> list[dict[str, str]]:
    errors = []
    for pointer, message in problems:
        if pointer == "/note":
            errors.append(
                {
                    "field_id": "note",
                    "message": gettext("The note %(problem)s") % {"problem": message},
                }
            )
        else:
            # The use case says its problem in the page's language, from its own catalogue.
            chosen = next(
                (
                    plain
                    for said, plain in TO_PROBLEMS.items()
                    if message in (said, i18n.dgettext("schemas", said))
                ),
                CHOOSE_COLLEAGUE,
            )
            errors.append({"field_id": "to", "message": gettext(chosen)})
    return errors


async def _delegate_page(
    request: web.Request,
    person: Actor,
    task: asyncpg.Record,
    chosen: dict[str, str],
    errors: list[dict[str, str]],
) -> web.Response:
    colleagues = await use_cases.colleagues(request.app[SERVICES], person, task)
    return page(
        request,
        "task_delegate.html",
        {
            "task": task,
            "task_id": str(task["id"]),
            "due": deadline(task["due_at"], person.time_zone),
            # From the request's schema (a number in the template would be written once, in
            # the language of the first page that compiled it).
            "note_limit": TASK_DELEGATION["properties"]["note"]["maxLength"],
            "colleagues": _colleague_options(colleagues),
            "chosen": chosen,
            "errors": errors,
            "error_of": {e["field_id"]: e["message"] for e in errors},
        },
        status=422 if errors else 200,
    )


@routes.get("/tasks/{id}/delegate")
async def delegate_form(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    deps = request.app[SERVICES]
    task = await use_cases.assigned_task(deps, person, request.match_info["id"], HANDS_OVER)
    return await _delegate_page(request, person, task, {"to": "", "note": ""}, [])


@routes.post("/tasks/{id}/delegate")
async def delegate(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    deps = request.app[SERVICES]
    task = await use_cases.assigned_task(deps, person, request.match_info["id"], HANDS_OVER)
    posted = await request.post()
    chosen = {name: str(posted.get(name, "")).strip() for name in ("to", "note")}
    body = {key: value for key, value in chosen.items() if value}
    found = unstorable_or_too_many_values(body) or problems_in(TASK_DELEGATION, body)
    if found:
        errors = _delegation_errors([(p.pointer or "/to", p.message) for p in found])
        return await _delegate_page(request, person, task, chosen, errors)
    # Who they are by name, asked before the hand-over makes them hold a task of the review.
    names = {str(c.id): c.name for c in await use_cases.colleagues(deps, person, task)}
    try:
        await use_cases.hand_over(deps, person, task, body["to"], body.get("note"))
    except Refused as refused:
        if refused.kind is not Kind.INVALID:
            raise
        return await _delegate_page(
            request, person, task, chosen, _delegation_errors(refused.problems)
        )
    response = see_other("/tasks")
    # Shown on the next page, in the language of this one.
    colleague = names.get(body["to"]) or gettext("your colleague")
    notice = gettext("You gave the task of %(title)s to %(colleague)s.") % {
        "title": task["title"],
        "colleague": colleague,
    }
    _put_notice(request, response, notice)
    return response
