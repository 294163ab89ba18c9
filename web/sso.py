"""Signing staff in with their organisation's OpenID provider (services.sso): leaving for the
provider, and coming back from it."""

from __future__ import annotations

from aiohttp import web

import i18n
from api.keys import POOL, SETTINGS
from services import signin, sso
from services.refusals import STATUS_OF_KIND, Refused
from web.keys import PERSON
from web.render import page
from web.sessions import set_cookie
from web.signin import HOME, SSO_PATH, see_other, signed_in

routes = web.RouteTableDef()

# The flow under way (services.sso.seal): sent back with the provider's redirect, a top-level
# navigation, which SameSite=Lax allows.
PENDING_COOKIE = "reviewflow_sso"


def _refused(request: web.Request, refused: Refused) -> web.Response:
    response = page(
        request,
        "sso_refused.html",
        {"message": i18n.rule_text(refused.message)},
        status=STATUS_OF_KIND[refused.kind],
    )
    if refused.retry_after_s is not None:
        response.headers["Retry-After"] = str(refused.retry_after_s)
    return response


# A link, not a form: a form's redirect to another site breaks the pages' form-action policy.
@routes.get(SSO_PATH)
async def leave_for_provider(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    if settings.oidc is None:
        raise web.HTTPNotFound()
    next_path = signin.local_path(request.query.get("next"))
    if PERSON in request:
        return see_other(next_path or HOME)
    try:
        url, pending = await sso.begin(settings, next_path)
    except Refused as refused:
        return _refused(request, refused)
    response = see_other(url)
    sealed = sso.seal(settings.oidc, pending)
    set_cookie(response, settings, PENDING_COOKIE, sealed, max_age=sso.PENDING_SECONDS)
    return response


@routes.get(sso.CALLBACK_PATH)
async def back_from_provider(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    if settings.oidc is None:
        raise web.HTTPNotFound()
    pending = sso.unseal(settings.oidc, request.cookies.get(PENDING_COOKIE))
    try:
        started = await sso.finish(request.app[POOL], settings, pending, request.query)
        response = await signed_in(request, started)
    except Refused as refused:
        response = _refused(request, refused)
    # Whatever came of it, the flow is over: its state cannot be used again.
    response.del_cookie(PENDING_COOKIE, path="/")
    return response
