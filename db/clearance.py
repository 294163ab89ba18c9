"""A national report's team and the history of its draft: drafters, the clearing officer, the
revisions of the draft and their clearance."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from db.actors import READ_COLUMNS
from db.pool import Executor
from domain.access import Actor

# A draft is named by its review, kind and subject ($1, $2, $3).
_DRAFT = "review_id = $1 AND kind = $2 AND subject = $3"
# What a listing of revisions shows (the content only when one is read).
_REVISION = """number, content_hash, saved_at, clearance_requested_at, cleared_at,
    (SELECT name FROM actors WHERE id = saved_by) AS saved_by_name, saved_by,
    (SELECT name FROM actors WHERE id = cleared_by) AS cleared_by_name, cleared_by"""


async def drafters(conn: Executor, review_id: str, country: str) -> list[Actor]:
    """The active drafters of `country`'s team for the review, by name."""
    rows = await conn.fetch(
        f"""SELECT {READ_COLUMNS} FROM actors
            WHERE disabled_at IS NULL
              AND id IN (SELECT drafter FROM review_drafters WHERE review_id = $1 AND country = $2)
            ORDER BY name, id""",
        review_id,
        country,
    )
    return [Actor.from_row(row) for row in rows]


async def drafter_by_email(conn: Executor, country: str, email: str) -> Actor | None:
    """An active drafter of `country` with the address `email` (any case): a colleague already
    drafting for another review."""
    row = await conn.fetchrow(
        f"""SELECT {READ_COLUMNS} FROM actors
            WHERE role = 'drafter' AND country = $1 AND lower(email) = lower($2)
              AND disabled_at IS NULL
            ORDER BY created_at LIMIT 1""",
        country,
        email,
    )
    return None if row is None else Actor.from_row(row)


async def add_to_team(
    conn: Executor, review_id: str, country: str, drafter: uuid.UUID, by: uuid.UUID
) -> None:
    await conn.execute(
        """INSERT INTO review_drafters (review_id, country, drafter, added_by)
           VALUES ($1, $2, $3, $4) ON CONFLICT (review_id, drafter) DO NOTHING""",
        review_id,
        country,
        drafter,
        by,
    )


async def remove_from_team(
    conn: Executor, review_id: str, country: str, drafter: uuid.UUID
) -> bool:
    """Take `drafter` off the country's team for the review; False if it was not on it. It
    stops being the clearing officer too."""
    status = await conn.execute(
        "DELETE FROM review_drafters WHERE review_id = $1 AND country = $2 AND drafter = $3",
        review_id,
        country,
        drafter,
    )
    await conn.execute(
        "DELETE FROM clearing_officers WHERE review_id = $1 AND country = $2 AND officer = $3",
        review_id,
        country,
        drafter,
    )
    return bool(status.endswith(" 1"))


async def active_actor(conn: Executor, actor_id: uuid.UUID) -> Actor | None:
    row = await conn.fetchrow(
        f"SELECT {READ_COLUMNS} FROM actors WHERE id = $1 AND disabled_at IS NULL", actor_id
    )
    return None if row is None else Actor.from_row(row)


async def officer(conn: Executor, review_id: str, country: str) -> uuid.UUID | None:
    """The named clearing officer, while its account is active."""
    found: uuid.UUID | None = await conn.fetchval(
        """SELECT o.officer FROM clearing_officers o JOIN actors a ON a.id = o.officer
           WHERE o.review_id = $1 AND o.country = $2 AND a.disabled_at IS NULL""",
        review_id,
        country,
    )
    return found


async def name_officer(
    conn: Executor, review_id: str, country: str, officer_id: uuid.UUID | None, by: uuid.UUID
) -> None:
    """Name `officer_id` the clearing officer (None: name none)."""
    if officer_id is None:
        await conn.execute(
            "DELETE FROM clearing_officers WHERE review_id = $1 AND country = $2",
            review_id,
            country,
        )
        return
    await conn.execute(
        """INSERT INTO clearing_officers (review_id, country, officer, named_by)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (review_id, country) DO UPDATE
               SET officer = EXCLUDED.officer, named_by = EXCLUDED.named_by, named_at = now()""",
        review_id,
        country,
        officer_id,
        by,
    )


async def keep_revision(
    conn: Executor,
    draft: tuple[str, str, str],
    content: dict[str, Any],
    content_hash: str,
    saved_by: uuid.UUID,
) -> None:
    """Keep `content` as the draft's next revision, unless it is the latest one already (a
    save that changed nothing keeps the clearance it had). Run in the transaction that saved
    the draft, whose row lock orders concurrent saves."""
    await conn.execute(
        f"""INSERT INTO draft_revisions (review_id, kind, subject, number, content, content_hash,
                                         saved_by)
            SELECT $1, $2, $3, coalesce(max(number), 0) + 1, $4, $5, $6
            FROM draft_revisions WHERE {_DRAFT}
            HAVING coalesce((SELECT content_hash FROM draft_revisions WHERE {_DRAFT}
                             ORDER BY number DESC LIMIT 1), '') <> $5""",
        *draft,
        content,
        content_hash,
        saved_by,
    )


async def latest(conn: Executor, draft: tuple[str, str, str]) -> asyncpg.Record | None:
    """The latest revision (without its content), whether an earlier one was cleared, and
    whether its content is the version sent last."""
    return await conn.fetchrow(
        f"""SELECT {_REVISION},
                   EXISTS (SELECT 1 FROM draft_revisions e WHERE e.review_id = $1 AND e.kind = $2
                             AND e.subject = $3 AND e.number < r.number
                             AND e.cleared_at IS NOT NULL) AS earlier_cleared,
                   EXISTS (SELECT 1 FROM submissions s JOIN submission_versions v
                             ON v.submission_id = s.id AND v.version = s.latest_version
                           WHERE s.review_id = $1 AND s.kind = $2 AND s.subject = $3
                             AND v.content = r.content) AS sent
            FROM draft_revisions r WHERE {_DRAFT} ORDER BY number DESC LIMIT 1""",
        *draft,
    )


async def revisions(conn: Executor, draft: tuple[str, str, str]) -> list[asyncpg.Record]:
    """Every revision of the draft, the latest first, without their content."""
    return await conn.fetch(
        f"SELECT {_REVISION} FROM draft_revisions WHERE {_DRAFT} ORDER BY number DESC", *draft
    )


async def revision(
    conn: Executor, draft: tuple[str, str, str], number: int
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_REVISION}, content FROM draft_revisions WHERE {_DRAFT} AND number = $4",
        *draft,
        number,
    )


async def mark(
    conn: Executor, draft: tuple[str, str, str], number: int, what: str, by: uuid.UUID
) -> bool:
    """Record that revision `number` was sent for clearance (`what` "requested") or cleared
    ("cleared") by `by`, unless it was already; whether this call recorded it."""
    column = {"requested": "clearance_requested", "cleared": "cleared"}[what]
    status = await conn.execute(
        f"""UPDATE draft_revisions SET {column}_by = $5, {column}_at = now()
            WHERE {_DRAFT} AND number = $4 AND {column}_at IS NULL""",
        *draft,
        number,
        by,
    )
    return bool(status.endswith(" 1"))
