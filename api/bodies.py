"""Reading request bodies: JSON only, bounded, and checked against a schema before use."""

from __future__ import annotations

import asyncio
import contextvars
import json
import math
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiohttp import web

from api.problems import Handler, Problem, invalid
from schemas import MAX_PROBLEMS, problems_in, validate_document
from schemas import Problem as SchemaProblem

T = TypeVar("T")

JSON_TYPES = frozenset({"application/json", "application/merge-patch+json"})


# The most values (objects, arrays, strings, numbers...) any valid request body holds: a review
# inviting 20,000 stakeholders has about 20,130, a full national report under 5,000. Counting
# them is cheap; validating a million of them is not, so a body with more is refused unread.
MAX_BODY_VALUES = 25_000

# Parsing and checking run here, never on the event loop: a 2 MB body takes tens of
# milliseconds to parse and check, during which every other request (and /healthz) would wait.
# Two threads: more would only contend for the same interpreter lock.
_CHECKS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="reviewflow-checks")


async def off_loop(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` in the checking threads, so the event loop keeps serving; in the
    request's context, so that the problems found are said in the request's language."""
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(_CHECKS, context.run, function, *args)


async def read_json(request: web.Request, schema: dict[str, Any] | None = None) -> Any:
    """The request's JSON body; 415 for another media type, 400 for anything unparsable, 422
    for too many values or text nothing can store, and for any problem against `schema`."""
    if request.content_type not in JSON_TYPES:
        raise Problem(415, "Send the body as application/json.")
    raw = await request.read()  # aiohttp answers 413 past client_max_size
    return await off_loop(checked_body, raw, schema)


def checked_body(raw: bytes, schema: dict[str, Any] | None = None) -> Any:
    """`raw` parsed and checked as `read_json` describes; raises Problem."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Problem(400, f"The body is not valid UTF-8 (byte {error.start}).") from None
    if not text.strip():
        raise Problem(400, "The body is empty; a JSON document is expected.")
    try:
        body = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise Problem(
            400,
            f"The body is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}.",
        ) from None
    except RecursionError:
        raise Problem(400, "The body is nested too deeply.") from None
    except ValueError as error:  # NaN and Infinity, or an integer of thousands of digits
        raise Problem(400, f"The body is not valid JSON: {error}.") from None
    raise_if_invalid(unstorable_or_too_many_values(body))
    if schema is not None:
        raise_if_invalid(problems_in(schema, body))
    return body


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def unstorable_or_too_many_values(value: Any) -> list[SchemaProblem]:
    """Strings PostgreSQL cannot store and no person means (NUL characters and lone
    surrogates, which JSON's \\u escapes can express), or else, alone, the container at which
    the value holds more than MAX_BODY_VALUES values. Walked without recursion, and never
    further than MAX_BODY_VALUES values; pointers are written only for containers and
    problems, since writing one for each of 25,000 values would cost more than the walk."""
    if not isinstance(value, dict | list):
        problem = _scalar_problem(value)
        return [SchemaProblem("", problem)] if problem else []
    found: list[SchemaProblem] = []
    stack: list[tuple[str, Any]] = [("", value)]
    seen = 1
    while stack and len(found) <= MAX_PROBLEMS:
        pointer, item = stack.pop()
        seen += len(item)
        if seen > MAX_BODY_VALUES:
            return [_too_many_values(pointer)]
        members = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in members:
            if isinstance(key, str) and _unstorable(key):
                found.append(
                    SchemaProblem(
                        _member(pointer, key), "has a name with a NUL character or invalid Unicode"
                    )
                )
            if isinstance(child, dict | list):
                stack.append((_member(pointer, key), child))
            elif problem := _scalar_problem(child):
                found.append(SchemaProblem(_member(pointer, key), problem))
    return sorted(found, key=lambda p: p.pointer)


_UNSTORABLE = "must not contain NUL characters or invalid Unicode"
# What RFC 8785 (the form every JSON hash is taken over, `domain.canonical`) writes exactly.
_LARGEST_EXACT = 2**53 - 1
_INEXACT = f"must be a number between -{_LARGEST_EXACT} and {_LARGEST_EXACT}"


def _scalar_problem(value: Any) -> str | None:
    """Why a string, number or constant cannot be kept: unstorable text, or a number the
    canonical JSON form cannot write (a float too large, such as 1e400, parses as infinity)."""
    if isinstance(value, str):
        return _UNSTORABLE if _unstorable(value) else None
    if isinstance(value, float):
        return None if math.isfinite(value) else _INEXACT
    if isinstance(value, int) and not isinstance(value, bool):
        return None if abs(value) <= _LARGEST_EXACT else _INEXACT
    return None


def _member(pointer: str, key: str | int) -> str:
    return f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"


def _too_many_values(pointer: str) -> SchemaProblem:
    return SchemaProblem(
        pointer,
        f"holds more values than any request has (the whole body may hold {MAX_BODY_VALUES:,})",
    )


def _unstorable(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def body_problems(
    body: Any,
    schema: dict[str, Any],
    field: str,
    document_schema: str,
    version: int | None = None,
) -> list[SchemaProblem]:
    """Problems of a request body and of the document it carries in `field` (checked against
    `version` of `document_schema`, its current one when None), all at once."""
    problems = problems_in(schema, body)
    if isinstance(body, dict) and isinstance(body.get(field), dict):
        problems += [
            SchemaProblem(f"/{field}{p.pointer}", p.message)
            for p in validate_document(document_schema, body[field], version)
        ]
    return problems


def raise_if_invalid(problems: list[SchemaProblem]) -> None:
    if problems:
        raise invalid((p.pointer, p.message) for p in problems)


@web.middleware
async def storable_text_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A path with text nothing stored can have names nothing (404); such a query value is a
    mistake the client should hear of (422)."""
    if _unstorable(request.path):
        raise Problem(404, "There is nothing at this address.")
    problems = [
        (f"/{name}", "must not contain NUL characters or invalid Unicode")
        for name, value in request.query.items()
        if _unstorable(value)
    ]
    if problems:
        raise invalid(problems)
    return await handler(request)


def query_uuid(request: web.Request, name: str, what: str) -> uuid.UUID | None:
    """An optional UUID query parameter, such as a paging cursor; 422 when malformed."""
    raw = request.query.get(name)
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        raise invalid([(f"/{name}", f"must be {what}")]) from None
