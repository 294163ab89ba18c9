"""A review's submissions and its consultation's answers as tables, for those who run it:
filtered, a page at a time, each row opening the full submission or answer; and the same data
(and who takes part) downloaded as CSV or XLSX (services.exports)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import asyncpg
from aiohttp import web

import i18n
from api.exports import send
from api.keys import SERVICES
from domain.access import Actor
from i18n import country_name
from services import exports, reviews
from services.refusals import Kind, Refused
from web.format import local_time, zone
from web.forms import form_for
from web.render import page
from web.sessions import require_person

routes = web.RouteTableDef()

PAGE = 50
# The words below are translated where they are shown (i18n.gettext).
KIND_LABELS = {
    "national_report": i18n.N_("National report"),
    "stakeholder_input": i18n.N_("Stakeholder input"),
}
ENDORSEMENT_LABELS = {
    "endorse": i18n.N_("Endorses"),
    "endorse_with_reservations": i18n.N_("Endorses with reservations"),
    "do_not_endorse": i18n.N_("Does not endorse"),
}
# A filter's problem in plain words, by the pointer the use case names: its field and message.
FILTER_PROBLEMS = {
    "/kind": ("kind", i18n.N_("Select a kind from the list")),
    "/q": (
        "q",
        i18n.N_("Enter at most 200 characters, letters, digits, spaces and punctuation only"),
    ),
    "/late": ("late", i18n.N_("Select late or on time from the list")),
    "/received_from": (
        "received_from",
        i18n.N_("Enter the first day as a date such as 2026-03-02"),
    ),
    "/received_to": ("received_to", i18n.N_("Enter the last day as a date such as 2026-03-31")),
    "/endorsement": ("endorsement", i18n.N_("Select an answer from the list")),
    "/after": ("more", i18n.N_("The link to more rows is not valid; the list starts again")),
}
DATASETS = {
    "submissions": i18n.N_("Submissions"),
    "participants": i18n.N_("Participants"),
    "answers": i18n.N_("Answers"),
}


def _labels(labels: Mapping[str, str]) -> dict[str, str]:
    return {value: i18n.gettext(label) for value, label in labels.items()}


SUBMISSION_FILTERS = ("kind", "q", "late", "received_from", "received_to")
ANSWER_FILTERS = ("q", "endorsement")


def _errors(refused: Refused) -> list[dict[str, str]]:
    return [
        {
            "field_id": FILTER_PROBLEMS[pointer][0],
            "message": i18n.gettext(FILTER_PROBLEMS[pointer][1]),
        }
        for pointer, _ in refused.problems
        if pointer in FILTER_PROBLEMS
    ]


def _link(path: str, filters: Mapping[str, str], **changes: str | None) -> str:
    query = {k: v for k, v in {**filters, **changes}.items() if v}
    return path + (f"?{urlencode(query)}" if query else "")


def _exports(review_id: str, datasets: tuple[str, ...]) -> list[dict[str, str]]:
    return [
        {"dataset": dataset, "label": i18n.gettext(DATASETS[dataset]), "format": fmt.upper(), "href": f"/reviews/{review_id}/exports/{dataset}.{fmt}"}
        for dataset in datasets
        for fmt in ("csv", "xlsx")
    ]  # fmt: skip


def _subject(row: asyncpg.Record) -> str:
    if row["kind"] == "national_report":
        return country_name(row["subject"])
    return str(row["organisation"] or row["subject"])


async def _table_page(
    request: web.Request,
    template: str,
    names: tuple[str, ...],
    fetch: Callable[[dict[str, str], str | None], Awaitable[exports.Table]],
    rows: Callable[[exports.Table], list[dict[str, Any]]],
    context: dict[str, Any],
) -> web.Response:
    """The table at the place and with the filters of the address; with a filter that is not
    valid, its problem beside its field and no rows."""
    path = request.path
    filters = {name: request.query.get(name, "") for name in names}
    after = request.query.get("after") or None
    try:
        table = await fetch(filters, after)
        errors: list[dict[str, str]] = []
    except Refused as refused:
        if refused.kind is not Kind.INVALID:
            raise
        table, errors = None, _errors(refused)
    return page(
        request,
        template,
        {
            **context,
            "rows": rows(table) if table else [],
            "filters": filters,
            "errors": errors,
            "error_of": {e["field_id"]: e["message"] for e in errors},
            "more": table and table.next_after and _link(path, filters, after=table.next_after),
            "first": after and _link(path, filters),
            "cleared": any(filters.values()) and path,
        },
        status=422 if errors else 200,
    )


@routes.get("/reviews/{id}/submissions")
async def submissions_page(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    review_id = request.match_info["id"]

    async def fetch(filters: dict[str, str], after: str | None) -> exports.Table:
        return await exports.submission_table(
            request.app[SERVICES], person, review_id, exports.SubmissionFilters(**filters),
            after=after, zone=zone(person.time_zone), limit=PAGE,
        )  # fmt: skip

    # Checked first, so that only those who run the review see even the empty page.
    review = await reviews.run_by(request.app[SERVICES], person, review_id, "reads its submissions")
    context = {
        "review": review,
        "kinds": _labels(KIND_LABELS),
        "exports": _exports(review["id"], ("submissions", "participants")),
    }
    return await _table_page(
        request, "reviews/submissions.html", SUBMISSION_FILTERS, fetch,
        lambda table: _submission_rows(table, person), context,
    )  # fmt: skip


def _submission_rows(table: exports.Table, person: Actor) -> list[dict[str, Any]]:
    review_id = table.review["id"]
    return [
        {
            "href": f"/reviews/{review_id}/submissions/{row['id']}",
            "subject": _subject(row),
            "kind": i18n.gettext(KIND_LABELS[row["kind"]]),
            "submitter": row["submitter"],
            "received": local_time(row["received_at"], person.time_zone),
            "version": row["version"],
            "late": row["late"],
        }
        for row in table.rows
    ]


@routes.get("/reviews/{id}/answers")
async def answers_page(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    review_id = request.match_info["id"]

    async def fetch(filters: dict[str, str], after: str | None) -> exports.Table:
        return await exports.answer_table(
            request.app[SERVICES], person, review_id, q=filters["q"] or None,
            endorsement=filters["endorsement"] or None, after=after, limit=PAGE,
        )  # fmt: skip

    review = await reviews.run_by(request.app[SERVICES], person, review_id, "reads its answers")
    context = {
        "review": review,
        "endorsements": _labels(ENDORSEMENT_LABELS),
        "exports": _exports(review["id"], ("answers", "participants")),
    }
    return await _table_page(
        request, "reviews/answers.html", ANSWER_FILTERS, fetch,
        lambda table: _answer_rows(table, person), context,
    )  # fmt: skip


def _who(row: asyncpg.Record) -> str:
    country = row["country"]
    if row["organisation"]:
        return str(row["organisation"])
    return country_name(country) if country else str(country)


def _answer_rows(table: exports.Table, person: Actor) -> list[dict[str, Any]]:
    review_id = table.review["id"]
    return [
        {
            "href": f"/reviews/{review_id}/answers/{row['id']}",
            "who": _who(row),
            "answered_by": row["answered_by"],
            "answered": local_time(row["completed_at"], person.time_zone),
            "endorsement": i18n.gettext(ENDORSEMENT_LABELS[row["endorsement"]])
            if row["endorsement"] in ENDORSEMENT_LABELS
            else row["endorsement"],
        }
        for row in table.rows
    ]


@routes.get("/reviews/{id}/answers/{task}")
async def answer_page(request: web.Request) -> web.StreamResponse:
    """One answer to the consultation, read only."""
    person = require_person(request)
    review, found = await exports.answer(
        request.app[SERVICES], person, request.match_info["id"], request.match_info["task"]
    )
    context = {
        "review": review,
        "who": _who(found),
        "answered": local_time(found["completed_at"], person.time_zone),
        "fields": form_for("consultation_response").view(found["response"]).fields,
    }
    return page(request, "reviews/answer.html", context)


@routes.get("/reviews/{id}/exports/{dataset}.{format}")
async def export_download(request: web.Request) -> web.StreamResponse:
    found = await exports.export(
        request.app[SERVICES],
        require_person(request),
        request.match_info["id"],
        request.match_info["dataset"],
        request.match_info["format"],
    )
    return await send(request, found)
