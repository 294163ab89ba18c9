"""Reading request bodies: JSON only, bounded, and checked against a schema before use."""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web

from api.problems import Problem, invalid
from schemas import Problem as SchemaProblem
from schemas import problems_in, validate_document

JSON_TYPES = frozenset({"application/json", "application/merge-patch+json"})


async def read_json(request: web.Request) -> Any:
    """The request's JSON body; 415 for another media type, 400 for anything unparsable."""
    if request.content_type not in JSON_TYPES:
        raise Problem(415, "Send the body as application/json.")
    raw = await request.read()  # aiohttp answers 413 past client_max_size
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Problem(400, f"The body is not valid UTF-8 (byte {error.start}).") from None
    if not text.strip():
        raise Problem(400, "The body is empty; a JSON document is expected.")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise Problem(
            400,
            f"The body is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}.",
        ) from None
    except RecursionError:
        raise Problem(400, "The body is nested too deeply.") from None


def body_problems(
    body: Any, schema: dict[str, Any], field: str, document_schema: str
) -> list[SchemaProblem]:
    """Problems of a request body and of the document it carries in `field`, all at once."""
    problems = problems_in(schema, body)
    if isinstance(body, dict) and isinstance(body.get(field), dict):
        problems += [
            SchemaProblem(f"/{field}{p.pointer}", p.message)
            for p in validate_document(document_schema, body[field])
        ]
    return problems


def raise_if_invalid(problems: list[SchemaProblem]) -> None:
    if problems:
        raise invalid((p.pointer, p.message) for p in problems)


async def read_valid_json(request: web.Request, schema: dict[str, Any]) -> dict[str, Any]:
    """The body, checked against a request schema; 422 listing every problem otherwise."""
    body = await read_json(request)
    raise_if_invalid(problems_in(schema, body))
    return body


def path_uuid(request: web.Request, not_found: Problem) -> uuid.UUID:
    """The `{id}` of the path as a UUID; `not_found` when it is not one (it names nothing)."""
    try:
        return uuid.UUID(request.match_info["id"])
    except ValueError:
        raise not_found from None


def query_uuid(request: web.Request, name: str, what: str) -> uuid.UUID | None:
    """An optional UUID query parameter, such as a paging cursor; 422 when malformed."""
    raw = request.query.get(name)
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        raise invalid([(f"/{name}", f"must be {what}")]) from None
