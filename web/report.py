"""The review's report for those who run the review: the version awaiting a decision (or the
one published) shown in the page, its versions and what changed between them, its formats to
download; and the two decisions, send it back with editorial text per section, or approve it.

Both decisions run the JSON API's use cases (services.reports) under an idempotency key made
for each rendering of the form. Sending the report back has the workflow compile a new
version, which takes a while: the page answers as soon as the review has taken the request,
and the report's page shows the new version when it is there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import asyncpg
from aiohttp import web
from markupsafe import Markup

import i18n
from api.evidence import answer_pack
from api.keys import SERVICES
from api.requests import CHANGE_REQUEST
from domain.access import Actor, runs_review
from domain.phases import report_decision_refusal
from domain.reference import load_reference
from domain.review import Phase
from reports.render import Source, render_html_body, source_label
from services import approvals, reports
from services.evidence import evidence_pack
from services.refusals import Kind, Refused
from services.reviews import Command
from web.format import local_time
from web.render import page
from web.reviews import PHASES, form_key, new_form_key, shown_count
from web.sessions import require_person
from web.signin import see_other

routes = web.RouteTableDef()

NOTE_LIMIT: int = CHANGE_REQUEST["properties"]["note"]["maxLength"]
EDITORIAL_LIMIT: int = CHANGE_REQUEST["properties"]["editorial"]["additionalProperties"][
    "maxLength"
]
APPROVAL_NOTE_LIMIT = NOTE_LIMIT
# The formats of a version to download: the stored column, its media type and extension.
FORMATS = {
    "pdf": ("pdf", "application/pdf", "pdf"),
    "json": ("json", "application/json", "json"),
    "md": ("markdown", "text/markdown", "md"),
    "html": ("html", "text/html", "html"),
}
# (Translated where shown.)
NOT_YET = i18n.N_("The report is compiled when the consultation closes.")
NO_DECISION = {
    Phase.SCHEDULED: NOT_YET,
    Phase.CALL_FOR_INPUTS: NOT_YET,
    Phase.CONSULTATION: NOT_YET,
    Phase.COMPILATION: i18n.N_(
        "A new version is being compiled. Reload this page to see it when it is"
        " ready; you can then approve it or ask for changes."
    ),
    Phase.PUBLISHED: i18n.N_("The report was approved and published: it can no longer change."),
    Phase.CANCELLED: i18n.N_("The review was cancelled: no decision can be made on its report."),
}
FILE_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class Section:
    """A section of the report that editorial text may be written for."""

    key: str
    label: str
    level: int  # 1 for parts of the report, 2 for an objective within its cluster

    @property
    def field(self) -> str:
        return f"editorial-{self.key}"


def sections() -> list[Section]:
    """The report's sections, in its order: the objectives within their cluster."""
    reference = load_reference()
    titles = {o.number: i18n.gettext(o.title) for o in reference.objectives}
    found = [
        Section("overview", i18n.gettext("Overview"), 1),
        Section("coverage", i18n.gettext("Coverage of the objectives"), 1),
    ]
    for cluster in reference.clusters:
        label = i18n.gettext("Cluster %(number)s: %(title)s") % {
            "number": cluster.number,
            "title": i18n.gettext(cluster.title),
        }
        found.append(Section(f"cluster-{cluster.number}", label, 1))
        found.extend(
            Section(
                f"objective-{n}",
                i18n.gettext("Objective %(number)s: %(title)s") % {"number": n, "title": titles[n]},
                2,
            )
            for n in cluster.objectives
        )
    found.extend(
        Section(key, i18n.gettext(label), 1)
        for key, label in (
            ("guiding-principles", i18n.N_("Guiding principles")),
            ("gaps", i18n.N_("Gaps")),
            ("consultation", i18n.N_("Consultation")),
            ("annex", i18n.N_("Annex")),
        )
    )
    return found


def _path(review_id: str, then: str = "") -> str:
    return f"/reviews/{review_id}/report{then}"


async def _run_review(request: web.Request) -> tuple[Actor, asyncpg.Record]:
    """The person and the review, if the person runs it or is one of its report's approvers;
    anyone else is told what they would be told of a review that does not exist."""
    person = require_person(request)
    deps = request.app[SERVICES]
    review = await approvals.decided_or_unseen(deps, person, request.match_info["id"])
    return person, review


