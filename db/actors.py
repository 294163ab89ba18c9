"""Actors (accounts) and their bearer tokens, which are stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import asyncpg

from db.pool import Executor
from db.tasks import holds_task
from domain.access import Actor
from domain.reference import load_reference

TOKEN_PREFIX = "rf_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a fast unsalted hash is enough: nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


_COLUMNS = (
    "id, name, email, role, regions, country, organisation, stakeholder_category, organisation_id"
)
_READ = f"{_COLUMNS}, language, notifications, time_zone"
# What `Actor.from_row` reads, for the queries elsewhere in db/ that answer with an account.
READ_COLUMNS = _READ


async def actor_by_token(pool: asyncpg.Pool, token: str) -> Actor | None:
    """The active account holding `token`; a deactivated account signs in no more."""
    row = await pool.fetchrow(
        f"SELECT {_READ} FROM actors WHERE token_hash = $1 AND disabled_at IS NULL",
        hash_token(token),
    )
    return Actor.from_row(row) if row else None


async def active_actors_by_email(conn: Executor, email: str) -> list[Actor]:
    """The active accounts with the address `email`, whatever its case (several people may
    share one address, such as a ministry's)."""
    rows = await conn.fetch(
        f"SELECT {_READ} FROM actors"
        " WHERE lower(email) = lower($1) AND disabled_at IS NULL ORDER BY created_at",
        email,
    )
    return [Actor.from_row(row) for row in rows]


def default_regions(country: str) -> tuple[str, ...]:
    """The regions a focal point of `country` acts in when none are named: those whose regional
    membership lists it (both, for a State in two commissions), else every region listing it."""
    reference = load_reference()
    regional = tuple(r.code for r in reference.regions if country in r.default_scope)
    return regional or tuple(r.code for r in reference.regions if country in r.iso3_codes)


async def insert_organisation(
    conn: Executor,
    organisation_id: uuid.UUID,
    actor: Actor,
    created_by: uuid.UUID | None,
) -> None:
    """A new organisation named as `actor` names it, in `actor`'s regions."""
    await conn.execute(
        """INSERT INTO organisations (id, name, category, regions, created_by)
           VALUES ($1, $2, $3, $4, $5)""",
        organisation_id,
        actor.organisation,
        actor.stakeholder_category,
        list(actor.regions),
        created_by,
    )


async def _organisation_by_key(
    conn: Executor, actor: Actor, created_by: uuid.UUID | None
) -> uuid.UUID:
    """The organisation of a stakeholder stored without one: the one its colleagues made by the
    same creator for the same name, category, country and regions have (the key the existing
    accounts were grouped by when organisations became entities), or a new one."""
    found: uuid.UUID | None = await conn.fetchval(
        """SELECT organisation_id FROM actors
           WHERE role = 'stakeholder' AND organisation = $1 AND stakeholder_category = $2
             AND country IS NOT DISTINCT FROM $3 AND regions = $4
             AND created_by IS NOT DISTINCT FROM $5
           ORDER BY created_at LIMIT 1""",
        actor.organisation,
        actor.stakeholder_category,
        actor.country,
        list(actor.regions),
        created_by,
    )
    if found is None:
        found = uuid.uuid4()
        await insert_organisation(conn, found, actor, created_by)
    return found


async def insert_actor(
    conn: Executor, actor: Actor, token: str, created_by: uuid.UUID | None
) -> Actor:
    """Store the account and return it as stored: a focal point named without regions gets
    `default_regions`, a stakeholder without an organisation id gets one."""
    if actor.role == "focal_point" and not actor.regions and actor.country:
        actor = replace(actor, regions=default_regions(actor.country))
    if actor.role == "stakeholder" and actor.organisation_id is None:
        actor = replace(actor, organisation_id=await _organisation_by_key(conn, actor, created_by))
    await conn.execute(
        f"INSERT INTO actors ({_COLUMNS}, token_hash, created_by, language)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        actor.id,
        actor.name,
        actor.email,
        actor.role,
        list(actor.regions),
        actor.country,
        actor.organisation,
        actor.stakeholder_category,
        actor.organisation_id,
        hash_token(token),
        created_by,
        actor.language,
    )
    return actor


# Another active account acting for the same party as the actor: of its organisation (a
# stakeholder), or of its country in the review's region (a focal point). $1 the actor's id,
# $2 its role, $3 its organisation's id, $4 its country, $5 the review's region.
_COLLEAGUE = """id <> $1 AND role = $2 AND disabled_at IS NULL
    AND CASE role WHEN 'stakeholder' THEN organisation_id = $3
                  WHEN 'focal_point' THEN country = $4 AND $5 = ANY (regions)
                  ELSE false END"""


def _colleague_args(actor: Actor, region: str) -> list[Any]:
    return [actor.id, actor.role, actor.organisation_id, actor.country, region]


async def colleague_of(
    conn: Executor, actor: Actor, region: str, colleague_id: uuid.UUID
) -> Actor | None:
    """Another active account acting for the same party as `actor` in a review of `region`;
    None for anyone else."""
    row = await conn.fetchrow(
        f"SELECT {_READ} FROM actors WHERE id = $6 AND {_COLLEAGUE}",
        *_colleague_args(actor, region),
        colleague_id,
    )
    return Actor.from_row(row) if row else None


async def free_colleagues(
    conn: Executor, actor: Actor, region: str, review_id: str, limit: int
) -> list[Actor]:
    """The colleagues of `actor` (as `colleague_of`) in a review of `region` who hold no task
    of the review `review_id`, by name."""
    rows = await conn.fetch(
        f"""SELECT {_READ} FROM actors a WHERE {_COLLEAGUE}
              AND NOT {holds_task("$6", "a.id")}
            ORDER BY name, id LIMIT $7""",
        *_colleague_args(actor, region),
        review_id,
        limit,
    )
    return [Actor.from_row(row) for row in rows]


async def joinable_organisation(
    conn: Executor, organisation_id: uuid.UUID, creator: Actor
) -> asyncpg.Record | None:
    """The organisation, if `creator` may add accounts to it: an admin any, a secretariat one
    whose regions are all its own."""
    return await conn.fetchrow(
        """SELECT id, name, category, regions FROM organisations
           WHERE id = $1 AND ($2 = 'admin' OR ($2 = 'secretariat' AND regions <@ $3::text[]))""",
        organisation_id,
        creator.role,
        list(creator.regions),
    )


async def record_account_event(
    conn: Executor,
    account_id: uuid.UUID,
    event_type: str,
    by: uuid.UUID | None,
    **data: Any,
) -> None:
    """Audit an operation on an account or its token: what, to whom, by whom (None: the operator
    at the command line), when. Never a token or its hash."""
    await conn.execute(
        "INSERT INTO account_events (account_id, type, actor_id, data) VALUES ($1, $2, $3, $4)",
        account_id,
        event_type,
        by,
        data,
    )


async def replace_token(conn: Executor, actor_id: uuid.UUID, token: str) -> bool:
    """Make `token` the actor's only valid token; False if there is no such actor."""
    status = await conn.execute(
        "UPDATE actors SET token_hash = $2 WHERE id = $1", actor_id, hash_token(token)
    )
    return status.endswith(" 1")


async def deactivate(conn: Executor, actor_id: uuid.UUID) -> bool:
    """Deactivate the account, its token replaced by one nobody knows; False if it was already."""
    status = await conn.execute(
        "UPDATE actors SET disabled_at = now(), token_hash = $2"
        " WHERE id = $1 AND disabled_at IS NULL",
        actor_id,
        hash_token(new_token()),
    )
    return status.endswith(" 1")


async def created_by(conn: Executor, actor_id: uuid.UUID) -> uuid.UUID | None:
    found: uuid.UUID | None = await conn.fetchval(
        "SELECT created_by FROM actors WHERE id = $1", actor_id
    )
    return found


async def update_preferences(pool: Executor, actor_id: uuid.UUID, changes: dict[str, str]) -> Actor:
    row = await pool.fetchrow(
        f"""UPDATE actors SET language = coalesce($2, language),
                              notifications = coalesce($3, notifications),
                              time_zone = coalesce($4, time_zone)
            WHERE id = $1 RETURNING {_READ}""",
        actor_id,
        changes.get("language"),
        changes.get("notifications"),
        changes.get("time_zone"),
    )
    assert row is not None  # the actor is the one making the request
    return Actor.from_row(row)


async def ensure_admin(pool: asyncpg.Pool, configured_token: str | None) -> str | None:
    """Create the first admin if there is none. Return a token to print, or None.

    With `REVIEWFLOW_ADMIN_TOKEN` set, that token is the admin's and is never printed;
    otherwise a new one is generated and returned so it can be shown once.
    """
    async with pool.acquire() as conn, conn.transaction():
        # Serialise concurrent starts (API and worker processes) so only one admin is made.
        await conn.execute("LOCK TABLE actors IN SHARE ROW EXCLUSIVE MODE")
        if await conn.fetchval("SELECT 1 FROM actors WHERE role = 'admin' LIMIT 1"):
            return None
        token = configured_token or new_token()
        admin = Actor(id=uuid.uuid4(), name="Administrator", role="admin")
        await insert_actor(conn, admin, token, created_by=None)
        await record_account_event(conn, admin.id, "account.created", None)
    return None if configured_token else token


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None else None


def _exported(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as JSON takes it: ids and instants as text, everything else as stored."""
    return {
        name: str(value)
        if isinstance(value, uuid.UUID)
        else value.isoformat()
        if isinstance(value, datetime)
        else value
        for name, value in row.items()
    }


async def personal_data(conn: Executor, actor_id: uuid.UUID) -> dict[str, Any]:
    """Everything stored about the account that is the person's own: the account, what it
    submitted (every version, refused ones too), the tasks it was given or answered, its
    webhooks (without their secrets) and the audit trail of the account."""
    account = await conn.fetchrow(
        f"SELECT {_READ}, created_at, disabled_at FROM actors WHERE id = $1", actor_id
    )
    assert account is not None  # the person asking is signed in
    versions = await conn.fetch(
        """SELECT s.id AS submission_id, s.review_id, s.kind, s.subject, v.request_id, v.status,
                  v.version, v.late, v.received_at, v.decided_at, v.content, v.rejection
           FROM submission_versions v JOIN submissions s ON s.id = v.submission_id
           WHERE v.submitted_by = $1 ORDER BY v.received_at, v.request_id""",
        actor_id,
    )
    tasks = await conn.fetch(
        """SELECT id, review_id, kind, invitee, assignee, status, response, completed_at,
                  delegations, created_at
           FROM tasks WHERE $1 IN (invitee, assignee, completed_by) ORDER BY created_at, id""",
        actor_id,
    )
    hooks = await conn.fetch(
        """SELECT id, url, events, review_id, regions, created_at, deleted_at FROM webhooks
           WHERE owner = $1 ORDER BY created_at, id""",
        actor_id,
    )
    events = await conn.fetch(
        "SELECT type, actor_id, at, data FROM account_events WHERE account_id = $1 ORDER BY seq",
        actor_id,
    )
    return {
        "account": {
            **Actor.from_row(account).as_json(),
            "created_at": _iso(account["created_at"]),
            "disabled_at": _iso(account["disabled_at"]),
        },
        "submissions": [_exported(v) for v in versions],
        "tasks": [_exported(t) for t in tasks],
        "webhooks": [_exported(h) for h in hooks],
        "account_events": [
            {
                "type": e["type"],
                "by": str(e["actor_id"]) if e["actor_id"] else None,
                "at": _iso(e["at"]),
                "data": e["data"],
            }
            for e in events
        ],
    }


def pseudonym(actor_id: uuid.UUID) -> str:
    """What an erased person is called from then on: nothing of theirs, only their account id."""
    return f"Erased account {str(actor_id)[:8]}"


def _json_text(value: str) -> str:
    """`value` as PostgreSQL writes it in jsonb text: a JSON string, non-ASCII kept."""
    return json.dumps(value, ensure_ascii=False)


# In the person's rows, a JSON string value equal to their name or email (quotes included, so
# never part of a longer text) is rewritten; the rows, their keys and all else stay as they were.
# $1/$2: name and its replacement; $3/$4: email (or '' when none: nothing replaced) and its.
_REWRITE = "replace(replace({column}::text, $1, $2), $3, $4)::jsonb"


async def erase(conn: Executor, actor_id: uuid.UUID) -> bool:
    """Pseudonymise the person wherever the account's name or email is stored: the account
    (deactivated), the events about it, the deliveries addressed to it, the contact in what it
    submitted, and the stored answers to the request that created it. False if no such account.
    Organisations are not people: an organisation's name stays."""
    found = await conn.fetchrow("SELECT name, email FROM actors WHERE id = $1 FOR UPDATE", actor_id)
    if found is None:
        return False
    alias = pseudonym(actor_id)
    address = f"erased-{str(actor_id)[:8]}@invalid"
    rewrite = (
        _json_text(found["name"]),
        _json_text(alias),
        _json_text(found["email"]) if found["email"] else "",
        _json_text(address),
    )
    await conn.execute(
        """UPDATE actors SET name = $2, email = NULL, token_hash = $3,
                             disabled_at = coalesce(disabled_at, now())
           WHERE id = $1""",
        actor_id,
        alias,
        hash_token(new_token()),
    )
    for table, column, about in (
        ("review_events", "data", "actor_id = $5::uuid OR strpos(data::text, $5::uuid::text) > 0"),
        ("submission_versions", "content", "submitted_by = $5::uuid"),
        ("idempotent_requests", "response", "response ->> 'id' = $5::uuid::text"),
    ):
        await conn.execute(
            f"UPDATE {table} SET {column} = {_REWRITE.format(column=column)} WHERE {about}",
            *rewrite,
            actor_id,
        )
    await conn.execute(
        "UPDATE deliveries SET address = $2 WHERE channel = 'email' AND recipient = $1",
        actor_id,
        address,
    )
    return True


async def active_stakeholders(conn: Executor, ids: list[uuid.UUID], region: str) -> list[uuid.UUID]:
    """Those of `ids` that are active stakeholder accounts of `region`."""
    rows = await conn.fetch(
        """SELECT id FROM actors WHERE role = 'stakeholder' AND id = ANY($1::uuid[])
             AND $2 = ANY (regions) AND disabled_at IS NULL""",
        ids,
        region,
    )
    return [row["id"] for row in rows]


# The lists a review's secretariat reads and picks stakeholders from: by organisation, then name
# (the index actors_stakeholders_by_organisation), a page at a time from after the account `$n`.
_STAKEHOLDER = "a.id, a.name, a.organisation, a.stakeholder_category"
_BY_ORGANISATION = "ORDER BY a.organisation, a.name, a.id"


def _after_stakeholder(n: int) -> str:
    """After the stakeholder account `$n` in that order (from the start when `$n` is null); an
    id that is no stakeholder's ends the list, so it tells nothing about other accounts."""
    return f"""(${n}::uuid IS NULL OR (a.organisation, a.name, a.id) >
        (SELECT organisation, name, id FROM actors WHERE id = ${n} AND role = 'stakeholder'))"""


def _contains_pattern(text: str) -> str:
    """An ILIKE pattern for the values holding `text`, its wildcards taken as written."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def uninvited_stakeholders(
    conn: Executor,
    review_id: str,
    region: str,
    query: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[asyncpg.Record]:
    """The active stakeholder accounts of `region` the review `review_id` has not invited, whose
    organisation or name holds `query` (in any case)."""
    return await conn.fetch(
        f"""WITH invited AS (SELECT unnest(stakeholders) AS id FROM reviews WHERE id = $1)
            SELECT {_STAKEHOLDER} FROM actors a
            WHERE a.role = 'stakeholder' AND a.disabled_at IS NULL AND $2 = ANY (a.regions)
              AND NOT EXISTS (SELECT 1 FROM invited i WHERE i.id = a.id)
              AND ($3::text IS NULL OR a.organisation ILIKE $3 OR a.name ILIKE $3)
              AND {_after_stakeholder(4)}
            {_BY_ORGANISATION} LIMIT $5""",
        review_id,
        region,
        None if query is None else _contains_pattern(query),
        after,
        limit,
    )


async def invited_stakeholders(
    conn: Executor, review_id: str, after: uuid.UUID | None, limit: int
) -> list[asyncpg.Record]:
    """The stakeholder accounts the review `review_id` invited."""
    return await conn.fetch(
        f"""SELECT {_STAKEHOLDER} FROM actors a
            WHERE a.id IN (SELECT unnest(stakeholders) FROM reviews WHERE id = $1)
              AND {_after_stakeholder(2)}
            {_BY_ORGANISATION} LIMIT $3""",
        review_id,
        after,
        limit,
    )


async def region_stakeholders(conn: Executor, region: str, limit: int) -> list[asyncpg.Record]:
    """The active stakeholder accounts of `region`, by organisation then name."""
    return await conn.fetch(
        f"""SELECT {_STAKEHOLDER}, a.email FROM actors a
            WHERE a.role = 'stakeholder' AND a.disabled_at IS NULL AND $1 = ANY (a.regions)
            {_BY_ORGANISATION} LIMIT $2""",
        region,
        limit,
    )


async def stakeholders_by_email(
    conn: Executor, region: str, emails: list[str]
) -> list[asyncpg.Record]:
    """The active stakeholder accounts of `region` with one of the addresses `emails`, in any
    case: each one's id and address (lower case)."""
    return await conn.fetch(
        """SELECT id, lower(email) AS email FROM actors
           WHERE role = 'stakeholder' AND disabled_at IS NULL AND $1 = ANY (regions)
             AND lower(email) = ANY (SELECT lower(e) FROM unnest($2::text[]) AS e)""",
        region,
        emails,
    )
