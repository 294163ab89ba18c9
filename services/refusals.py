"""A use case's "no": what kind of refusal, the sentence that explains it, and each field of
the input at fault (by JSON Pointer). The JSON API answers it as a problem document; the web
pages show it beside the form."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from enum import StrEnum

from domain.refusal import Refusal, RefusalKind
from i18n import ngettext


class Kind(StrEnum):
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    INVALID = "invalid"
    # A service this use case needs is away or slow: the same input may be sent again.
    UNAVAILABLE = "unavailable"
    # Asked too often: the same input may be sent again after `retry_after_s`.
    TOO_MANY = "too_many"
    # The review failed the request in a way no rule foresees.
    FAILED = "failed"


# The HTTP status of each kind: the JSON API answers with it, and a refused submission's record
# keeps the one its submitter got (a request sent again is answered with it).
STATUS_OF_KIND = {
    Kind.NOT_FOUND: 404,
    Kind.FORBIDDEN: 403,
    Kind.CONFLICT: 409,
    Kind.INVALID: 422,
    Kind.UNAVAILABLE: 503,
    Kind.TOO_MANY: 429,
    Kind.FAILED: 500,
}


class Refused(Exception):
    def __init__(
        self,
        kind: Kind,
        message: str,
        problems: Iterable[tuple[str, str]] = (),
        *,
        retry_after_s: int | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.problems = list(problems)
        self.retry_after_s = retry_after_s


def not_found(message: str) -> Refused:
    return Refused(Kind.NOT_FOUND, message)


def forbidden(message: str) -> Refused:
    return Refused(Kind.FORBIDDEN, message)


def conflict(message: str) -> Refused:
    return Refused(Kind.CONFLICT, message)


def invalid(
    problems: Iterable[tuple[str, str]], message: str = "The request is not valid."
) -> Refused:
    return Refused(Kind.INVALID, message, problems)


def unavailable(message: str, retry_after_s: int = 5) -> Refused:
    return Refused(Kind.UNAVAILABLE, message, retry_after_s=retry_after_s)


def named_id(text: str, nothing: Refused) -> uuid.UUID:
    """`text` as the UUID of what it names; `nothing` when it is not one (it names nothing)."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise nothing from None


def too_many(message: str, retry_after_s: int) -> Refused:
    return Refused(Kind.TOO_MANY, message, retry_after_s=retry_after_s)


def at_most_characters(count: int) -> str:
    """The problem of a text longer than `count` characters, as a schema says it."""
    return ngettext(
        "must be at most %(count)d character", "must be at most %(count)d characters", count
    ) % {"count": count}


def pointer(field: str | None) -> str:
    """The JSON Pointer, into the input, of the field a rule refers to."""
    return f"/{field}" if field else ""


KIND_OF_RULE = {
    RefusalKind.WRONG_PHASE: Kind.CONFLICT,
    RefusalKind.INVALID: Kind.INVALID,
    RefusalKind.NOT_IN_SCOPE: Kind.FORBIDDEN,
    RefusalKind.TOO_SOON: Kind.TOO_MANY,
}


def refused_by_rule(refusal: Refusal) -> Refused:
    """A rule's refusal as the use case's: an invalid input names its field."""
    kind = KIND_OF_RULE[refusal.kind]
    if kind is Kind.INVALID:
        return Refused(kind, refusal.message, [(pointer(refusal.field), refusal.message)])
    return Refused(kind, refusal.message, retry_after_s=refusal.retry_after_s)
