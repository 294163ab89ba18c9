"""Exports: a review's submissions, consultation answers or participants as a CSV or XLSX file,
for its secretariat, streamed as it is produced (services.exports, reports.exports)."""

from __future__ import annotations

from aiohttp import web

from api.auth import current_actor
from api.keys import SERVICES
from api.operations import NOT_FOUND, header, operation, path_parameter, shared_response
from reports.exports import DATASETS, MEDIA_TYPES
from services import exports as use_cases

routes = web.RouteTableDef()


@routes.get("/v1/reviews/{id}/exports/{dataset}.{format}")
@operation(
    "Reviews",
    "exportReviewData",
    "The review's submissions, consultation answers or participants as a spreadsheet",
    {
        "200": {
            "description": "The file, sent as it is written. Text cells that a spreadsheet"
            " would read as a formula (starting with =, +, -, @, a tab or a carriage return)"
            " start with a ' instead.",
            "headers": {
                "Content-Disposition": header(
                    "attachment, with a file name of the review's id and the dataset.",
                    {"type": "string", "pattern": '^attachment; filename="[a-z0-9.-]+"$'},
                ),
            },
            "content": {
                media_type: {"schema": {"type": "string", "format": "binary"}}
                for media_type in MEDIA_TYPES.values()
            },
        },
        "403": shared_response("Forbidden", "Only the review's secretariat exports its data."),
        "404": NOT_FOUND,
    },
    description="`submissions`: one row per submission (its latest version), with a column"
    " per GCM objective, the number of annexes that version was sent with and their SHA-256"
    " hashes (separated by `;`, in the order they were attached); `answers`: one row per answered consultation task; `participants`:"
    " each member State and invited stakeholder, with whether it submitted, late, or not. CSV"
    " is UTF-8 with a byte-order mark (RFC 4180); XLSX is one sheet.",
    parameters=(
        "ReviewId",
        path_parameter("dataset", {"enum": list(DATASETS)}, "What to export."),
        path_parameter("format", {"enum": list(MEDIA_TYPES)}, "The file's format."),
    ),
)
async def export(request: web.Request) -> web.StreamResponse:
    found = await use_cases.export(
        request.app[SERVICES],
        current_actor(request),
        request.match_info["id"],
        request.match_info["dataset"],
        request.match_info["format"],
    )
    return await send(request, found)


async def send(request: web.Request, found: use_cases.Export) -> web.StreamResponse:
    """The export as an attachment, each chunk sent as it is made (the pages send it too)."""
    response = web.StreamResponse(
        headers={
            "Content-Type": found.media_type,
            "Content-Disposition": f'attachment; filename="{found.filename}"',
            "X-Content-Type-Options": "nosniff",
        }
    )
    await response.prepare(request)
    async for chunk in found.chunks():
        await response.write(chunk)
    await response.write_eof()
    return response
