"""The OpenAPI 3.1 description of the API (`GET /openapi.json`) and a page to read it (`GET /docs`).

Assembly only: each operation is declared beside its route (`api.operations.operation`),
answers by the schemas of `api.answers`, request bodies by the very dicts the handlers check
them with (`api.requests`, `services.accounts`) and documents by the files in `schemas/`, so
what is documented is what is checked. Those schemas refer to each other by absolute `$id`;
here each file becomes a component and every `$ref` is rewritten to point inside this
document, which therefore needs nothing from the network.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from functools import cache
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urldefrag, urljoin

from aiohttp import web

import schemas
from api import (
    actors,
    annexes,
    clearance,
    deliveries,
    evidence,
    exports,
    meta,
    observe,
    outreach,
    people,
    reports,
    reviews,
    rollups,
    sessions,
    submissions,
    tasks,
    webhooks,
)
from api import requests as request_schemas
from api.answers import ANSWERS
from api.operations import (
    COMPONENT_SCHEMAS,
    DECLARED,
    JSON,
    PARAMETERS,
    RESPONSES,
    SCHEMA_BASE,
    answer,
    operation,
)
from services import sessions as session_use_cases
from services.accounts import NEW_ACTOR_SCHEMA
from services.clearance import CLEARANCE_SCHEMA, CLEARING_OFFICER_SCHEMA, NEW_DRAFTER_SCHEMA
from services.imports import ACCOUNTS_CSV
from services.people import EDIT_PERSON_SCHEMA
from services.rollups import APPROVAL_SCHEMA as ROLLUP_APPROVAL_SCHEMA
from services.rollups import NEW_ROLLUP_SCHEMA

routes = web.RouteTableDef()

# Every route of the API, in the order the document lists them.
ROUTE_TABLES = (
    meta.routes,
    observe.routes,
    routes,
    actors.routes,
    reviews.routes,
    submissions.routes,
    clearance.routes,
    sessions.routes,
    annexes.routes,
    tasks.routes,
    reports.routes,
    rollups.routes,
    webhooks.routes,
    people.routes,
    outreach.routes,
    exports.routes,
    evidence.routes,
    deliveries.routes,
)


def _checked_as(schema: dict[str, Any], field: str, document: str) -> dict[str, Any]:
    """`schema`, whose `field` the handler goes on to check against the document schema
    `document`, with that check written into it: the two checks as one schema."""
    described = copy.deepcopy(schema)
    described["properties"][field] = {
        "$ref": f"{SCHEMA_BASE}{schemas.schema_file(document, schemas.current_version(document))}.json",
        **described["properties"][field],
    }
    return described


# Component name of each request-body schema, and where it comes from.
REQUEST_SCHEMAS: dict[str, dict[str, Any]] = {
    "NewActor": NEW_ACTOR_SCHEMA,
    "NewReview": request_schemas.NEW_REVIEW,
    "Extension": request_schemas.EXTENSION,
    "Advance": request_schemas.ADVANCE,
    "Cancel": request_schemas.CANCEL,
    "Invitations": request_schemas.INVITATIONS,
    "ReviewText": request_schemas.REVIEW_TEXT,
    "NewSubmission": request_schemas.SUBMISSION,
    "TaskCompletion": _checked_as(
        request_schemas.TASK_COMPLETION, "response", "consultation_response"
    ),
    "TaskDelegation": request_schemas.TASK_DELEGATION,
    "NewWebhook": request_schemas.NEW_WEBHOOK,
    "Preferences": request_schemas.PREFERENCES,
    "Approval": request_schemas.APPROVAL,
    "ChangeRequest": request_schemas.CHANGE_REQUEST,
    "PersonChanges": EDIT_PERSON_SCHEMA,
    "AccountsCsv": ACCOUNTS_CSV,
    "Reminders": request_schemas.REMINDERS,
    "Announcement": request_schemas.ANNOUNCEMENT,
    "NewDrafter": NEW_DRAFTER_SCHEMA,
    "ClearingOfficer": CLEARING_OFFICER_SCHEMA,
    "Clearance": CLEARANCE_SCHEMA,
    "NewRollup": NEW_ROLLUP_SCHEMA,
    "RollupApproval": ROLLUP_APPROVAL_SCHEMA,
    "NewSession": session_use_cases.NEW_SESSION_SCHEMA,
    "SessionChanges": session_use_cases.SESSION_CHANGES_SCHEMA,
    "SessionRegistrationRequest": session_use_cases.REGISTRATION_SCHEMA,
    "SessionAttendance": session_use_cases.ATTENDANCE_SCHEMA,
    "SessionSummaryText": session_use_cases.SUMMARY_SCHEMA,
    "AnnexFile": {"type": "string", "format": "binary", "description": "The file itself."},
}

# ---- JSON Schemas as components ------------------------------------------------------------

# Keywords whose value is a map of names to subschemas: the names are not keywords.
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})
# Keywords whose value is data, not schema: copied as they are.
_DATA = frozenset({"const", "enum", "default", "examples"})


def _component_ref(ref: str, base: str) -> str:
    """`ref`, resolved against `base`, as a pointer into this document's components."""
    target, fragment = urldefrag(urljoin(base, ref))
    name = target.removeprefix(SCHEMA_BASE).removesuffix(".json")
    if target != f"{SCHEMA_BASE}{name}.json" or name not in schemas.schema_files():
        raise ValueError(f"$ref {ref!r} (base {base!r}) names no schema of this service")
    return f"{COMPONENT_SCHEMAS}{name}{fragment}"


