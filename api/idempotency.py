"""`Idempotency-Key`: a retried POST returns the first answer and creates nothing twice
(`services.once` keeps the answers)."""

from __future__ import annotations

from aiohttp import web

from api.problems import Problem

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


def idempotency_key(request: web.Request, *, required: bool = False) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        if required:
            raise Problem(400, f"This request needs an {HEADER} header.")
        return None
    if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise Problem(400, f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters.")
    return key
