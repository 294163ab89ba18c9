"""Every error leaves the API as an RFC 9457 `application/problem+json` document."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from http import HTTPStatus
from itertools import islice
from typing import Any

import asyncpg
from aiohttp import web

from schemas import MAX_PROBLEMS

log = logging.getLogger(__name__)

PROBLEM_TYPE = "application/problem+json"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    errors: Iterable[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> web.Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = list(errors)
    body.update(extra)
    return web.Response(
        status=status,
        text=json.dumps(body, ensure_ascii=False),
        content_type=PROBLEM_TYPE,
        headers=headers,
    )


class Problem(Exception):
    """Raised by handlers to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        errors: Iterable[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or HTTPStatus(status).phrase)
        self.status = status
        self.detail = detail
        self.errors = list(errors) if errors is not None else None
        self.headers = headers
        self.extra = extra

    def response(self) -> web.Response:
        return problem_response(
            self.status, self.detail, errors=self.errors, headers=self.headers, **self.extra
        )


# A person fixes a document a hundred problems at a time at most; past that the rest are
# neither computed nor listed (schemas stops looking), so a hostile body can make neither the
# work nor the answer a hundred times its size.
MAX_LISTED_PROBLEMS = MAX_PROBLEMS


def invalid(
    errors: Iterable[tuple[str, str]], detail: str = "The request is not valid."
) -> Problem:
    """A 422 naming every problem by JSON Pointer (up to MAX_LISTED_PROBLEMS of them)."""
    listed = [
        {"pointer": pointer, "message": message}
        for pointer, message in islice(errors, MAX_LISTED_PROBLEMS + 1)
    ]
    if len(listed) > MAX_LISTED_PROBLEMS:
        listed = [
            *listed[:MAX_LISTED_PROBLEMS],
            {"pointer": "", "message": "and more problems, not listed"},
        ]
    return Problem(422, detail, errors=listed)


def _http_exception_problem(error: web.HTTPException) -> web.Response:
    detail = error.text if error.text and not error.text.startswith(f"{error.status}:") else None
    headers = {k: v for k, v in error.headers.items() if k.lower() in {"allow", "retry-after"}}
    return problem_response(error.status, detail, headers=headers or None)


# Failures of the services behind the API: the client did nothing wrong and may retry.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
    ConnectionError,
    TimeoutError,
    OSError,
)


def connection_lost(error: asyncpg.InterfaceError) -> bool:
    """Whether the driver refused because the database connection was lost, not misused.

    An operation the outage broke in flight is in the error's chain with its type (a
    transaction's exit then fails on the closed connection). When the pool notices the loss
    first, it takes the connection back and the next call on it fails with a bare
    InterfaceError ("... the underlying connection is closed"): asyncpg gives that case no
    type of its own, so it alone is told by the word "closed", on the bare class only;
    tests/test_problems.py pins both cases against the installed asyncpg.
    """
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, UNAVAILABLE):
            return True
        cause = cause.__cause__ or cause.__context__
    return type(error) is asyncpg.InterfaceError and "closed" in str(error)


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Problem as problem:
        if problem.status == 500:  # a failure the service did not foresee, such as an Update's
            log.error(
                "answered 500 to %s %s: %s",
                request.method,
                request.path,
                problem.detail,
                exc_info=problem,
            )
        return problem.response()
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return _http_exception_problem(error)
    except asyncpg.InterfaceError as error:
        if not connection_lost(error):  # else a bug: the driver was misused
            log.exception("unhandled error on %s %s", request.method, request.path)
            return problem_response(500, "An unexpected error occurred; it has been logged.")
        log.warning("database connection lost on %s %s: %r", request.method, request.path, error)
        return problem_response(
            503,
            "A service this request needs is unavailable; retry shortly.",
            headers={"Retry-After": "5"},
        )
    except UNAVAILABLE as error:
        log.warning("dependency unavailable on %s %s: %r", request.method, request.path, error)
        return problem_response(
            503,
            "A service this request needs is unavailable; retry shortly.",
            headers={"Retry-After": "5"},
        )
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(500, "An unexpected error occurred; it has been logged.")
