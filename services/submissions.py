"""Submissions' use cases: submit a national report or a stakeholder input, list those the
actor may see, read one.

A submission is stored as pending, then offered to the review's engine, which accepts it (with
its version) or refuses it. The request id comes from the idempotency key, so a request sent
again finds its first answer and creates nothing twice. A refused request stays on record,
without its content, with the answer its submitter got.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import asyncpg

from db.events import insert_event
from db.reviews import visible_review
from db.submissions import (
    accepted_version_list,
    accepted_versions,
    record_rejection,
    review_submissions,
    store_pending,
    submission,
)
from domain.access import (
    KIND_OF_ROLE,
    Actor,
    may_read_submission,
    own_subject,
    runs_review,
    submission_subject,
)
from domain.canonical import Digest
from domain.events import EventType, ReviewEvent
from domain.intake import closed_for_good
from domain.refusal import Refusal
from domain.review import Phase, SubmissionAccepted, SubmissionKind, SubmissionRef
from i18n import gettext
from services import clearance, once
from services.engine import Deps
from services.metrics import SUBMISSIONS
from services.refusals import (
    STATUS_OF_KIND,
    Kind,
    Refused,
    forbidden,
    named_id,
    not_found,
    refused_by_rule,
)
from services.reviews import visible

# Request ids derived from idempotency keys live in their own UUID namespace.
REQUEST_NAMESPACE = uuid.UUID("1f0c7a52-7d0e-4b8e-9a51-2c3f7f6b9e10")

# The refusals a request's record keeps: the review's own (its phase, its scope), not a
# failure or an absence that a retry may get past.
RECORDED_REFUSALS = frozenset({Kind.FORBIDDEN, Kind.CONFLICT})

# A stored rejection keeps its HTTP status (rows of every version have it so).
KIND_OF_STATUS = {status: kind for kind, status in STATUS_OF_KIND.items()}


# ---- submit ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Intake:
    """Who submits which kind to which review: settled before the document is read."""

    actor: Actor
    kind: SubmissionKind
    review: asyncpg.Record

    @property
    def schema_version(self) -> int:
        """The version of its kind's schema the review collects: what the document is
        checked against, and recorded with it."""
        return pinned_version(self.review, self.kind.value)


def pinned_version(review: asyncpg.Record, name: str) -> int:
    """The version of the document schema `name` that `review` collects."""
    return int(review["schema_versions"].get(name, 1))


async def intake(deps: Deps, actor: Actor, review_id: str) -> Intake:
    """Only focal points and stakeholders submit, each its own kind, to a review it may see."""
    kind = KIND_OF_ROLE.get(actor.role)
    if kind is None:
        raise forbidden(gettext("Only focal points and stakeholders submit."))
    return Intake(actor, kind, await visible(deps, actor, review_id))


def schema_kind(intake: Intake, body: Any) -> SubmissionKind:
    """The kind whose schema `body`'s content is checked against: the submitter's own. A body
    naming the other kind is refused first, rather than judged by the wrong schema."""
    # A list, not a set: whatever the body holds as its kind is compared, hashable or not.
    others = [k for k in SubmissionKind if k != intake.kind]
    if isinstance(body, dict) and body.get("kind") in others:
        raise forbidden(
            gettext("A %(role)s submits a %(kind)s only.")
            % {"role": intake.actor.role, "kind": intake.kind.value}
        )
    return intake.kind


async def submit(
    deps: Deps, intake: Intake, body: dict[str, Any], key: str | None
) -> dict[str, Any]:
    """Submit `body` (valid by its schema): the receipt of the version the review accepted;
    for a request sent again under `key`, its first answer."""
    actor, review = intake.actor, intake.review
    subject = submission_subject(actor, body["content"], review["region"], review["member_states"])
    if isinstance(subject, Refusal):
        raise refused_by_rule(subject)
    if intake.kind is SubmissionKind.NATIONAL_REPORT:
        await clearance.check_cleared(deps.pool, review, subject, body["content"])
    # Off the loop: hashing a large document must not hold up every other request.
    fingerprint = await asyncio.to_thread(Digest, body)
    request_id = (
        uuid.uuid5(REQUEST_NAMESPACE, f"{actor.id}:{review['id']}:{key}") if key else uuid.uuid4()
    )
    # A request certainly refused is recorded as refused without its content, never offered.
    refusal = _certain_refusal(review)
    stored, inserted = await store_pending(
        deps.pool,
        request_id=request_id,
        review_id=review["id"],
        kind=intake.kind.value,
        subject=subject,
        content=body["content"] if refusal is None else None,
        fingerprint=fingerprint.value,
        submitted_by=actor.id,
        organisation=actor.organisation,
        schema_version=intake.schema_version,
        rejection=None if refusal is None else _rejection(refusal),
    )
    if not await asyncio.to_thread(fingerprint.matches, stored["fingerprint"]):
        raise once.key_reused("submission")
    if refusal is not None and inserted:
        await _announce_refusal(deps.pool, actor, stored, refusal)
        SUBMISSIONS.labels(intake.kind.value, "refused").inc()
        raise refusal
    if stored["status"] != "pending":
        return _replay(stored)
    return await _decide(deps, actor, stored)


def _certain_refusal(review: asyncpg.Record) -> Refused | None:
    """The refusal the review would answer, when its phase alone decides it.

    The reviews row may lag the workflow's phase but is never ahead of it, and a review past
    the consultation never takes submissions again. Earlier phases depend on more (a phase
    change on its way, a member State's extension, the late policy), so the review decides
    those.
    """
    refusal = closed_for_good(Phase(review["phase"]))
    return None if refusal is None else refused_by_rule(refusal)


def _rejection(refused: Refused) -> dict[str, Any]:
    """A refusal as its request's record keeps it: the answer its submitter got."""
    return {"status": STATUS_OF_KIND[refused.kind], "detail": refused.message}


def _receipt(stored: asyncpg.Record, accepted: SubmissionAccepted) -> dict[str, Any]:
    return {
        "id": accepted.submission_id,
        "review_id": stored["review_id"],
        "kind": stored["kind"],
        "subject": stored["subject"],
        "version": accepted.version,
        "schema_version": stored["schema_version"],
        "late": accepted.late,
        "status": "accepted",
    }


def _replay(stored: asyncpg.Record) -> dict[str, Any]:
    """The first answer to a request sent again."""
    if stored["status"] == "accepted":
        accepted = SubmissionAccepted(
            str(stored["submission_id"]), stored["version"], stored["late"]
        )
        return _receipt(stored, accepted)
    rejection = stored["rejection"]
    raise Refused(KIND_OF_STATUS[rejection["status"]], rejection["detail"])


async def _decide(deps: Deps, actor: Actor, stored: asyncpg.Record) -> dict[str, Any]:
    """Offer a pending request to the review (with whatever arrives with it) and record what
    it decided."""
    ref = SubmissionRef(
        str(stored["request_id"]), SubmissionKind(stored["kind"]), stored["subject"], str(actor.id)
    )
    try:
        accepted = await deps.reviews.submit(stored["review_id"], ref)
    except Refused as refused:
        if refused.kind in RECORDED_REFUSALS:
            await record_refusal(deps.pool, actor, stored, refused)
            SUBMISSIONS.labels(stored["kind"], "refused").inc()
        raise
    SUBMISSIONS.labels(stored["kind"], "accepted").inc()
    return _receipt(stored, accepted)


async def record_refusal(
    pool: asyncpg.Pool, actor: Actor, stored: asyncpg.Record, refused: Refused
) -> None:
    """A refused submission stays on record, flagged, with the answer its submitter got (and
    without its content). Nothing is recorded for a request accepted meanwhile (another
    request with the same key may have carried it into the review first)."""
    rejection = _rejection(refused)
    if await record_rejection(pool, stored["request_id"], **rejection):
        await _announce_refusal(pool, actor, stored, refused)


async def _announce_refusal(
    pool: asyncpg.Pool, actor: Actor, stored: asyncpg.Record, refused: Refused
) -> None:
    """The `submission.rejected` event (and so its mail and webhook deliveries): one per
    submitter, review and day, however many requests were refused; each stays on record as a
    rejected request."""
    day = stored["received_at"].astimezone(UTC).date().isoformat()
    await insert_event(
        pool,
        ReviewEvent(
            id=str(
                uuid.uuid5(REQUEST_NAMESPACE, f"rejected:{stored['review_id']}:{actor.id}:{day}")
            ),
            review_id=stored["review_id"],
            type=EventType.SUBMISSION_REJECTED,
            at=stored["received_at"],
            actor_id=str(actor.id),
            data={
                "kind": stored["kind"],
                "subject": stored["subject"],
                "reason": refused.message,
                # A stakeholder's subject is its organisation's id; the notice names it.
                **({"organisation": actor.organisation} if actor.organisation else {}),
            },
        ),
    )


# ---- read -----------------------------------------------------------------------------------


async def listed(deps: Deps, actor: Actor, review_id: str) -> list[dict[str, Any]]:
    """The review's submissions: all of them for its secretariat, a submitter's own for it."""
    review = await visible(deps, actor, review_id)
    kind: str | None
    subject: str | None
    if runs_review(actor, review["region"]):
        kind, subject = None, None
    elif (own := own_subject(actor)) is not None:
        kind, subject = own
    else:
        raise forbidden(gettext("Only the secretariat and the submitters read submissions."))
    rows = await review_submissions(deps.pool, review["id"], kind=kind, subject=subject)
    return [
        {**dict(r), "id": str(r["id"]), "updated_at": r["updated_at"].isoformat()} for r in rows
    ]


async def sent(deps: Deps, actor: Actor, review_id: str) -> list[dict[str, Any]]:
    """What a submitter has sent to the review: its submissions, each with the list of its
    accepted versions (without their content)."""
    if own_subject(actor) is None:
        raise forbidden(gettext("Only focal points and stakeholders send submissions."))
    items = await listed(deps, actor, review_id)
    rows = await accepted_version_list(deps.pool, [uuid.UUID(item["id"]) for item in items])
    for item in items:
        item["versions"] = [_version(r) for r in rows if str(r["submission_id"]) == item["id"]]
    return items


async def _readable(deps: Deps, actor: Actor, submission_id: str) -> asyncpg.Record:
    """The submission, if it has an accepted version `actor` may read; the same refusal for
    one that does not exist (or an id that names nothing)."""
    nothing = not_found(
        gettext("There is no submission %(id)s you may read.") % {"id": repr(submission_id)}
    )
    found = await submission(deps.pool, named_id(submission_id, nothing))
    if found is None or found["latest_version"] == 0:
        raise nothing
    review = await visible_review(deps.pool, actor, found["review_id"])
    if review is None or not may_read_submission(
        actor, review["region"], found["kind"], found["subject"]
    ):
        raise nothing
    return found


async def submission_document(
    deps: Deps, actor: Actor, submission_id: str, version: str | None
) -> dict[str, Any]:
    """The submission at `version` (as the query gives it), or at its latest."""
    found = await _readable(deps, actor, submission_id)
    versions = await accepted_versions(deps.pool, found["id"])
    chosen = (
        versions[-1]
        if version is None
        else next((v for v in versions if str(v["version"]) == version), None)
    )
    if chosen is None:
        raise not_found(
            gettext("This submission has no version %(version)s.") % {"version": repr(version)}
        )
    return {
        "id": str(found["id"]),
        "review_id": found["review_id"],
        "kind": found["kind"],
        "subject": found["subject"],
        **_version(chosen),
        "submitted_by": str(chosen["submitted_by"]),
        "content": chosen["content"],
        "versions": [_version(v) for v in versions],
    }


def _version(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "version": row["version"],
        "schema_version": row["schema_version"],
        "late": row["late"],
        "received_at": row["received_at"].isoformat(),
    }
