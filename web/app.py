"""The web pages' place in the application: their routes, their static files, the headers that
keep them to this host, and errors shown as pages rather than JSON."""

from __future__ import annotations

import logging
from importlib import resources

from aiohttp import web

from api.problems import Handler, Problem
from services.refusals import STATUS_OF_KIND, Refused
from web import (
    account,
    audit,
    console,
    dashboard,
    home,
    invitations,
    language,
    outreach,
    people,
    public,
    report,
    reviews,
    signin,
    tables,
    tasks,
)
from web.background import BACKGROUND, Background, drain_on_shutdown
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
    403: "You cannot do this",
    404: "Page not found",
    405: "Page not found",
    409: "This cannot be done now",
    422: "There is a problem",
    429: "Too many requests",
    500: "Sorry, there is a problem with the service",
    503: "Sorry, the service is unavailable",
}
MESSAGES = {
    403: "Your account does not allow this.",
    404: "If you typed the web address, check it is correct. If you pasted it, check you"
    " copied the entire address.",
    405: "If you typed the web address, check it is correct.",
    429: "Wait a minute, then try again.",
    500: "Try again later. What went wrong has been recorded.",
    503: "Try again in a few minutes.",
}


def error_page(request: web.Request, status: int, message: str | None = None) -> web.Response:
    # A request refused before the language middleware ran (its form's token, say) still
    # gets its page in its own language.
    language.choose(request)
    return page(
        request,
        "error.html",
        {
            "heading": HEADINGS.get(status, "There is a problem"),
            "message": message or MESSAGES.get(status, "Go back and try again."),
            "back": "/",
            "back_label": "Go to the start page",
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
    for pages in (
        home,
        signin,
        tasks,
        console,
        reviews,
        invitations,
        language,
        account,
        people,
        outreach,
        tables,
        report,
        audit,
        dashboard,
        public,
    ):
        app.add_routes(pages.routes)
    app[BACKGROUND] = Background()
    app.on_shutdown.append(drain_on_shutdown)
    app.router.add_static("/static", str(resources.files("web") / "static"))
