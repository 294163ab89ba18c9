"""The approvers a review names for its report, in order, and the approvals each version got
(read from the review's audit trail, which the workflow writes)."""

from __future__ import annotations

import uuid

import asyncpg

from db.pool import Executor
from domain.review import Approver


async def replace_approvers(conn: Executor, review_id: str, approvers: list[Approver]) -> None:
    """Name `approvers`, in order, as the review's (replacing any named before)."""
    await conn.execute("DELETE FROM review_approvers WHERE review_id = $1", review_id)
    await conn.executemany(
        """INSERT INTO review_approvers (review_id, position, actor_id, title)
           VALUES ($1, $2, $3, $4)""",
        [
            (review_id, position, uuid.UUID(a.actor_id), a.title)
            for position, a in enumerate(approvers, start=1)
        ],
    )


async def approvers_of(conn: Executor, review_id: str) -> list[asyncpg.Record]:
    """The review's approvers in order: actor_id, name, title, language."""
    return await conn.fetch(
        """SELECT v.actor_id, a.name, v.title, a.language
           FROM review_approvers v JOIN actors a ON a.id = v.actor_id
           WHERE v.review_id = $1 ORDER BY v.position""",
        review_id,
    )


async def is_approver(conn: Executor, review_id: str, actor_id: uuid.UUID) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM review_approvers WHERE review_id = $1 AND actor_id = $2)",
            review_id,
            actor_id,
        )
    )


async def approvals_of_version(
    conn: Executor, review_id: str, version: int
) -> list[asyncpg.Record]:
    """The approvals given to `version` of the review's report: actor_id, at, note."""
    return await conn.fetch(
        """SELECT actor_id, at, data ->> 'note' AS note FROM review_events
           WHERE review_id = $1 AND type = 'report.approval_given'
             AND (data ->> 'version')::int = $2
           ORDER BY seq""",
        review_id,
        version,
    )


async def candidate_accounts(conn: Executor, ids: list[uuid.UUID]) -> list[asyncpg.Record]:
    """The accounts among `ids`: id, role, regions, and whether active."""
    return await conn.fetch(
        """SELECT id, role, regions, disabled_at IS NULL AS active
           FROM actors WHERE id = ANY($1::uuid[])""",
        ids,
    )


async def awaiting(conn: Executor, actor_id: uuid.UUID, limit: int) -> list[asyncpg.Record]:
    """The reviews in approval whose report awaits `actor_id`'s approval now (id, title,
    report_due_at, version): the latest `report.approval_pending` of each names it and no
    decision came after."""
    return await conn.fetch(
        """SELECT r.id, r.title, (r.deadlines ->> 'report_due_at')::timestamptz AS due_at,
                  (e.data ->> 'version')::int AS version
           FROM reviews r
           JOIN LATERAL (SELECT data FROM review_events
                         WHERE review_id = r.id AND type IN ('report.approval_pending',
                               'report.approval_given', 'report.changes_requested')
                         ORDER BY seq DESC LIMIT 1) e ON true
           WHERE r.phase = 'approval'
             AND r.id IN (SELECT review_id FROM review_approvers WHERE actor_id = $1)
             AND e.data ->> 'approver' = $1::text
           ORDER BY due_at, r.id LIMIT $2""",
        actor_id,
        limit,
    )


async def region_candidates(
    conn: Executor, region: str, roles: list[str], limit: int
) -> list[asyncpg.Record]:
    """The active accounts of `region` with one of `roles`, those a review of it may name as
    approvers: id, name, role, by name."""
    return await conn.fetch(
        """SELECT id, name, role FROM actors
           WHERE role = ANY ($2::text[]) AND disabled_at IS NULL AND $1 = ANY (regions)
           ORDER BY name, id LIMIT $3""",
        region,
        roles,
        limit,
    )
