"""A use case's refusal (`services.refusals`) answered as a problem document, in one place."""

from __future__ import annotations

from aiohttp import web

from api.problems import Handler, Problem, invalid
from services.refusals import STATUS_OF_KIND, Kind, Refused


def problem_of(refused: Refused) -> Problem:
    if refused.kind is Kind.INVALID:
        return invalid(refused.problems, refused.message)
    headers = None
    if refused.retry_after_s is not None:
        headers = {"Retry-After": str(refused.retry_after_s)}
    # A refusal about a field of the request names it, whatever its kind.
    errors = [{"pointer": p, "message": m} for p, m in refused.problems] or None
    return Problem(STATUS_OF_KIND[refused.kind], refused.message, errors=errors, headers=headers)


@web.middleware
async def refusal_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Refused as refused:
        raise problem_of(refused) from refused
