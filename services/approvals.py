"""The report's approval by several parties in turn: checking the approvers a review names,
who may decide on its report, and the chain as it stands for the current version."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg

from db import approvals as stored
from db.events import insert_event
from db.reports import latest_version
from db.reviews import visible_review
from domain.access import MAY_APPROVE, Actor, runs_review
from domain.approval import chain, chain_problems
from domain.events import EventType, ReviewEvent
from domain.review import Approver, Phase
from i18n import gettext
from services.engine import Deps
from services.refusals import Refused, forbidden, invalid, not_found

# The reviews listed on an approver's page at most.
MAX_AWAITING = 100


async def checked_approvers(
    pool: asyncpg.Pool, body: dict[str, Any], problems: list[tuple[str, str]]
) -> list[Approver] | None:
    """The approvers `body` names, in order (None when it names none); what is wrong with any
    is added to `problems`, by JSON Pointer: each must be an active account of the review's
    region, of the secretariat or an approver, named once."""
    named = body.get("approvers")
    if not named:
        return None
    approvers = [Approver(a["actor_id"], a["title"]) for a in named]
    problems.extend((pointer, gettext(message)) for pointer, message in chain_problems(approvers))
    accounts = {
        row["id"]: row
        for row in await stored.candidate_accounts(pool, [uuid.UUID(a.actor_id) for a in approvers])
    }
    for i, approver in enumerate(approvers):
        problem = _account_problem(accounts.get(uuid.UUID(approver.actor_id)), body["region"])
        if problem is not None:
            problems.append((f"/approvers/{i}/actor_id", problem))
    return approvers


def _account_problem(account: asyncpg.Record | None, region: str) -> str | None:
    if account is None:
        return gettext("is not an account")
    if not account["active"]:
        return gettext("is a deactivated account")
    if account["role"] not in MAY_APPROVE:
        return gettext("is not an account of the secretariat or an approver")
    if region not in account["regions"]:
        return gettext("is not an account of this review's region")
    return None


async def may_decide(pool: asyncpg.Pool, actor: Actor, review: asyncpg.Record) -> bool:
    """Whether `actor` takes part in deciding on the review's report: its secretariat, or an
    approver it names (whose turn, the review itself decides)."""
    return runs_review(actor, review["region"]) or await is_named_approver(
        pool, review["id"], actor
    )


def _no_such_review(review_id: str) -> Refused:
    return not_found(gettext("There is no review %(id)s you may see.") % {"id": repr(review_id)})


async def is_named_approver(pool: asyncpg.Pool, review_id: str, actor: Actor) -> bool:
    return await stored.is_approver(pool, review_id, actor.id)


async def decided_or_unseen(deps: Deps, actor: Actor, review_id: str) -> asyncpg.Record:
    """The review's row, if `actor` takes part in deciding on its report; for anyone else, the
    refusal of a review that does not exist."""
    row = await visible_review(deps.pool, actor, review_id)
    if row is None or not await may_decide(deps.pool, actor, row):
        raise _no_such_review(review_id)
    return row


async def decided_by(deps: Deps, actor: Actor, review_id: str) -> asyncpg.Record:
    """The review's row, if `actor` may decide on its report."""
    row = await visible_review(deps.pool, actor, review_id)
    if row is None:
        raise _no_such_review(review_id)
    if not await may_decide(deps.pool, actor, row):
        raise forbidden(gettext("Only the review's secretariat and its approvers decide."))
    return row


async def approval_chain(deps: Deps, actor: Actor, review_id: str) -> dict[str, Any]:
    """The approvers of the review's current report version, each with its status (approved,
    pending: its turn, waiting), when it decided and its note; for the review's secretariat
    and approvers only."""
    row = await decided_or_unseen(deps, actor, review_id)
    version = await latest_version(deps.pool, review_id)
    named = await stored.approvers_of(deps.pool, review_id)
    given = {
        r["actor_id"]: r for r in await stored.approvals_of_version(deps.pool, review_id, version)
    }
    steps = chain(
        [Approver(str(a["actor_id"]), a["title"]) for a in named],
        [str(actor_id) for actor_id in given],
        awaiting=Phase(row["phase"]) is Phase.APPROVAL,
    )
    return {
        "review_id": review_id,
        "version": version,
        "phase": row["phase"],
        "approvers": [
            _step_document(step, account, given.get(account["actor_id"]))
            for step, account in zip(steps, named, strict=True)
        ],
    }


def _step_document(
    step: Any, account: asyncpg.Record, decision: asyncpg.Record | None
) -> dict[str, Any]:
    return {
        "step": step.number,
        "actor_id": str(account["actor_id"]),
        "name": account["name"],
        "title": account["title"],
        "status": step.status.value,
        "decided_at": decision["at"].isoformat() if decision else None,
        "note": decision["note"] if decision else None,
    }


async def awaiting_me(deps: Deps, actor: Actor) -> list[asyncpg.Record]:
    """The reviews whose report awaits `actor`'s approval now."""
    return await stored.awaiting(deps.pool, actor.id, MAX_AWAITING)


async def change_approvers(
    deps: Deps, actor: Actor, row: asyncpg.Record, named: list[dict[str, str]], key: str | None
) -> None:
    """Name who approves the review's report from now on, in order (none: its secretariat,
    once), for the review's secretariat (`row`, checked by the caller). The workflow first: it
    refuses once the approval has begun, and then nothing changes; then the list and its
    event in one transaction (a retry finds the workflow's answer unchanged)."""
    problems: list[tuple[str, str]] = []
    body = {"approvers": named, "region": row["region"]}
    approvers = await checked_approvers(deps.pool, body, problems) or []
    if problems:
        raise invalid(problems)
    update_id = f"approvers:{row['id']}:{actor.id}:{key}" if key else str(uuid.uuid4())
    now_named = await deps.reviews.change_approvers(row["id"], approvers, update_id=update_id)
    async with deps.pool.acquire() as conn, conn.transaction():
        before = [
            Approver(str(a["actor_id"]), a["title"])
            for a in await stored.approvers_of(conn, row["id"])
        ]
        if before == now_named:
            return  # the same list again changes nothing
        await stored.replace_approvers(conn, row["id"], now_named)
        event = ReviewEvent(
            str(uuid.uuid5(uuid.NAMESPACE_URL, f"{row['id']}:{update_id}")),
            row["id"],
            EventType.REVIEW_APPROVERS_CHANGED,
            datetime.now(UTC),
            str(actor.id),
            {"approvers": [a.actor_id for a in now_named]},
        )
        await insert_event(conn, event)