# (Translated where shown.)
STEP_STATUSES = {
    "approved": (i18n.N_("Approved"), "tag tag--done"),
    "pending": (i18n.N_("Their turn"), "tag"),
    "waiting": (i18n.N_("Waiting"), "tag"),
}


async def _chain(request: web.Request, person: Actor, review: asyncpg.Record) -> list[Any]:
    """The report's approvers for the current version, in order, as the page shows them
    (empty: the secretariat approves it once)."""
    found = await approvals.approval_chain(request.app[SERVICES], person, review["id"])
    return [
        {
            **step,
            "mine": step["actor_id"] == str(person.id),
            "status_label": i18n.gettext(STEP_STATUSES[step["status"]][0]),
            "tag": STEP_STATUSES[step["status"]][1],
            "decided": step["decided_at"]
            and local_time(datetime.fromisoformat(step["decided_at"]), person.time_zone),
        }
        for step in found["approvers"]
    ]


def _my_turn(chain: list[Any]) -> bool:
    """Whether the person may decide now: always without a chain (the secretariat decides,
    as the review tells), else when it is their step that is pending."""
    return not chain or any(s["mine"] and s["status"] == "pending" for s in chain)


def _back(person: Actor, review: asyncpg.Record) -> tuple[str, str]:
    """Where the page leads back to: the review's page for its secretariat, the approver's
    tasks otherwise."""
    if runs_review(person, review["region"]):
        return f"/reviews/{review['id']}", i18n.gettext("Back to the review")
    return "/tasks", i18n.gettext("Back to my tasks")


async def _latest(
    request: web.Request, person: Actor, review: asyncpg.Record
) -> asyncpg.Record | None:
    """The published version if there is one, else the latest draft; None before the first."""
    try:
        return await reports.readable_report(request.app[SERVICES], person, review, None)
    except Refused as refused:
        if refused.kind is not Kind.NOT_FOUND:
            raise
        return None


def _asked_version(query: Mapping[str, str]) -> int | None:
    return shown_count(query, "version") or None


# ---- the report's page ----------------------------------------------------------------------


def _changed(row: asyncpg.Record, titles: dict[str, str]) -> str:
    """What a version changed, in words."""
    if row["changed_version"] is None:
        return i18n.gettext("Compiled from what came in.")
    edited = [titles.get(key, key) for key in (row["editorial"] or {})]
    said = i18n.gettext("Changes to version %(version)s asked for by %(name)s: “%(note)s”.") % {
        "version": row["changed_version"],
        "name": row["requested_by"],
        "note": row["change_note"],
    }
    if edited:
        said += " " + i18n.gettext("Editorial text for: %(sections)s.") % {
            "sections": "; ".join(edited)
        }
    return said


def _versions(rows: list[asyncpg.Record], review_id: str, zone: str) -> list[dict[str, Any]]:
    titles = {s.key: s.label for s in sections()}
    return [
        {
            "version": row["version"],
            "href": _path(review_id, f"?version={row['version']}"),
            "status": i18n.gettext("Published")
            if row["status"] == "published"
            else i18n.gettext("Draft"),
            "compiled": local_time(row["compiled_at"], zone),
            "changed": _changed(row, titles),
        }
        for row in rows
    ]


def _submission_page(review_id: str) -> Callable[[dict[str, Any]], Source | None]:
    """Where a quote of the report links in a page: the submission's page, at the version
    quoted (a consultation answer has no page of its own for the secretariat: no link)."""

    def source(item: dict[str, Any]) -> Source | None:
        if item.get("submission_id") is None:
            return None
        submission, version = (
            quote(str(item.get(k)), safe="") for k in ("submission_id", "version")
        )
        path = f"/reviews/{quote(review_id, safe='')}/submissions/{submission}?version={version}"
        return Source(path, source_label(item.get("version")))

    return source


def _body(shown: asyncpg.Record, review_id: str, language: str) -> Markup:
    """The version's content for the page, in `language`: said so around it when the page
    speaks another."""
    body = render_html_body(json.loads(shown["json"]), _submission_page(review_id), language)
    if language == i18n.current().code:
        return Markup(body)
    written = i18n.language(language)
    return Markup('<div lang="{}" dir="{}">\n{}</div>').format(
        written.code, written.direction, Markup(body)
    )


