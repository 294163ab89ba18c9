"""The web pages' place in the application: their routes, their static files, the headers that
keep them to this host, and errors shown as pages rather than JSON."""

from __future__ import annotations

import logging
from importlib import resources

from aiohttp import web

import i18n
from api.problems import Handler, Problem
from i18n import N_
from services.refusals import STATUS_OF_KIND, Refused
from web import (
    account,
    annexes,
    audit,
    clearance,
    console,
    dashboard,
    deliveries,
    home,
    invitations,
    language,
    meetings,
    outreach,
    people,
    public,
    report,
    reviews,
    rollups,
    signin,
    sso,
    synthesis,
    tables,
    tasks,
)
from web.background import BACKGROUND, Background, drain_on_shutdown
from web.keys import PERSON
from web.paths import is_page
from web.render import page

log = logging.getLogger(__name__)

# Pages load nothing from another host and cannot be framed; forms post to this host only.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

HEADINGS = {
    403: N_("You cannot do this"),
    404: N_("Page not found"),
    405: N_("Page not found"),
    409: N_("This cannot be done now"),
    422: N_("There is a problem"),
    429: N_("Too many requests"),
    500: N_("Sorry, there is a problem with the service"),
    503: N_("Sorry, the service is unavailable"),
}
MESSAGES = {
    403: N_("Your account does not allow this."),
    404: N_(
        "If you typed the web address, check it is correct. If you pasted it, check you"
        " copied the entire address."
    ),
    405: N_("If you typed the web address, check it is correct."),
    429: N_("Wait a minute, then try again."),
    500: N_("Try again later. What went wrong has been recorded."),
    503: N_("Try again in a few minutes."),
}


PROBLEM = N_("There is a problem")
TRY_AGAIN = N_("Go back and try again.")
START_PAGE = N_("Go to the start page")


def error_page(request: web.Request, status: int, message: str | None = None) -> web.Response:
    # A request refused before the language middleware ran (its form's token, say) still
    # gets its page in its own language.
    language.choose(request)
    person = request.get(PERSON)
    time_zone = person.time_zone if person else "UTC"
    return page(
        request,
        "error.html",
        {
            "heading": i18n.gettext(HEADINGS.get(status, PROBLEM)),
            # A refusal's own message, translated if the catalogues know it or its template.
            "message": i18n.rule_text(message or MESSAGES.get(status, TRY_AGAIN), time_zone),
            "back": "/",
            "back_label": i18n.gettext(START_PAGE),
        },
        status=status,
    )


@web.middleware
async def page_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """On pages: the headers above, and every failure answered as a page in plain words."""
    if not is_page(request.path):
        return await handler(request)
    try:
        response = await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            error.headers.update(PAGE_HEADERS)
            raise
        response = error_page(request, error.status)
    except Refused as refused:
        response = error_page(request, STATUS_OF_KIND[refused.kind], refused.message)
        if refused.retry_after_s is not None:
            response.headers["Retry-After"] = str(refused.retry_after_s)
    except Problem as problem:  # raised by the shared middlewares, such as the rate limit
        response = error_page(request, problem.status)
        response.headers.update(problem.headers or {})
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        response = error_page(request, 500)
    # A page may set a stricter policy of its own (a published report's standalone HTML).
    for name, value in PAGE_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def add_web(app: web.Application) -> None:
    # Single sign-on's paths before the sign-in links' /sign-in/{token}, which would take them.
    for pages in (
        home,
        sso,
        signin,
        tasks,
        console,
        reviews,
        clearance,
        rollups,
        annexes,
        invitations,
        language,
        account,
        people,
        outreach,
        tables,
        synthesis,
        report,
        audit,
        dashboard,
        meetings,
        deliveries,
        public,
    ):
        app.add_routes(pages.routes)
    app[BACKGROUND] = Background()
    app.on_shutdown.append(drain_on_shutdown)
    app.router.add_static("/static", str(resources.files("web") / "static"))
