"""The reviews read model: what the API lists and shows, and who may see which review."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime
from typing import Any

import asyncpg

from db.pool import Connection, Executor
from domain.access import Actor
from domain.cycles import default_cycle
from domain.review import ReviewConfig, Timeline
from schemas import current_versions

_VISIBLE = """
    CASE $1::text
        WHEN 'admin' THEN true
        -- an observer reads published reviews only: of its regions, or of every region if
        -- made without; what is planned or under way is not public
        WHEN 'observer' THEN r.phase = 'published'
                             AND (cardinality($2::text[]) = 0 OR r.region = ANY($2::text[]))
        WHEN 'secretariat' THEN r.region = ANY($2::text[])
        -- a focal point acts for its country in the reviews of its own regions only
        WHEN 'focal_point' THEN $3::text = ANY(r.member_states) AND r.region = ANY($2::text[])
        -- a drafter works on the reviews whose team its focal point added it to
        WHEN 'drafter' THEN $3::text = ANY(r.member_states)
                            AND EXISTS (SELECT 1 FROM review_drafters d
                                        WHERE d.review_id = r.id AND d.drafter = $4)
        -- an approver sees the reviews that name it among their report's approvers
        WHEN 'approver' THEN EXISTS (SELECT 1 FROM review_approvers v
                                     WHERE v.review_id = r.id AND v.actor_id = $4)
        WHEN 'stakeholder' THEN EXISTS (SELECT 1 FROM review_consultees c
                                        WHERE c.review_id = r.id AND c.actor_id = $4)
                                -- a colleague a consultation task was handed to
                                OR EXISTS (SELECT 1 FROM tasks t
                                           WHERE t.review_id = r.id AND t.assignee = $4)
        ELSE false
    END
"""


# A review's row as a viewer reads it: the invited stakeholders only for those who run it
# (services.reviews shows anyone else no more than "invited"), so that reading a review with
# 10,000 invitees does not decode 10,000 ids for every page a participant opens.
_COLUMNS = """r.id, r.region, r.title, r.description, r.member_states, r.timeline, r.reminder_days,
          r.late_submissions, r.phase, r.deadlines, r.country_extensions, r.created_by,
          r.created_at, r.updated_at, r.consult_focal_points, r.escalation,
          r.reminders_optional, r.report_languages, r.schema_versions, r.cycle"""
_ROW = (
    _COLUMNS
    + """,
          CASE WHEN $1::text IN ('admin', 'secretariat') OR r.stakeholders IS NULL
               THEN r.stakeholders ELSE '{}' END AS stakeholders"""
)


def _viewer_args(actor: Actor) -> list[Any]:
    return [actor.role, list(actor.regions), actor.country, actor.id]


def timeline_json(timeline: Timeline) -> dict[str, str]:
    return {name: value.isoformat() for name, value in asdict(timeline).items()}


async def insert_review(
    conn: Connection,
    config: ReviewConfig,
    invited: list[uuid.UUID] | None,
    phase: str,
    *,
    reminders_optional: bool = False,
) -> bool:
    """Insert the review's row; False if its id is taken. `invited` None: open to the region.
    The review collects the document schemas' versions current now."""
    timeline = timeline_json(config.timeline)
    status = await conn.execute(
        """INSERT INTO reviews (id, region, title, member_states, timeline, reminder_days,
                                late_submissions, stakeholders, phase, deadlines, created_by,
                                consult_focal_points, escalation, reminders_optional,
                                schema_versions, cycle)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $5, $10, $11, $12, $13, $14, $15)
           ON CONFLICT (id) DO NOTHING""",
        config.review_id,
        config.region,
        config.title,
        config.member_states,
        timeline,
        config.reminder_days,
        config.late_submissions.value,
        invited,
        phase,
        uuid.UUID(config.created_by),
        config.consult_focal_points,
        asdict(config.escalation) if config.escalation else None,
        reminders_optional,
        current_versions(),
        default_cycle(config.timeline.call_opens_at),
    )
    return status.endswith(" 1")


async def cycle_of(conn: Executor, review_id: str) -> str:
    cycle: str = await conn.fetchval("SELECT cycle FROM reviews WHERE id = $1", review_id)
    return cycle


