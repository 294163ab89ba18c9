"""The start page."""

from __future__ import annotations

from aiohttp import web

from web.keys import PERSON
from web.render import page

routes = web.RouteTableDef()


@routes.get("/")
async def start(request: web.Request) -> web.StreamResponse:
    if PERSON in request:
        # Those who run reviews start from them; everyone else from what is asked of them.
        runs = request[PERSON].role in ("secretariat", "admin")
        raise web.HTTPSeeOther("/reviews" if runs else "/tasks")
    return page(request, "start.html")
