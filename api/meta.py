"""Health, readiness, reference data and the JSON Schemas: what every caller may read."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from aiohttp import web

import i18n
import schemas
from api.keys import POOL, TEMPORAL
from api.operations import (
    NOT_FOUND,
    SCHEMA_BASE,
    VERSION,
    answer,
    component,
    header,
    operation,
    query_parameter,
    shared_response,
)
from api.problems import Problem, invalid
from db.pool import answers
from domain.reference import load_reference
from i18n import reference as in_language

routes = web.RouteTableDef()

READINESS_TIMEOUT_S = 3.0


@routes.get("/healthz")
@operation(
    "Service",
    "healthz",
    "Liveness",
    {"200": answer("The process is up.", component("Health"))},
    public=True,
)
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _database_ready(request: web.Request) -> bool:
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_S):
            return await answers(request.app[POOL])
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
@operation(
    "Service",
    "readyz",
    "Readiness: the database and Temporal are reachable",
    {
        "200": answer("Ready.", component("Readiness")),
        "503": answer(
            "Not ready; `checks` says what is down.",
            component("Readiness"),
            **{"Retry-After": "Seconds to wait before asking again."},
        ),
    },
    public=True,
)
async def readyz(request: web.Request) -> web.Response:
    database, temporal = await asyncio.gather(_database_ready(request), _temporal_ready(request))
    checks = {"database": "up" if database else "down", "temporal": "up" if temporal else "down"}
    ready = database and temporal
    return web.json_response(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
        headers=None if ready else {"Retry-After": "5"},
    )


# The reference data is answered in the language the request asks for.
_LANGUAGES = ", ".join(i18n.LANGUAGES)
IN_LANGUAGE = (
    "Titles and names are in the language Accept-Language asks for, one of the six official"
    f" languages of the United Nations ({_LANGUAGES}), English when it names none of them:"
    " the GCM's wording is that of General Assembly resolution 73/195 in that language, and"
    " member States are named as the Unicode CLDR names them (in English, as the UN does)."
    " Ids, numbers and codes are the same in every language. Content-Language says which"
    " language the answer is in."
)
ACCEPT_LANGUAGE = {
    "name": "Accept-Language",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "The languages wanted with their weights (RFC 9110), such as"
    f" fr-CH, fr;q=0.9, en;q=0.5. The most wanted of {_LANGUAGES} is used (fr-CH is French);"
    " other tags, * and weights that are not numbers are ignored.",
}
SPOKEN_HEADERS = {
    "Content-Language": header(
        "The language of the titles and names.", {"enum": list(i18n.LANGUAGES)}
    ),
    "Vary": header(
        "Names Accept-Language: a cache keeps one answer per language.", {"type": "string"}
    ),
}


def in_language_answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """An answer whose titles and names follow Accept-Language, and whose headers say so."""
    return {**answer(description, schema), "headers": SPOKEN_HEADERS}


@routes.get("/v1/gcm")
@operation(
    "Reference",
    "getGcm",
    "GCM objectives, clusters, guiding principles, stakeholder categories",
    {"200": in_language_answer("The GCM reference data.", component("Gcm"))},
    description=IN_LANGUAGE,
    parameters=(ACCEPT_LANGUAGE,),
)
async def gcm(request: web.Request) -> web.Response:
    return web.json_response(in_language.gcm())


@routes.get("/v1/regions")
@operation(
    "Reference",
    "listRegions",
    "The five regions",
    {"200": in_language_answer("The regions, without their members.", component("RegionList"))},
    description=IN_LANGUAGE,
    parameters=(ACCEPT_LANGUAGE,),
)
async def regions(request: web.Request) -> web.Response:
    items = [in_language.region(region, with_members=False) for region in load_reference().regions]
    return web.json_response({"items": items})


@routes.get("/v1/regions/{code}")
@operation(
    "Reference",
    "getRegion",
    "A region and its member States",
    {"200": in_language_answer("The region.", component("Region")), "404": NOT_FOUND},
    description=IN_LANGUAGE,
    parameters=("RegionCode", ACCEPT_LANGUAGE),
)
async def region(request: web.Request) -> web.Response:
    code = request.match_info["code"].upper()
    found = load_reference().region(code)
    if found is None:
        raise Problem(404, f"There is no region {request.match_info['code']!r}.")
    return web.json_response(in_language.region(found, with_members=True))


@routes.get("/v1/schemas")
@operation(
    "Schemas",
    "listSchemas",
    "The JSON Schemas documents are checked against",
    {"200": answer("The schemas.", component("SchemaList"))},
)
async def schema_list(request: web.Request) -> web.Response:
    items = [
        {
            "name": name,
            "href": f"/v1/schemas/{name}",
            "version": schemas.current_version(name),
            "versions": [
                {"version": version, "href": f"/v1/schemas/{name}?version={version}"}
                for version in schemas.schema_versions(name)
            ],
        }
        for name in schemas.schema_names()
    ]
    return web.json_response({"items": items})


@routes.get("/v1/schemas/{name}")
@operation(
    "Schemas",
    "getSchema",
    "One JSON Schema (draft 2020-12), as stored",
    {
        "200": answer(
            f"The schema; its `$ref`s use absolute `$id`s under {SCHEMA_BASE}, all served here.",
            {"type": "object"},
            "application/schema+json",
        ),
        "404": NOT_FOUND,
        "422": shared_response("Unprocessable", "`version` is not a version number."),
    },
    description="The current version unless `version` asks for an earlier one: a review"
    " collects the versions its `schema_versions` name, and every version stays served.",
    parameters=(
        "SchemaName",
        query_parameter(
            "version",
            VERSION,
            "A version of the schema (GET /v1/schemas lists them); the current one when absent.",
        ),
    ),
)
async def schema(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    asked = request.query.get("version")
    if asked is not None and not (asked.isascii() and asked.isdigit() and len(asked) <= 9):
        raise invalid([("/version", "must be a version number, such as 1")])
    version = None if asked is None else int(asked)
    document = schemas.schema_document(name, version)
    if document is None:
        if version is not None and schemas.schema_versions(name):
            raise Problem(404, f"The schema {name!r} has no version {version}.")
        raise Problem(404, f"There is no schema {name!r}.")
    return web.json_response(document, content_type="application/schema+json")
