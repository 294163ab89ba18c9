"""The start page."""

from __future__ import annotations

from aiohttp import web

from web.keys import PERSON
from web.render import page

routes = web.RouteTableDef()


@routes.get("/")
async def start(request: web.Request) -> web.StreamResponse:
    if PERSON in request:
        raise web.HTTPSeeOther("/tasks")
    return page(request, "start.html")