def _rebased(node: Any, base: str = "") -> Any:
    """A copy of the schema `node` with every `$ref` rewritten by `_component_ref`.

    `$id` and `$schema` are left out: inside the document an `$id` would change the base the
    rewritten references resolve against, and the document's `jsonSchemaDialect` says 2020-12.
    """
    if isinstance(node, list):
        return [_rebased(item, base) for item in node]
    if not isinstance(node, dict):
        return node
    base = urljoin(base, node.get("$id", ""))
    copied: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("$id", "$schema"):
            continue
        if key == "$ref":
            copied[key] = _component_ref(value, base)
        elif key in _DATA:
            copied[key] = copy.deepcopy(value)
        elif key in _SCHEMA_MAPS:
            copied[key] = {name: _rebased(sub, base) for name, sub in value.items()}
        else:
            copied[key] = _rebased(value, base)
    return copied


TAGS = [
    {"name": "Service", "description": "Health, readiness and this description; no token."},
    {
        "name": "Reference",
        "description": "The GCM and the five regions, titled and named in the language"
        " Accept-Language asks for (one of the six official languages of the UN, else English);"
        " Content-Language says which.",
    },
    {"name": "Accounts", "description": "Accounts and their bearer tokens."},
    {"name": "Reviews", "description": "Regional reviews and their deadlines."},
    {"name": "Submissions", "description": "National reports and stakeholder inputs."},
    {"name": "Annexes", "description": "PDF and Word files sent with a submission."},
    {
        "name": "Consultation",
        "description": "The synthesis of a review's inputs and the tasks that ask participants"
        " to answer it.",
    },
    {
        "name": "Report",
        "description": "The review's report: compiled when the consultation closes, approved or"
        " sent back with editorial text by its secretariat, then published and frozen.",
    },
    {
        "name": "Roll-up",
        "description": "The global synthesis of a cycle's published regional reports for the"
        " International Migration Review Forum, approved by the admin.",
    },
    {"name": "Audit", "description": "Every state change of a review, in order."},
    {
        "name": "Notifications",
        "description": "Webhooks: a review's events POSTed to your URL, signed with HMAC-SHA256"
        ' over "<timestamp>." + body.',
    },
    {"name": "Schemas", "description": "The JSON Schemas documents are checked against."},
]


def _version() -> str:
    try:
        return version("reviewflow")
    except PackageNotFoundError:
        return "0.0.0"


def _paths() -> dict[str, dict[str, Any]]:
    """Every routed operation, as declared beside its route."""
    paths: dict[str, dict[str, Any]] = {}
    for table in ROUTE_TABLES:
        for route in table:
            assert isinstance(route, web.RouteDef)
            if route.handler not in DECLARED:
                raise LookupError(f"{route.method} {route.path} declares no operation")
            paths.setdefault(route.path, {})[route.method.lower()] = DECLARED[route.handler]
    return paths


@cache
def _document() -> dict[str, Any]:
    components = {
        # Every version of every schema, each under its file's name ("national_report" is
        # version 1, "national_report.v2" version 2), as $refs between them name them.
        **{
            schemas.schema_file(name, version): _rebased(schemas.schema_document(name, version))
            for name in schemas.schema_names()
            for version in schemas.schema_versions(name)
        },
        **{name: _rebased(schema) for name, schema in REQUEST_SCHEMAS.items()},
        **ANSWERS,
    }
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "reviewflow",
            "version": _version(),
            "summary": "Regional reviews of the Global Compact for Safe, Orderly and Regular"
            " Migration.",
            "description": "Calls for inputs, consultations and reports of the regional reviews"
            " the UN regional commissions run. Every `/v1` request needs a bearer token; every"
            " error is `application/problem+json`.",
        },
        "tags": TAGS,
        "paths": _paths(),
        "components": {
            "schemas": components,
            "parameters": PARAMETERS,
            "responses": RESPONSES,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The token shown once when the account was created.",
                }
            },
        },
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document; built once, a fresh copy for each caller."""
    return copy.deepcopy(_document())


@cache
def _document_json() -> str:
    return json.dumps(_document(), ensure_ascii=False)


# ---- routes ---------------------------------------------------------------------------------


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


@cache
def _docs_page() -> tuple[str, dict[str, str]]:
    """The page and its headers: only its own inline script and style may run."""
    page = (resources.files("api") / "static" / "docs.html").read_text(encoding="utf-8")
    scripts = " ".join(map(_csp_hash, re.findall(r"<script>(.*?)</script>", page, re.S)))
    styles = " ".join(map(_csp_hash, re.findall(r"<style>(.*?)</style>", page, re.S)))
    policy = (
        f"default-src 'none'; script-src {scripts}; style-src {styles}; connect-src 'self';"
        " base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return page, {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


@routes.get("/openapi.json")
@operation(
    "Service",
    "openapi",
    "This description of the API (OpenAPI 3.1)",
    {"200": answer("The OpenAPI document.", {"type": "object"})},
    public=True,
)
async def openapi_json(request: web.Request) -> web.Response:
    return web.Response(text=_document_json(), content_type=JSON)


@routes.get("/docs")
@operation(
    "Service",
    "docs",
    "A page to read this description",
    {
        "200": {
            "description": "An HTML page rendering /openapi.json.",
            "content": {"text/html": {"schema": {"type": "string"}}},
        }
    },
    public=True,
)
async def docs(request: web.Request) -> web.Response:
    page, headers = _docs_page()
    return web.Response(text=page, content_type="text/html", headers=headers)