async def set_cycle(conn: Executor, review_id: str, cycle: str) -> None:
    """Put the review in `cycle` (one named when it was created, rather than its default)."""
    await conn.execute(
        "UPDATE reviews SET cycle = $2, updated_at = now() WHERE id = $1 AND cycle <> $2",
        review_id,
        cycle,
    )


async def review_exists(conn: Executor, review_id: str) -> bool:
    return await conn.fetchval("SELECT 1 FROM reviews WHERE id = $1", review_id) is not None


async def visible_review(
    conn: Executor, actor: Actor, review_id: str, *, invited: bool = True
) -> asyncpg.Record | None:
    """The review's row if `actor` may see it; without `invited`, without its `stakeholders`
    (a page that counts them in SQL need not read out 10,000 ids)."""
    return await conn.fetchrow(
        f"SELECT {_ROW if invited else _COLUMNS} FROM reviews r WHERE r.id = $5 AND {_VISIBLE}",
        *_viewer_args(actor),
        review_id,
    )


async def open_calls_awaiting(
    conn: Executor, actor: Actor, kind: str, subject: str, limit: int
) -> list[asyncpg.Record]:
    """The reviews `actor` may see whose call for inputs is open and that have no accepted
    submission of `kind` for `subject` yet, soonest due first: id, title and due_at (the
    actor's country's extension, if it has one)."""
    return await conn.fetch(
        f"""SELECT r.id, r.title, coalesce(r.country_extensions ->> $3,
                                            r.deadlines ->> 'inputs_due_at')::timestamptz AS due_at
            FROM reviews r
            WHERE {_VISIBLE} AND r.phase = 'call_for_inputs'
              AND NOT EXISTS (SELECT 1 FROM submissions s
                              WHERE s.review_id = r.id AND s.kind = $5 AND s.subject = $6
                                AND s.latest_version > 0)
            ORDER BY due_at, r.id LIMIT $7""",
        *_viewer_args(actor),
        kind,
        subject,
        limit,
    )


