"""Annexes on the pages: attach a file to the draft from the submission form, take one off,
and download one wherever a submission is shown.

The form that attaches a file is read as it arrives, not through pages' body limit: its CSRF
token first (the form puts it before the file), then the file, up to the limit and no further.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError

import i18n
from api.keys import SERVICES
from api.uploads import CHUNK_BYTES, CUT_SHORT, file_response, read_bounded
from domain.annexes import MAX_ANNEX_BYTES
from services import annexes, submissions
from services.refusals import Kind, Refused
from web.reviews import form_with_annex_error
from web.sessions import (
    ANNEX_UPLOAD,
    CSRF_FIELD,
    MAX_TOKEN_LENGTH,
    check_csrf_token,
    require_person,
)
from web.signin import see_other

routes = web.RouteTableDef()

FILE_FIELD = "file"
NO_FILE = i18n.N_("Choose a file to attach")
UNREADABLE = i18n.N_("The file could not be received whole. Choose it and attach it again.")

# What a multipart body that is not well formed raises while it is read.
_MALFORMED = (ValueError, RuntimeError, AssertionError, HttpProcessingError, *CUT_SHORT)


class _Unreadable(Exception):
    pass


async def _chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(CHUNK_BYTES):
        yield chunk


async def _next_field(reader: MultipartReader, name: str) -> BodyPartReader | None:
    part = await reader.next()
    return part if isinstance(part, BodyPartReader) and part.name == name else None


async def _sent_file(request: web.Request) -> tuple[str, bytes | None]:
    """The file's name and content (None past MAX_ANNEX_BYTES), once the form's CSRF token,
    its first field, is checked (403 without it)."""
    if request.content_type != "multipart/form-data":
        check_csrf_token(request, None)
    try:
        reader = await request.multipart()
        token_part = await _next_field(reader, CSRF_FIELD)
        token = (
            None
            if token_part is None
            else await read_bounded(_chunks(token_part), MAX_TOKEN_LENGTH)
        )
        check_csrf_token(request, None if token is None else token.decode("utf-8", "replace"))
        file_part = await _next_field(reader, FILE_FIELD)
        if file_part is None:
            return "", b""
        return file_part.filename or "", await read_bounded(_chunks(file_part), MAX_ANNEX_BYTES)
    except _MALFORMED:
        raise _Unreadable() from None


@routes.post("/reviews/{id}/annexes", name=ANNEX_UPLOAD)
async def attach(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    deps = request.app[SERVICES]
    intake = await submissions.intake(deps, person, request.match_info["id"])
    try:
        name, content = await _sent_file(request)
    except _Unreadable:
        return await form_with_annex_error(request, deps, intake, i18n.gettext(UNREADABLE), 400)
    if content is None:
        return await form_with_annex_error(request, deps, intake, annexes.too_large(), 413)
    if not name and not content:
        return await form_with_annex_error(request, deps, intake, i18n.gettext(NO_FILE), 422)
    try:
        await annexes.attach(deps, intake, name, content)
    except Refused as refused:
        if refused.kind is not Kind.INVALID:
            raise
        return await form_with_annex_error(request, deps, intake, refused.message, 422)
    return see_other(f"/reviews/{intake.review['id']}/submit#annexes")


@routes.post("/reviews/{id}/annexes/{annex}/remove")
async def remove(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    deps = request.app[SERVICES]
    intake = await submissions.intake(deps, person, request.match_info["id"])
    await annexes.remove(deps, intake, request.match_info["annex"])
    return see_other(f"/reviews/{intake.review['id']}/submit#annexes")


@routes.get("/annexes/{id}")
async def download(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    annex, content = await annexes.readable(request.app[SERVICES], person, request.match_info["id"])
    return file_response(
        request, content, annex.media_type.value, annex.download_name, annex.sha256
    )
