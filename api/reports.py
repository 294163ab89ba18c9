"""The review's report: read in four formats, approved or sent back by the secretariat."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from api import requests
from api.auth import current_actor
from api.keys import SERVICES
from api.operations import (
    NOT_FOUND,
    REPORT_BODIES,
    REPORT_STATUS,
    TEXT,
    UNAVAILABLE,
    VERSION,
    Handler,
    answer,
    component,
    header,
    operation,
    query_parameter,
    shared_response,
)
from api.problems import Problem, invalid
from api.reviews import query_int, review_for, secretariat_command
from i18n import LANGUAGES
from services import approvals
from services import reports as use_cases

routes = web.RouteTableDef()

FORMATS = {
    "json": ("json", "application/json"),
    "html": ("html", "text/html"),
    "md": ("markdown", "text/markdown"),
    "pdf": ("pdf", "application/pdf"),
}
# The report is a standalone page: it shows nothing from elsewhere and runs no script (inline
# styles and data: images only), and no other site may frame it.
REPORT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none';"
    " base-uri 'none'; form-action 'none'"
)


@routes.get("/v1/reviews/{id}/report")
@operation(
    "Report",
    "getReport",
    "The review's report, as JSON, a printable HTML page, Markdown or PDF",
    {
        "200": {
            "description": "The report, in the format asked for (`format`).",
            "headers": {
                "ETag": header(
                    "The version's content_hash and the format, in quotes: send it"
                    " back in If-None-Match for a 304 when nothing changed.",
                    {
                        "type": "string",
                        "pattern": '^"[0-9a-f]{64}-((ar|zh|en|fr|ru|es)-)?(json|html|md|pdf)"$',
                    },
                ),
                "X-Report-Version": header("The version served.", VERSION),
                "X-Report-Status": header("The version's status.", REPORT_STATUS),
                "Content-Language": header(
                    "The language the html, md or pdf is written in.",
                    {"enum": list(LANGUAGES)},
                ),
                "Content-Security-Policy": header(
                    "The report loads nothing from elsewhere and runs no script:"
                    " inline styles and data: images only.",
                    TEXT,
                ),
            },
            "content": {
                media_type: {"schema": REPORT_BODIES[name]}
                for name, (_, media_type) in FORMATS.items()
            },
        },
        "304": {
            "description": "Not modified: If-None-Match names the ETag this answer would carry."
        },
        "404": shared_response(
            "NotFound",
            "No such review the actor may see, or no report of it the actor may"
            " read: none compiled yet, no such version, (for all but the"
            " review's secretariat) none published, or none in `language`.",
        ),
        "422": shared_response("Unprocessable", "`format`, `version` or `language` is not valid."),
    },
    description="Drafts are for the review's secretariat (and admins) only; everyone"
    " else who may see the review reads the published version, once there is one."
    " Without `version`: the published version if there is one, else (for the"
    " secretariat) the latest draft.",
    parameters=(
        "ReviewId",
        query_parameter(
            "format",
            {"enum": list(FORMATS), "default": "json"},
            "json (the Report object), html (a standalone printable page), md (Markdown)"
            " or pdf (A4, rendered from the html).",
        ),
        query_parameter(
            "version",
            {"type": "integer", "minimum": 1, "maximum": 1_000_000},
            "This version rather than the published (or latest) one.",
        ),
        query_parameter(
            "language",
            {"enum": list(LANGUAGES)},
            "The version in this one of the review's report_languages (html, md, pdf; the json"
            " is the same in every language). Without it, the first of them.",
        ),
    ),
)
async def read_report(request: web.Request) -> web.Response:
    actor = current_actor(request)
    row = await review_for(request, actor)
    chosen = request.query.get("format", "json")
    if chosen not in FORMATS:
        raise invalid([("/format", "must be one of: " + ", ".join(FORMATS))])
    wanted = query_int(request, "version", 0, 1, 1_000_000) if "version" in request.query else None
    language = request.query.get("language")
    if language is not None and language not in LANGUAGES:
        raise invalid([("/language", "must be one of: " + ", ".join(LANGUAGES))])
    deps = request.app[SERVICES]
    found = await use_cases.readable_report(deps, actor, row, wanted)
    written = await use_cases.rendering(deps, row["id"], found, language)
    if written is None:
        raise Problem(404, f"This version of the report is not written in {language}.")

    async def content() -> str | bytes:
        if chosen == "pdf":
            return await use_cases.report_pdf(deps, row["id"], found, written.language)
        if chosen == "json":
            json_text: str = found["json"]
            return json_text
        return written.html if chosen == "html" else written.markdown

    return await frozen_answer(
        request,
        found["content_hash"],
        chosen,
        content,
        {
            "X-Report-Version": str(found["version"]),
            "X-Report-Status": found["status"],
            **({} if chosen == "json" else {"Content-Language": written.language}),
        },
        language=None if written.language == found["language"] else written.language,
    )


async def frozen_answer(
    request: web.Request,
    content_hash: str,
    chosen: str,
    content: Callable[[], Awaitable[str | bytes]],
    headers: Mapping[str, str],
    language: str | None = None,
) -> web.Response:
    """A report version in the format `chosen` (a key of FORMATS), with `headers`: its ETag
    names the version's content hash, the `language` for a version's other language than
    its first (its JSON is the same in all), and the format; an If-None-Match naming it is
    answered 304 without reading `content`."""
    etag = f'"{content_hash}-{language}-{chosen}"' if language and chosen != "json" else ""
    etag = etag or f'"{content_hash}-{chosen}"'
    answered = {
        **headers,
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": REPORT_POLICY,
    }
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=answered)
    media_type = FORMATS[chosen][1]
    body = await content()
    if isinstance(body, bytes):
        return web.Response(body=body, content_type=media_type, headers=answered)
    return web.Response(text=body, content_type=media_type, charset="utf-8", headers=answered)


def _decision(
    operation_id: str,
    summary: str,
    version: dict[str, Any],
    description: str,
    body: str,
    refusals: dict[str, Any] | None = None,
) -> Callable[[Handler], Handler]:
    """The declaration of a decision on the report awaiting one, the secretariat's: it answers
    the version the decision leaves (`version`)."""
    return operation(
        "Report",
        operation_id,
        summary,
        {
            "200": version,
            "403": shared_response(
                "Forbidden",
                "Only the review's secretariat decides, or, for a review that names approvers,"
                " the approver whose turn it is.",
            ),
            "404": NOT_FOUND,
            "409": shared_response(
                "Conflict",
                "No report awaits a decision, or (for a review that names approvers) it is"
                " another approver's turn.",
            ),
            "503": UNAVAILABLE,
            **(refusals or {}),
        },
        description=description,
        parameters=("ReviewId",),
        body=body,
    )


def _version(description: str, status: str) -> dict[str, Any]:
    return answer(
        description, {**component("ReportVersion"), "description": f"status is {status}."}
    )


@routes.get("/v1/reviews/{id}/approvals")
@operation(
    "Report",
    "getApprovals",
    "Who approves the report, in order, and where each stands for the current version",
    {
        "200": answer("The approval chain of the current version.", component("ApprovalChain")),
        "404": shared_response(
            "NotFound", "No such review, or the actor is neither its secretariat nor an approver."
        ),
    },
    description="A review that names approvers has its report approved by each in turn; the"
    " last approval publishes it, and changes asked by any of them need every approval again."
    " Readable by the review's secretariat and its approvers.",
    parameters=("ReviewId",),
)
async def read_approvals(request: web.Request) -> web.Response:
    deps, actor = request.app[SERVICES], current_actor(request)
    return web.json_response(await approvals.approval_chain(deps, actor, request.match_info["id"]))


@routes.post("/v1/reviews/{id}/report/approve")
@_decision(
    "approveReport",
    "Approve the report awaiting a decision: it is published and the review ends",
    _version("The version published.", "published"),
    "The published version is frozen: every later read of the report returns its bytes."
    " Send {} to give no note. Once approved, the review has ended: approving again"
    " answers 409.",
    "Approval",
)
async def approve(request: web.Request) -> web.Response:
    return await secretariat_command(
        request, requests.APPROVAL, use_cases.approve, approvals.decided_by
    )


@routes.post("/v1/reviews/{id}/report/request-changes")
@_decision(
    "requestReportChanges",
    "Send the report back: a new version is compiled, with editorial text",
    _version("The new version, now awaiting a decision.", "draft"),
    "The change request is stored and the report compiled again from what came in, its"
    " `editorial` texts shown in the sections they name; the new version awaits approval."
    " Each request is a new change request: sent again, it asks for changes to the version"
    " compiled for the first.",
    "ChangeRequest",
    refusals={
        "422": shared_response(
            "Unprocessable",
            "The body is not valid (for instance an `editorial` section that is not one of"
            " the report's): `errors` lists every problem.",
        )
    },
)
async def request_changes(request: web.Request) -> web.Response:
    return await secretariat_command(
        request, requests.CHANGE_REQUEST, use_cases.request_changes, approvals.decided_by
    )