async def list_reviews(
    pool: asyncpg.Pool,
    actor: Actor,
    *,
    region: str | None,
    phase: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[asyncpg.Record]:
    return await pool.fetch(
        f"""SELECT {_ROW} FROM reviews r
            WHERE {_VISIBLE}
              AND ($5::text IS NULL OR r.region = $5)
              AND ($6::text IS NULL OR r.phase = $6)
              AND ($7::timestamptz IS NULL OR (r.created_at, r.id) > ($7, $8))
            ORDER BY r.created_at, r.id
            LIMIT $9""",
        *_viewer_args(actor),
        region,
        phase,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )


async def submission_progress(conn: Executor, review_id: str) -> list[asyncpg.Record]:
    """Each submission with an accepted version: its kind, subject and whether any version was late."""
    return await conn.fetch(
        """SELECT s.kind, s.subject,
                  EXISTS (SELECT 1 FROM submission_versions v
                          WHERE v.submission_id = s.id AND v.status = 'accepted' AND v.late) AS late
           FROM submissions s WHERE s.review_id = $1 AND s.latest_version > 0""",
        review_id,
    )


async def record_snapshot(
    conn: Connection,
    review_id: str,
    phase: str,
    deadlines: Timeline,
    country_extensions: dict[str, datetime],
) -> None:
    """Bring the row in step with the workflow: its phase, deadlines and extensions."""
    await conn.execute(
        "UPDATE reviews SET phase = $2, deadlines = $3, country_extensions = $4, updated_at = now()"
        " WHERE id = $1",
        review_id,
        phase,
        timeline_json(deadlines),
        {c: until.isoformat() for c, until in country_extensions.items()},
    )


async def review_row(conn: Executor, review_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM reviews WHERE id = $1", review_id)


async def phases(conn: Executor) -> list[asyncpg.Record]:
    """Every review's id and phase."""
    return await conn.fetch("SELECT id, phase FROM reviews")


async def secretariat(conn: Executor, review_id: str) -> list[uuid.UUID]:
    """The secretariat accounts of the review's region."""
    rows = await conn.fetch(
        """SELECT a.id FROM reviews r JOIN actors a
           ON a.role = 'secretariat' AND r.region = ANY (a.regions)
           WHERE r.id = $1 ORDER BY a.id""",
        review_id,
    )
    return [row["id"] for row in rows]


async def lock_invited(conn: Connection, review_id: str) -> list[uuid.UUID] | None:
    """The review's invited stakeholders (None: open to its region), its row locked for the
    caller's transaction, so two invitations at once add each stakeholder once."""
    row = await conn.fetchrow(
        "SELECT stakeholders FROM reviews WHERE id = $1 FOR UPDATE", review_id
    )
    assert row is not None  # the caller read the review
    return row["stakeholders"]


async def add_invited(conn: Connection, review_id: str, added: list[uuid.UUID]) -> None:
    await conn.execute(
        "UPDATE reviews SET stakeholders = stakeholders || $2::uuid[], updated_at = now()"
        " WHERE id = $1",
        review_id,
        added,
    )


async def describe(conn: Executor, review_id: str, changes: dict[str, str]) -> datetime | None:
    """Set the review's `title` and/or `description` (the keys of `changes`); when it changed,
    the instant it did."""
    return await conn.fetchval(
        """UPDATE reviews SET title = coalesce($2, title),
                              description = coalesce($3, description), updated_at = now()
           WHERE id = $1 AND (title, description)
                 IS DISTINCT FROM (coalesce($2, title), coalesce($3, description))
           RETURNING updated_at""",
        review_id,
        changes.get("title"),
        changes.get("description"),
    )


async def move_schema_versions(
    conn: Connection, review_id: str, phases: list[str], versions: dict[str, int]
) -> asyncpg.Record | None:
    """Set the schema versions the review collects while it is in one of `phases`: its
    versions before and after (the same when they were so already); None when it is in
    another phase. Run inside a transaction: the row stays locked until it ends."""
    return await conn.fetchrow(
        """WITH before AS (SELECT id, schema_versions FROM reviews
                           WHERE id = $1 AND phase = ANY($2::text[]) FOR UPDATE)
           UPDATE reviews r
           SET schema_versions = $3,
               updated_at = CASE WHEN before.schema_versions = $3::jsonb THEN r.updated_at
                                 ELSE now() END
           FROM before WHERE r.id = before.id
           RETURNING before.schema_versions AS before, r.schema_versions AS after""",
        review_id,
        phases,
        versions,
    )


async def set_report_languages(pool: asyncpg.Pool, review_id: str, languages: list[str]) -> bool:
    """Set the languages of the review's report, unless a version of it is compiled in others
    already (False then): the review's row is locked first, so a version being compiled is
    either stored before this reads (and seen) or compiled after in the new languages (see
    `db.reports.review_to_compile`)."""
    async with pool.acquire() as conn, conn.transaction():
        current = await conn.fetchval(
            "SELECT report_languages FROM reviews WHERE id = $1 FOR UPDATE", review_id
        )
        if current is None or list(current) == languages:
            return True
        if await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM reports WHERE review_id = $1)", review_id
        ):
            return False
        await conn.execute(
            "UPDATE reviews SET report_languages = $2, updated_at = now() WHERE id = $1",
            review_id,
            languages,
        )
        return True


async def newest_reviews(conn: Executor, actor: Actor, limit: int) -> list[asyncpg.Record]:
    """The reviews `actor` may see, newest first, each with its count of submissions sent."""
    return await conn.fetch(
        f"""SELECT {_ROW},
                   (SELECT count(*) FROM submissions s
                    WHERE s.review_id = r.id AND s.latest_version > 0) AS submissions
            FROM reviews r WHERE {_VISIBLE}
            ORDER BY r.created_at DESC, r.id DESC LIMIT $5""",
        *_viewer_args(actor),
        limit,
    )


async def replace_member_states(conn: Connection, review_id: str, members: list[str]) -> list[str]:
    """Set the review's member States to `members` (its workflow's list); those it had before."""
    before: list[str] = await conn.fetchval(
        "SELECT member_states FROM reviews WHERE id = $1 FOR UPDATE", review_id
    )
    await conn.execute(
        "UPDATE reviews SET member_states = $2, updated_at = now() WHERE id = $1",
        review_id,
        members,
    )
    return before