def _in_other_languages(
    review_id: str, shown: asyncpg.Record, language: str
) -> list[tuple[str, str]]:
    """The version's PDF in each of its languages but the one shown: "PDF (Français)"."""
    return [
        (
            f"PDF ({i18n.language(code).own_name})",
            _path(
                review_id,
                f"/download?format=pdf&version={shown['version']}"
                + ("" if code == shown["language"] else f"&language={code}"),
            ),
        )
        for code in shown["languages"]
        if code != language
    ]


def _notice(query: Mapping[str, str]) -> str | None:
    """What the last decision did (303 to this page with `requested` or `approved`: the
    version it was about)."""
    requested, approved = shown_count(query, "requested"), shown_count(query, "approved")
    given = shown_count(query, "given")
    if requested:
        return i18n.gettext(
            "Your change request for version %(version)s was sent. Version %(next)s is"
            " being compiled: reload this page to see it when it is ready."
        ) % {"version": requested, "next": requested + 1}
    if given:
        return i18n.gettext(
            "Your approval of version %(version)s was recorded. It now awaits the next approver."
        ) % {"version": given}
    if approved:
        return i18n.gettext(
            "Version %(version)s was approved and published. The review has ended."
        ) % {"version": approved}
    return None


@routes.get("/reviews/{id}/report")
async def report_page(request: web.Request) -> web.StreamResponse:
    person, review = await _run_review(request)
    deps = request.app[SERVICES]
    latest = await _latest(request, person, review)
    shown = latest
    asked = _asked_version(request.query)
    if asked is not None and latest is not None and asked != latest["version"]:
        shown = await reports.readable_report(deps, person, review, asked)
    phase = Phase(review["phase"])
    decides = report_decision_refusal(phase) is None
    chain = await _chain(request, person, review)
    back, back_label = _back(person, review)
    # The version in the reader's language when it is written in it, else in its first.
    language = reports.reader_language(shown, i18n.current().code) if shown else ""
    # Its files in that language: the version's first at the addresses it always had.
    in_language = f"&language={language}" if shown and language != shown["language"] else ""
    versions = list(await reports.report_versions(deps, person, review))
    context = {
        "review": review,
        "phase": i18n.gettext(PHASES[phase]),
        "notice": _notice(request.query),
        "shown": shown,
        "latest": latest,
        "compiled": shown and local_time(shown["compiled_at"], person.time_zone),
        "published": shown
        and shown["published_at"]
        and local_time(shown["published_at"], person.time_zone),
        "body": shown and _body(shown, review["id"], language),
        "versions": _versions(versions, review["id"], person.time_zone),
        "decides": decides and shown is not None and shown is latest and _my_turn(chain),
        "no_decision": None if decides else i18n.gettext(NO_DECISION[phase]),
        "chain": chain,
        # With approvers after this one, an approval does not publish the report yet.
        "publishes": _publishes(chain),
        "formats": shown
        and [
            (
                label,
                _path(
                    review["id"],
                    f"/download?format={name}&version={shown['version']}{in_language}",
                ),
            )
            for name, label in (
                ("pdf", "PDF"),
                ("html", i18n.gettext("HTML (printable)")),
                ("md", "Markdown"),
                ("json", "JSON"),
            )
        ]
        + _in_other_languages(review["id"], shown, language),
        "back": back,
        "back_label": back_label,
        # Once a version is published, the pack of the published one, for those running the
        # review (an approver reads the report, not everything it was made from).
        "evidence": runs_review(person, review["region"])
        and any(v["status"] == "published" for v in versions)
        and f"/reviews/{review['id']}/evidence",
    }
    return page(request, "reviews/report.html", context)


