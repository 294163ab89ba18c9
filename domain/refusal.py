"""A rule's "no", as a value: what kind of refusal, the sentence that explains it, and the
field of the request it concerns (if one). The workflow raises it as an error of the kind's
type; the API answers it as a problem document, turning the field into its own pointer."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RefusalKind(StrEnum):
    # The values are the error types of the workflow's refusals, recorded in histories and
    # mapped to HTTP statuses by the API: they never change.
    WRONG_PHASE = "WrongPhase"
    INVALID = "InvalidRequest"
    NOT_IN_SCOPE = "NotInScope"
    # Asked again sooner than the rule allows: the same request may come after a while.
    TOO_SOON = "TooSoon"


@dataclass(frozen=True)
class Refusal:
    kind: RefusalKind
    message: str
    # The request's field at fault (such as "until"), or None when the request as a whole is.
    field: str | None = None
    # For TOO_SOON: the seconds after which the same request would be done.
    retry_after_s: int | None = None
