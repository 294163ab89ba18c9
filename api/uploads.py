"""Files sent and files served: a body read up to a limit and no further, and the headers a
file is served with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

from aiohttp import ClientPayloadError, web

CHUNK_BYTES = 64 * 1024


async def read_bounded(chunks: AsyncIterator[bytes], limit: int) -> bytes | None:
    """The bytes of `chunks`, or None as soon as they pass `limit`: never more than `limit`
    (and one chunk) is held, whatever is sent."""
    kept = bytearray()
    async for chunk in chunks:
        if len(kept) + len(chunk) > limit:
            return None
        kept += chunk
    return bytes(kept)


# What a body that ends before it is complete (a client gone, a Content-Length not kept)
# raises while it is read.
CUT_SHORT = (ClientPayloadError, ConnectionError)


def attachment(name: str) -> str:
    """A Content-Disposition that saves the file under `name`: its ASCII form for old clients,
    and the name itself, percent-encoded (RFC 6266, RFC 8187)."""
    ascii_name = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def file_response(
    request: web.Request, content: bytes, media_type: str, name: str, sha256: str
) -> web.Response:
    """The file, to be saved rather than shown, tagged by its hash (304 when the client has
    it already)."""
    etag = f'"{sha256}"'
    headers = {
        "ETag": etag,
        "Content-Disposition": attachment(name),
        "X-Content-Type-Options": "nosniff",
        # Readable by few: no shared cache keeps it.
        "Cache-Control": "private, no-cache",
    }
    if etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(body=content, content_type=media_type, headers=headers)