@routes.get("/reviews/{id}/report/download")
async def download(request: web.Request) -> web.StreamResponse:
    """A version as a file, in its stored bytes (the API's formats, for a person signed in)."""
    person, review = await _run_review(request)
    chosen = FORMATS.get(request.query.get("format", ""))
    if chosen is None:
        raise web.HTTPNotFound()
    column, media_type, extension = chosen
    deps = request.app[SERVICES]
    found = await reports.readable_report(deps, person, review, _asked_version(request.query))
    # In the language asked for (the page's links name it), else in the version's first.
    written = await reports.rendering(
        deps, review["id"], found, reports.reader_language(found, request.query.get("language"))
    )
    assert written is not None  # one of the version's languages
    name = FILE_NAME_UNSAFE.sub("-", review["id"])
    suffix = "" if written.language == found["language"] else f".{written.language}"
    headers = {
        "Content-Disposition": "attachment;"
        f' filename="{name}-report-v{found["version"]}{suffix}.{extension}"'
    }
    if column == "pdf":
        pdf = await reports.report_pdf(deps, review["id"], found, written.language)
        return web.Response(body=pdf, content_type=media_type, headers=headers)
    text = found["json"] if column == "json" else getattr(written, column)
    return web.Response(text=text, content_type=media_type, charset="utf-8", headers=headers)


@routes.get("/reviews/{id}/evidence")
async def evidence_download(request: web.Request) -> web.StreamResponse:
    """The published review's evidence pack, as the API sends it."""
    person, review = await _run_review(request)
    return answer_pack(request, await evidence_pack(request.app[SERVICES], person, review["id"]))


# ---- request changes -----------------------------------------------------------------------


@dataclass(frozen=True)
class Awaiting:
    """A report awaiting the person's decision: the person, the review, its latest version,
    and whether approving it publishes it (no approver after the person's turn)."""

    person: Actor
    review: asyncpg.Record
    latest: asyncpg.Record
    publishes: bool


def _publishes(chain: list[Any]) -> bool:
    return sum(s["status"] != "approved" for s in chain) <= 1


async def _awaiting(request: web.Request) -> Awaiting:
    """The report awaiting the person's decision; the report's page, which says why, when
    there is none (or it is another approver's turn)."""
    person, review = await _run_review(request)
    latest = await _latest(request, person, review)
    if latest is None or report_decision_refusal(Phase(review["phase"])) is not None:
        raise web.HTTPSeeOther(_path(review["id"]))
    chain = await _chain(request, person, review)
    if not _my_turn(chain):
        raise web.HTTPSeeOther(_path(review["id"]))
    return Awaiting(person, review, latest, _publishes(chain))


def _current_editorial(latest: asyncpg.Record) -> dict[str, str]:
    """The editorial text each section has in the version awaiting a decision."""
    return {note["section"]: note["text"] for note in json.loads(latest["json"])["editorial"]}


def _changes_page(
    request: web.Request,
    review: asyncpg.Record,
    latest: asyncpg.Record,
    typed: Mapping[str, str],
    errors: list[dict[str, str]],
    status: int = 200,
) -> web.Response:
    current = _current_editorial(latest)
    error_of = {e["field_id"]: e["message"] for e in errors}
    context = {
        "review": review,
        "version": latest["version"],
        "sections": [
            {
                "section": s,
                "value": typed.get(s.field, ""),
                "current": current.get(s.key),
                "error": error_of.get(s.field),
                "open": bool(typed.get(s.field) or error_of.get(s.field)),
            }
            for s in sections()
        ],
        "note": typed.get("note", ""),
        "note_limit": NOTE_LIMIT,
        "editorial_limit": EDITORIAL_LIMIT,
        "errors": errors,
        "error_of": error_of,
        "hidden": {**new_form_key(), "version": str(latest["version"])},
        "action": _path(review["id"], "/request-changes"),
        "back": _path(review["id"]),
    }
    return page(request, "reviews/report_changes.html", context, status=status)


@routes.get("/reviews/{id}/report/request-changes")
async def changes_form(request: web.Request) -> web.StreamResponse:
    awaiting = await _awaiting(request)
    return _changes_page(request, awaiting.review, awaiting.latest, {}, [])


def _typed(posted: Mapping[str, Any]) -> dict[str, str]:
    names = ["note", *(s.field for s in sections())]
    return {name: str(posted.get(name, "")).strip() for name in names}


