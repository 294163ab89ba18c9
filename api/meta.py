"""Health, readiness, reference data and the JSON Schemas: what every caller may read."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiohttp import web

import schemas
from api.keys import POOL, TEMPORAL
from api.problems import Problem
from domain.reference import gcm_document, load_reference, region_document

routes = web.RouteTableDef()

READINESS_TIMEOUT_S = 3.0


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _database_ready(request: web.Request) -> bool:
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_S):
            return await request.app[POOL].fetchval("SELECT 1") == 1
    except Exception:
        return False


async def _temporal_ready(request: web.Request) -> bool:
    try:
        return await request.app[TEMPORAL].service_client.check_health(
            timeout=timedelta(seconds=READINESS_TIMEOUT_S)
        )
    except Exception:
        return False


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    database, temporal = await asyncio.gather(_database_ready(request), _temporal_ready(request))
    checks = {"database": "up" if database else "down", "temporal": "up" if temporal else "down"}
    ready = database and temporal
    return web.json_response(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
        headers=None if ready else {"Retry-After": "5"},
    )


@routes.get("/v1/gcm")
async def gcm(request: web.Request) -> web.Response:
    return web.json_response(gcm_document())


@routes.get("/v1/regions")
async def regions(request: web.Request) -> web.Response:
    items = [region_document(region, with_members=False) for region in load_reference().regions]
    return web.json_response({"items": items})


@routes.get("/v1/regions/{code}")
async def region(request: web.Request) -> web.Response:
    code = request.match_info["code"].upper()
    found = load_reference().region(code)
    if found is None:
        raise Problem(404, f"There is no region {request.match_info['code']!r}.")
    return web.json_response(region_document(found, with_members=True))


@routes.get("/v1/schemas")
async def schema_list(request: web.Request) -> web.Response:
    items = [{"name": name, "href": f"/v1/schemas/{name}"} for name in schemas.schema_names()]
    return web.json_response({"items": items})


@routes.get("/v1/schemas/{name}")
async def schema(request: web.Request) -> web.Response:
    document = schemas.schema_document(request.match_info["name"])
    if document is None:
        raise Problem(404, f"There is no schema {request.match_info['name']!r}.")
    return web.json_response(document, content_type="application/schema+json")
