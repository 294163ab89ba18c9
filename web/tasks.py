"""My tasks: what reviews ask of the person signed in."""

from __future__ import annotations

from aiohttp import web

from web.render import page
from web.sessions import require_person

routes = web.RouteTableDef()


@routes.get("/tasks")
async def my_tasks(request: web.Request) -> web.StreamResponse:
    require_person(request)
    return page(request, "tasks.html")
