"""Every answer the test suite receives from `/v1` checked against what the OpenAPI document
declares for its operation and status, so a handler and its declaration cannot drift apart
without a test failing.

`checking_answers(app)` hooks an application (every app the tests build via `create_app`, see
conftest.py); each answer that breaks its declaration is recorded in `DRIFTS`, and the test
during which it was received fails.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aiohttp import web
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from api.openapi import openapi_document

# Where the document is placed to resolve its `$ref`s with jsonschema; any URI would do.
DOCUMENT_URI = "urn:reviewflow:openapi"
# Media types whose bodies are JSON and checked against the declared schema.
JSON_TYPES = frozenset({"application/json", "application/problem+json", "application/schema+json"})

# Every answer that broke its declaration: "METHOD path -> status: what is wrong".
DRIFTS: list[str] = []


def walk(node: Any) -> list[Any]:
    """The node and every node below it, in JSON objects and arrays."""
    found = [node]
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        found.extend(walk(child))
    return found


def _pointer_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@cache
def _document() -> dict[str, Any]:
    """The served document with every object schema that names its properties closed to
    others, so an answer with an undocumented field is a drift too."""
    document = openapi_document()
    for node in walk([document["components"]["schemas"], document["paths"]]):
        if isinstance(node, dict) and isinstance(node.get("properties"), dict):
            node.setdefault("additionalProperties", False)
    return document


@cache
def _registry() -> Registry:
    return Registry().with_resource(
        DOCUMENT_URI, Resource.from_contents(_document(), default_specification=DRAFT202012)
    )


@cache
def _validator(pointer: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": f"{DOCUMENT_URI}#{pointer}"},
        registry=_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def _declared_response(method: str, path: str, status: int) -> tuple[str, dict[str, Any]] | None:
    """The JSON Pointer and the declaration of the answer `status` to `method path`; None
    when the operation does not declare it (the `default` covers only a 500)."""
    responses = _document()["paths"][path][method]["responses"]
    key = str(status) if str(status) in responses else "default" if status == 500 else None
    if key is None:
        return None
    pointer = f"/paths/{_pointer_token(path)}/{method}/responses/{key}"
    response = responses[key]
    if "$ref" in response:
        pointer = response["$ref"].removeprefix("#")
        name = pointer.rsplit("/", 1)[1]
        response = _document()["components"]["responses"][name]
    return pointer, response


def drifts_of(method: str, path: str, response: web.StreamResponse) -> list[str]:
    """How the answer `response` to `method path` (a routed path template) breaks its
    declaration; empty when it keeps it."""
    paths = _document()["paths"]
    if method not in paths.get(path, {}):
        return ["the operation is not documented"]
    declared = _declared_response(method, path, response.status)
    if declared is None:
        return [f"status {response.status} is not declared"]
    pointer, declaration = declared
    drifts = _header_drifts(pointer, declaration, response)
    content = declaration.get("content", {})
    body = response.body if isinstance(response, web.Response) else None
    if not content:
        return drifts + ([f"a body where none is declared: {body[:200]!r}"] if body else [])
    media_type = response.content_type
    if media_type not in content:
        return [*drifts, f"content type {media_type} is not one of {sorted(content)}"]
    if media_type not in JSON_TYPES or not isinstance(body, bytes):
        return drifts
    try:
        answer = json.loads(body)
    except ValueError as error:
        return [*drifts, f"the body is not JSON: {error}"]
    return drifts + value_drifts(f"{pointer}/content/{_pointer_token(media_type)}/schema", answer)


def value_drifts(pointer: str, value: Any) -> list[str]:
    """How `value` breaks the schema at `pointer` in the (closed) document."""
    return [
        f"/{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in _validator(pointer).iter_errors(value)
    ]


def _header_drifts(
    pointer: str, declaration: dict[str, Any], response: web.StreamResponse
) -> list[str]:
    """How the declared headers present in `response` break their schemas."""
    drifts = []
    for name, header in declaration.get("headers", {}).items():
        text = response.headers.get(name)
        if text is None:
            continue
        value: Any = text
        if header["schema"].get("type") == "integer":
            value = int(text) if text.isdigit() else text
        at = f"{pointer}/headers/{_pointer_token(name)}/schema"
        drifts += [f"header {name}{drift}" for drift in value_drifts(at, value)]
    return drifts


async def _check_answer(request: web.Request, response: web.StreamResponse) -> None:
    route = request.match_info.route
    resource = route.resource
    if resource is None or not request.path.startswith("/v1/") or request.method == "HEAD":
        return  # not an operation of the API: unknown path, or a method no route takes
    template = resource.canonical
    for drift in drifts_of(request.method.lower(), template, response):
        DRIFTS.append(f"{request.method} {request.path} ({template}) -> {response.status}: {drift}")


def checking_answers(app: web.Application) -> web.Application:
    """`app`, with every answer it sends checked against the OpenAPI document."""
    app.on_response_prepare.append(_check_answer)
    return app