def _change_errors(typed: Mapping[str, str]) -> list[dict[str, str]]:
    """What is wrong with the change request, in plain words, in the order of the page."""
    errors = []
    if not typed["note"]:
        errors.append({"field_id": "note", "message": i18n.gettext("Enter what should change")})
    elif len(typed["note"]) > NOTE_LIMIT:
        message = i18n.gettext("What should change must be %(count)s characters or fewer") % {
            "count": i18n.format_number(NOTE_LIMIT)
        }
        errors.append({"field_id": "note", "message": message})
    errors.extend(
        {
            "field_id": s.field,
            "message": i18n.gettext(
                "The editorial text for %(section)s must be %(count)s characters or fewer"
            )
            % {"section": s.label, "count": i18n.format_number(EDITORIAL_LIMIT)},
        }
        for s in sections()
        if len(typed[s.field]) > EDITORIAL_LIMIT
    )
    return errors


def _stale(posted: Mapping[str, Any], latest: asyncpg.Record) -> list[dict[str, str]]:
    """A decision made on a page showing a version that is no longer the latest."""
    if str(posted.get("version", "")) == str(latest["version"]):
        return []
    return [
        {
            "field_id": "",
            "message": i18n.gettext(
                "Version %(version)s was compiled since you opened this page."
                " Read it before you decide."
            )
            % {"version": latest["version"]},
        }
    ]


@routes.post("/reviews/{id}/report/request-changes")
async def request_changes(request: web.Request) -> web.StreamResponse:
    awaiting = await _awaiting(request)
    person, review, latest = awaiting.person, awaiting.review, awaiting.latest
    posted = await request.post()
    typed = _typed(posted)
    errors = _stale(posted, latest) or _change_errors(typed)
    if errors:
        return _changes_page(request, review, latest, typed, errors, status=422)
    editorial = {s.key: typed[s.field] for s in sections() if typed[s.field]}
    body: dict[str, Any] = {
        "note": typed["note"],
        **({"editorial": editorial} if editorial else {}),
    }
    command = Command(review["id"], body, form_key(posted))
    try:
        # Answered once the review has taken the request: the new version is compiled after.
        asked = await reports.request_changes(
            request.app[SERVICES], person, command, await_version=False
        )
    except Refused as refused:
        if refused.kind not in (Kind.CONFLICT, Kind.INVALID):
            raise
        message = i18n.gettext("The report was not sent back. %(why)s") % {
            "why": i18n.rule_text(refused.message)
        }
        errors = [{"field_id": "", "message": message}]
        return _changes_page(request, review, latest, typed, errors, status=409)
    return see_other(_path(review["id"], f"?requested={asked['version']}"))


# ---- approve ---------------------------------------------------------------------------------


def _approve_page(
    request: web.Request,
    awaiting: Awaiting,
    note: str,
    errors: list[dict[str, str]],
    status: int = 200,
) -> web.Response:
    review, latest = awaiting.review, awaiting.latest
    context = {
        "publishes": awaiting.publishes,
        "review": review,
        "version": latest["version"],
        "note": note,
        "note_limit": APPROVAL_NOTE_LIMIT,
        "errors": errors,
        "error_of": {e["field_id"]: e["message"] for e in errors},
        "hidden": {**new_form_key(), "version": str(latest["version"])},
        "action": _path(review["id"], "/approve"),
        "back": _path(review["id"]),
    }
    return page(request, "reviews/report_approve.html", context, status=status)


@routes.get("/reviews/{id}/report/approve")
async def approve_form(request: web.Request) -> web.StreamResponse:
    return _approve_page(request, await _awaiting(request), "", [])


@routes.post("/reviews/{id}/report/approve")
async def approve(request: web.Request) -> web.StreamResponse:
    awaiting = await _awaiting(request)
    person, review, latest = awaiting.person, awaiting.review, awaiting.latest
    posted = await request.post()
    note = str(posted.get("note", "")).strip()
    errors = _stale(posted, latest)
    if not errors and len(note) > APPROVAL_NOTE_LIMIT:
        message = i18n.gettext("The note must be %(count)s characters or fewer") % {
            "count": i18n.format_number(APPROVAL_NOTE_LIMIT)
        }
        errors = [{"field_id": "note", "message": message}]
    if errors:
        return _approve_page(request, awaiting, note, errors, status=422)
    command = Command(review["id"], {"note": note} if note else {}, form_key(posted))
    approved = await reports.approve(request.app[SERVICES], person, command)
    # In a chain, an approval before the last publishes nothing yet.
    outcome = "approved" if approved["status"] == "published" else "given"
    return see_other(_path(review["id"], f"?{outcome}={approved['version']}"))
