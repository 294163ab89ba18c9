"""Logs as JSON lines: one object per record, for machines to read and filter.

Every line written while a request is handled carries its `request_id`, and its `review_id`
where the request (or the activity) is about one review: both are set in context variables by
whoever knows them (the API's middleware, the worker's activity interceptor), so no call site
has to pass them along.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from temporalio import activity

# A record's structured fields, given as `extra={FIELDS: {...}}`, go into its line as they are.
FIELDS = "fields"

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
REVIEW_ID: ContextVar[str | None] = ContextVar("review_id", default=None)

# What Temporal's activity logger puts on its records (`extra["temporal_activity"]`), and the
# fields of it worth a line: which activity, which attempt, for which workflow.
TEMPORAL_ACTIVITY = "temporal_activity"
ACTIVITY_FIELDS = ("activity_type", "activity_id", "attempt", "workflow_id", "workflow_type")


@contextmanager
def log_context(*, request_id: str | None, review_id: str | None) -> Iterator[None]:
    """Within the block, every log line carries these ids (None: none). Both are set, and
    reset after, so a review id that a service set inside never leaks into the next request
    the same task serves."""
    request_token, review_token = REQUEST_ID.set(request_id), REVIEW_ID.set(review_id)
    try:
        yield
    finally:
        REVIEW_ID.reset(review_token)
        REQUEST_ID.reset(request_token)


def set_review_id(review_id: str) -> None:
    """For the rest of the current request (or task), its lines name this review."""
    REVIEW_ID.set(review_id)


# The record attributes the ids are stamped on when a record is made, so whichever handler
# formats it later, and wherever, still has them.
CONTEXT_ATTRIBUTES = {"request_id": REQUEST_ID, "review_id": REVIEW_ID}


def _stamping(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make_stamped(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        for name, var in CONTEXT_ATTRIBUTES.items():
            if (value := var.get()) is not None:
                setattr(record, name, value)
        return record

    make_stamped.stamps_context = True  # type: ignore[attr-defined]
    return make_stamped


def stamp_context_on_records() -> None:
    """Every log record made from now on carries the request and review ids of its context."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "stamps_context", False):
        logging.setLogRecordFactory(_stamping(factory))


# Whoever imports the log format gets the ids on every record, tests' captured ones included.
stamp_context_on_records()


def _context_fields(record: logging.LogRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {
        name: getattr(record, name) for name in CONTEXT_ATTRIBUTES if hasattr(record, name)
    }
    details = getattr(record, TEMPORAL_ACTIVITY, None)
    if isinstance(details, dict):
        fields["activity"] = {k: details[k] for k in ACTIVITY_FIELDS if k in details}
    return fields


class JsonLineFormatter(logging.Formatter):
    """`{"at", "level", "logger", "message", request_id, review_id, activity, ...fields,
    "error"}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_context_fields(record))
        line.update(getattr(record, FIELDS, None) or {})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_json_lines(level: int = logging.INFO) -> None:
    """Every log record of the process to standard error, as a JSON line."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLineFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # The activity's details are a field of the line, not a repr appended to its message.
    activity.logger.activity_info_on_message = False
