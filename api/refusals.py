"""A use case's refusal (`services.refusals`) answered as a problem document, in one place."""

from __future__ import annotations

from aiohttp import web

import i18n
from api.problems import Handler, Problem, invalid
from services.refusals import STATUS_OF_KIND, Kind, Refused


def problem_of(refused: Refused) -> Problem:
    """The refusal as a problem document, its sentences in the language of Accept-Language
    (the rules speak English; `i18n.rule_text` reads them in another language)."""
    message = i18n.rule_text(refused.message)
    if refused.kind is Kind.INVALID:
        problems = [(pointer, i18n.rule_text(text)) for pointer, text in refused.problems]
        return invalid(problems, message)
    headers = None
    if refused.retry_after_s is not None:
        headers = {"Retry-After": str(refused.retry_after_s)}
    # A refusal about a field of the request names it, whatever its kind.
    errors = [{"pointer": p, "message": i18n.rule_text(m)} for p, m in refused.problems] or None
    return Problem(STATUS_OF_KIND[refused.kind], message, errors=errors, headers=headers)


@web.middleware
async def refusal_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Refused as refused:
        raise problem_of(refused) from refused
