"""Which language a page speaks, and the switch every page offers.

The person's own choice, else the language this browser last switched to (a cookie), else the
browser's Accept-Language, else English. Switching on any page is remembered in the cookie and,
for a person signed in, as their preference, which their mail follows too. The API speaks the
language of Accept-Language.
"""

from __future__ import annotations

from aiohttp import web

import i18n
from api.keys import POOL, SETTINGS
from api.problems import Handler
from services import accounts
from services.signin import local_path
from web.keys import PERSON
from web.paths import is_page, is_published_file
from web.sessions import STATIC_PREFIX, set_cookie

routes = web.RouteTableDef()

LANGUAGE_COOKIE = "reviewflow_language"
PATH = "/language"
# A year: the choice outlives the session, as a browser's language does.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600


def choose(request: web.Request) -> i18n.Language:
    """Speak, for the rest of this request, the language it asks for."""
    person = request.get(PERSON)
    if is_page(request.path):
        code = i18n.negotiate(
            person.language if person else None,
            request.cookies.get(LANGUAGE_COOKIE),
            accept_language=request.headers.get("Accept-Language"),
        )
    else:
        code = i18n.negotiate(accept_language=request.headers.get("Accept-Language"))
    return i18n.use(code)


def _same_in_every_language(request: web.Request) -> bool:
    return request.path.startswith(STATIC_PREFIX) or is_published_file(request.path)


@web.middleware
async def language_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every page and API answer in the language the request asks for (once the session says
    who asks). Static and published files are the same in every language."""
    if not _same_in_every_language(request):
        choose(request)
    return await handler(request)


@web.middleware
async def content_language_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The outermost: every answer, a refusal or an error page too, says its language and
    that it varies with the request's languages and cookies (caches keep one per language)."""
    if _same_in_every_language(request):
        return await handler(request)
    try:
        response = await handler(request)
    except web.HTTPException as raised:  # a redirect, or an error answered further out
        _say_language(raised)
        raise
    _say_language(response)
    return response


def _say_language(response: web.StreamResponse) -> None:
    response.headers.setdefault("Content-Language", i18n.current().code)
    vary = response.headers.get("Vary")
    if vary is None:
        response.headers["Vary"] = "Accept-Language, Cookie"
    elif "accept-language" not in vary.lower():
        response.headers["Vary"] = f"{vary}, Accept-Language, Cookie"


def return_to(request: web.Request) -> str:
    """Where the switch on the page answering `request` goes back to: that page, unless only a
    form's post reaches its address (a new token shown once, a refused switch), where going
    back would find no page: then the start page."""
    resource = request.match_info.route.resource
    if request.method in ("GET", "HEAD") or (
        resource is not None and any(route.method in ("GET", "*") for route in resource)
    ):
        return request.path_qs
    return "/"


def switch_links() -> list[i18n.Language]:
    """The six languages, each named in itself, for the switch at the foot of every page."""
    return [i18n.language(code) for code in i18n.LANGUAGES]


@routes.post(PATH)
async def switch(request: web.Request) -> web.StreamResponse:
    """Switch to the language chosen and go back to the page it was chosen on."""
    form = await request.post()
    code = i18n.supported(str(form.get("language", "")))
    back = local_path(str(form.get("return_to", ""))) or "/"
    if code is None:
        raise web.HTTPBadRequest(text=i18n.gettext("Choose one of the languages listed."))
    person = request.get(PERSON)
    if person is not None and person.language != code:
        await accounts.set_preferences(request.app[POOL], person, {"language": code})
    response = web.Response(status=303, headers={"Location": back})
    set_cookie(response, request.app[SETTINGS], LANGUAGE_COOKIE, code, LANGUAGE_COOKIE_AGE)
    return response
