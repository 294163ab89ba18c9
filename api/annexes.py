"""Annexes: PDF or Word files attached to the national report or input being drafted, sent with
its next version, and read wherever the submission may be read.

An upload is the file itself as the body (any media type: what the content is decides), read
up to the limit and no further; its name comes in the `name` query parameter.
"""

from __future__ import annotations

from aiohttp import web

from api.auth import current_actor
from api.keys import SERVICES
from api.operations import (
    NOT_FOUND,
    UUID,
    answer,
    component,
    header,
    operation,
    path_parameter,
    query_parameter,
    shared_response,
)
from api.problems import Problem, invalid
from api.uploads import CHUNK_BYTES, CUT_SHORT, file_response, read_bounded
from domain.annexes import (
    MAX_ANNEX_BYTES,
    MAX_ANNEX_MB,
    MAX_ANNEXES,
    MAX_NAME_CHARS,
    AnnexType,
)
from services import annexes
from services import submissions as submitting

routes = web.RouteTableDef()

# The longest name a file is sent under: the query that carries it stays well within the
# request line's limit, whatever characters it holds.
MAX_SENT_NAME = 255

ANNEX_ID = path_parameter("annex", UUID, "The annex's id.")
SUBMITTERS_ONLY = shared_response(
    "Forbidden",
    "Only focal points and stakeholders, for the review they take part in, each for its own"
    " country or organisation.",
)


async def _body(request: web.Request) -> bytes:
    """The request's body, refused (413) past MAX_ANNEX_BYTES before more is read."""
    if request.content_length is not None and request.content_length > MAX_ANNEX_BYTES:
        raise Problem(413, annexes.too_large())
    try:
        content = await read_bounded(request.content.iter_chunked(CHUNK_BYTES), MAX_ANNEX_BYTES)
    except CUT_SHORT:
        raise Problem(400, "The body ended before it was complete.") from None
    if content is None:
        raise Problem(413, annexes.too_large())
    return content


@routes.post("/v1/reviews/{id}/annexes")
@operation(
    "Annexes",
    "attachAnnex",
    "Attach a file to the national report or input being drafted",
    {
        "201": answer("Attached: the next version sent carries it.", component("Annex")),
        "403": SUBMITTERS_ONLY,
        "404": NOT_FOUND,
        "413": shared_response("PayloadTooLarge", f"The file is larger than {MAX_ANNEX_MB} MB."),
        "422": shared_response(
            "Unprocessable",
            "The file is neither a PDF nor a Word document (DOCX) by its content, whatever"
            f" its name; it is empty; or the draft has {MAX_ANNEXES} annexes already.",
        ),
    },
    description=f"The body is the file, at most {MAX_ANNEX_MB} MB; a draft has at most"
    f" {MAX_ANNEXES} annexes. Its type is taken from its content: a PDF (`%PDF-`) or a Word"
    " document (a DOCX package), and nothing else. The SHA-256 of the content is kept and"
    " returned. Annexes belong to the draft of the actor's country or organisation, which its"
    " colleagues share; each version sent records those it was sent with.",
    parameters=(
        "ReviewId",
        query_parameter(
            "name",
            {"type": "string", "maxLength": MAX_SENT_NAME},
            f"The file's name, as shown (its first {MAX_NAME_CHARS} characters at most, without"
            " a folder or control characters); `annex` when absent.",
        ),
    ),
    body="AnnexFile",
    body_type="application/octet-stream",
)
async def attach(request: web.Request) -> web.Response:
    deps = request.app[SERVICES]
    intake = await submitting.intake(deps, current_actor(request), request.match_info["id"])
    name = request.query.get("name", "")
    if len(name) > MAX_SENT_NAME:
        raise invalid([("/name", f"must be at most {MAX_SENT_NAME} characters")])
    annex = await annexes.attach(deps, intake, name, await _body(request))
    return web.json_response(annex.as_json(), status=201)


@routes.get("/v1/reviews/{id}/annexes")
@operation(
    "Annexes",
    "listDraftAnnexes",
    "The annexes of the national report or input being drafted",
    {
        "200": answer("Oldest first: the next version sent carries them.", component("AnnexList")),
        "403": SUBMITTERS_ONLY,
        "404": NOT_FOUND,
    },
    parameters=("ReviewId",),
)
async def list_drafted(request: web.Request) -> web.Response:
    deps = request.app[SERVICES]
    intake = await submitting.intake(deps, current_actor(request), request.match_info["id"])
    drafted = await annexes.drafted(deps, intake)
    return web.json_response({"items": [annex.as_json() for annex in drafted]})


@routes.delete("/v1/reviews/{id}/annexes/{annex}")
@operation(
    "Annexes",
    "removeAnnex",
    "Take an annex off the draft",
    {
        "204": {"description": "Removed: versions already sent with it keep it."},
        "403": SUBMITTERS_ONLY,
        "404": shared_response("NotFound", "The draft has no such annex."),
    },
    parameters=("ReviewId", ANNEX_ID),
)
async def remove(request: web.Request) -> web.Response:
    deps = request.app[SERVICES]
    intake = await submitting.intake(deps, current_actor(request), request.match_info["id"])
    await annexes.remove(deps, intake, request.match_info["annex"])
    return web.Response(status=204)


@routes.get("/v1/annexes/{id}")
@operation(
    "Annexes",
    "getAnnex",
    "An annex's file",
    {
        "200": {
            "description": "The file, as sent, with the media type its content has.",
            "content": {
                media_type: {"schema": {"type": "string", "format": "binary"}}
                for media_type in (t.value for t in AnnexType)
            },
            "headers": {
                "ETag": header("The file's SHA-256 (hex), quoted.", {"type": "string"}),
                "Content-Disposition": header(
                    "attachment, with the file's name ending with its type's extension.",
                    {"type": "string"},
                ),
            },
        },
        "304": {"description": "The file is the one `If-None-Match` names."},
        "404": shared_response(
            "NotFound",
            "No such annex the actor may read: its country's or organisation's submitters"
            " read the annexes of their draft and of what they sent; the review's secretariat"
            " those sent with a version.",
        ),
    },
    parameters=(
        path_parameter("id", UUID, "The annex's id."),
        {
            "name": "If-None-Match",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "The ETag of the copy the client has.",
        },
    ),
)
async def download(request: web.Request) -> web.Response:
    deps = request.app[SERVICES]
    annex, content = await annexes.readable(deps, current_actor(request), request.match_info["id"])
    return file_response(
        request, content, annex.media_type.value, annex.download_name, annex.sha256
    )
