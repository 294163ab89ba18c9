"""A published review's evidence pack, for its secretariat (services.evidence,
reports.evidence)."""

from __future__ import annotations

from aiohttp import web

from api.auth import current_actor
from api.keys import SERVICES
from api.operations import NOT_FOUND, SECRETARIAT_ONLY, header, operation, shared_response
from services.evidence import Pack, evidence_pack

routes = web.RouteTableDef()
ZIP = "application/zip"


@routes.get("/v1/reviews/{id}/evidence")
@operation(
    "Reports",
    "getEvidencePack",
    "The published review's evidence pack: a zip of the report and all it was made from",
    {
        "200": {
            "description": "The pack, the same bytes at every download.",
            "headers": {
                "Content-Disposition": header(
                    "attachment, with a file name of the review's id and the report's version.",
                    {"type": "string", "pattern": '^attachment; filename="[A-Za-z0-9.-]+"$'},
                ),
                "ETag": header("The SHA-256 of the zip.", {"type": "string"}),
            },
            "content": {ZIP: {"schema": {"type": "string", "format": "binary"}}},
        },
        "304": {"description": "The pack is the one `If-None-Match` names."},
        "403": SECRETARIAT_ONLY,
        "404": NOT_FOUND,
        "409": shared_response("Conflict", "The review's report is not published yet."),
    },
    description="The published report in every format (`report.json` in RFC 8785 canonical"
    " form, and HTML, Markdown and the frozen PDF in each of its languages), every accepted"
    " submission version with its metadata, the annexes' bytes (named by SHA-256), the"
    " consultation's answers, the audit trail up to publication, the JSON Schemas at the"
    " versions the review pinned, `manifest.json` (every file's SHA-256 and size, the review,"
    " the report's version and content hash) and `SHA256SUMS` (`sha256sum -c` checks it)."
    " `reviewflow evidence verify PACK.zip` verifies a pack offline.",
    parameters=("ReviewId",),
)
async def download_evidence(request: web.Request) -> web.Response:
    pack = await evidence_pack(
        request.app[SERVICES], current_actor(request), request.match_info["id"]
    )
    return answer_pack(request, pack)


def answer_pack(request: web.Request, pack: Pack) -> web.Response:
    """The pack as an attachment, or 304 when `If-None-Match` names it (the pages send it too)."""
    headers = {
        "ETag": f'"{pack.sha256}"',
        "Content-Disposition": f'attachment; filename="{pack.filename}"',
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("If-None-Match") == headers["ETag"]:
        return web.Response(status=304, headers=headers)
    return web.Response(body=pack.content, content_type=ZIP, headers=headers)
