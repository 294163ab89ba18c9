"""What each route declares about itself for the OpenAPI document: `@operation(...)` beside the
`@routes` decorator, and the vocabulary those declarations are written in.

A declaration names its request body and answers by component (`component("Review")`); the
components are the document schemas of `schemas/`, the request schemas the handlers check
bodies with, and the answer schemas of `api.answers`. `api.openapi` assembles the document
from the route tables, and a route without a declaration cannot be served a document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import schemas
from activities.notify import WEBHOOK_TIMEOUT
from api import requests as request_schemas
from api.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.idempotency import MAX_KEY_LENGTH
from api.problems import PROBLEM_TYPE
from domain.review import Phase
from notifications.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    MAX_ATTEMPTS,
    RETRY_BASE_S,
    RETRY_CAP_S,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
)

JSON = "application/json"
SCHEMA_BASE = schemas.COMMON_ID.rsplit("/", 1)[0] + "/"
COMPONENT_SCHEMAS = "#/components/schemas/"


def component(name: str) -> dict[str, str]:
    return {"$ref": COMPONENT_SCHEMAS + name}


def common(definition: str) -> dict[str, str]:
    return {"$ref": f"{COMPONENT_SCHEMAS}common/$defs/{definition}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def object_of(
    properties: dict[str, Any], optional: tuple[str, ...] = (), **extra: Any
) -> dict[str, Any]:
    """An object whose fields are present in every answer (null where they have no value),
    except the `optional` ones."""
    required = [name for name in properties if name not in optional]
    return {"type": "object", "required": required, "properties": properties, **extra}


def array_of(items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "array", "items": items, **extra}


UUID = {"type": "string", "format": "uuid"}
TEXT = {"type": "string"}
COUNT = {"type": "integer", "minimum": 0}
VERSION = {"type": "integer", "minimum": 1}
REVIEW_ID = {"type": "string", "pattern": request_schemas.REVIEW_ID_PATTERN}
PHASE = {"enum": [phase.value for phase in Phase]}
REPORT_STATUS = {
    "enum": ["draft", "published"],
    "description": "draft: before the secretariat's approval; published: approved, and from"
    " then on frozen.",
}


def path_parameter(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


def query_parameter(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def limit_parameter(default: int, maximum: int, things: str) -> dict[str, Any]:
    """The `limit` of a paged list: at most `maximum` `things` a page, `default` without it."""
    return query_parameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": maximum, "default": default},
        f"At most this many {things}.",
    )


PARAMETERS: dict[str, dict[str, Any]] = {
    "ReviewId": path_parameter("id", REVIEW_ID, "The review's id, such as ece-2020."),
    "SubmissionId": path_parameter("id", UUID, "The submission's id."),
    "TaskId": path_parameter("id", UUID, "The task's id."),
    "WebhookId": path_parameter("id", UUID, "The webhook's id."),
    "ActorId": path_parameter("id", UUID, "The account's id."),
    "RegionCode": path_parameter(
        "code", {"type": "string"}, "A region code (ECE, ECA, ECLAC, ESCAP, ESCWA), any case."
    ),
    "SchemaName": path_parameter("name", {"enum": schemas.schema_names()}, "The schema's name."),
    "IdempotencyKey": {
        "name": IDEMPOTENCY_HEADER,
        "in": "header",
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
        "description": "Any unique string of yours. A retry with the same key and body returns"
        " the first answer and creates nothing twice; the same key with another body is a 422.",
    },
}


def answer(
    description: str, schema: dict[str, Any], media_type: str = JSON, **headers: str
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {media_type: {"schema": schema}},
    }
    if headers:
        response["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return response


def header(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "schema": schema}


def problem(description: str, **headers: str) -> dict[str, Any]:
    return answer(description, component("Problem"), PROBLEM_TYPE, **headers)


RESPONSES: dict[str, dict[str, Any]] = {
    "BadRequest": problem("The body is not JSON, or the Idempotency-Key header is malformed."),
    "Unauthorized": problem(
        "No bearer token, or one that is not valid.",
        **{"WWW-Authenticate": 'Bearer realm="reviewflow"'},
    ),
    "Forbidden": problem("The token's actor may not do this."),
    "NotFound": problem("There is no such resource, or the actor may not see it."),
    "Conflict": problem("The request conflicts with the resource's current state."),
    "PayloadTooLarge": problem("The body is larger than the API accepts."),
    "UnsupportedMediaType": problem("The body is not sent as application/json."),
    "Unprocessable": problem(
        "The body (or a query parameter) is not valid: `errors` lists every problem, each with"
        " a JSON Pointer (`/name` for a query parameter)."
    ),
    "Unavailable": problem(
        "A service the request needs is unavailable; retry shortly.",
        **{"Retry-After": "Seconds to wait before retrying."},
    ),
    "TooManyRequests": problem(
        "This client (its bearer token, or its address without one) sent more requests than"
        " the API takes per second; retry after `Retry-After` seconds.",
        **{"Retry-After": "Seconds to wait before retrying."},
    ),
    "Error": problem("An unexpected error (logged on the server)."),
}


def shared_response(name: str, description: str | None = None) -> dict[str, Any]:
    reference: dict[str, Any] = {"$ref": f"#/components/responses/{name}"}
    if description:
        reference["description"] = description
    return reference


# ---- operations -----------------------------------------------------------------------------


Handler = TypeVar("Handler", bound=Callable[..., Any])

# The declaration of each handler, filled in as the route modules are imported.
DECLARED: dict[Callable[..., Any], dict[str, Any]] = {}


def operation(
    tag: str,
    operation_id: str,
    summary: str,
    responses: dict[str, Any],
    *,
    description: str | None = None,
    parameters: tuple[str | dict[str, Any], ...] = (),
    body: str | None = None,
    body_type: str = JSON,
    public: bool = False,
) -> Callable[[Handler], Handler]:
    """Declare the handler's operation; errors every endpoint of its kind may answer are
    added here."""
    declared: dict[str, Any] = {"tags": [tag], "operationId": operation_id, "summary": summary}
    if description:
        declared["description"] = description
    if parameters:
        declared["parameters"] = [
            {"$ref": f"#/components/parameters/{p}"} if isinstance(p, str) else p
            for p in parameters
        ]
    answers = dict(responses)
    if body is not None:
        declared["requestBody"] = {
            "required": True,
            "content": {body_type: {"schema": component(body)}},
        }
        for status, name in (
            ("400", "BadRequest"),
            ("413", "PayloadTooLarge"),
            ("415", "UnsupportedMediaType"),
            ("422", "Unprocessable"),
        ):
            answers.setdefault(status, shared_response(name))
    if public:
        declared["security"] = []
    else:
        declared["security"] = [{"bearerAuth": []}]
        answers.setdefault("401", shared_response("Unauthorized"))
        answers.setdefault("429", shared_response("TooManyRequests"))
    answers["default"] = shared_response("Error")
    declared["responses"] = dict(sorted(answers.items()))

    def declare(handler: Handler) -> Handler:
        DECLARED[handler] = declared
        return handler

    return declare


# Answers and refusals several operations share.
REVIEW_ANSWER = answer("The review, as it is now.", component("Review"))
SECRETARIAT_ONLY = shared_response("Forbidden", "Only the review's secretariat.")
NOT_FOUND = shared_response("NotFound")
UNAVAILABLE = shared_response("Unavailable")
RUNS_REVIEWS_ONLY = shared_response("Forbidden", "Only secretariats and admins.")
NOT_YOUR_WEBHOOK = shared_response(
    "NotFound", "No such webhook of the actor's (an admin's: of anyone's), or it was deleted."
)
NO_REPORT_AWAITS = shared_response(
    "Conflict",
    "No report awaits a decision: the review is not in approval, or has ended.",
)
REPORT_BODIES = {
    "json": component("Report"),
    "html": {
        "type": "string",
        "description": "A standalone printable page: no script, nothing loaded from elsewhere.",
    },
    "md": {"type": "string", "description": "The report as Markdown."},
    "pdf": {
        "type": "string",
        "format": "binary",
        "description": "The report as an A4 PDF, rendered from its HTML when it was compiled.",
    },
}

# Webhook deliveries, and how a receiver checks them.
SIGNATURE = (
    'Every delivery is a POST of UTF-8 JSON, `{"id": <delivery id>, "event": {id, type,'
    " review_id, at, actor_id, data}}` (the event as in the review's audit trail), with the"
    f" headers `{DELIVERY_HEADER}` (the delivery id, the same on every attempt),"
    f" `{EVENT_HEADER}` (the event type), `{TIMESTAMP_HEADER}` (Unix seconds, new on every"
    f" attempt) and `{SIGNATURE_HEADER}: sha256=<hex>`.\n\n"
    "To verify a delivery: take the raw body bytes as received (before any JSON parsing);"
    f" compute HMAC-SHA256 keyed with the secret over the `{TIMESTAMP_HEADER}` value, a dot and"
    ' the body, `"<timestamp>." + body` (not over the body alone); write it in lowercase hex'
    f" after `sha256=` and compare it with `{SIGNATURE_HEADER}` in constant time; refuse a"
    " timestamp more than 5 minutes from your clock (a replay). Deduplicate on the delivery id:"
    " a delivery may arrive more than once.\n\n"
    f"Answer 2xx within {WEBHOOK_TIMEOUT.total:g} s. No answer, 408, 429 and 5xx are retried"
    f" (at most {MAX_ATTEMPTS} attempts, waiting from {RETRY_BASE_S:g} s, doubling, up to"
    f" {RETRY_CAP_S / 3600:g} h, jittered); 3xx (redirects are not followed) and other 4xx fail"
    " the delivery. See docs/webhooks.md."
)
