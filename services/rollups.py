"""The roll-up of a cycle for the International Migration Review Forum: started and approved
by the admin, read by the admin while a draft and by anyone once a version is published."""

from __future__ import annotations

import json
from typing import Any, Protocol

import asyncpg

from db import rollups as rows
from db.pool import Connection
from domain.access import Actor
from domain.cycles import CYCLE_PATTERN, cycle_problem, imrf_year
from domain.reference import load_reference
from i18n import gettext
from reports.pdf import render_pdf_off_loop
from services import once
from services.once import Created
from services.refusals import conflict, forbidden, invalid, not_found

ROLLUPS_ADDRESS = "/v1/rollups"
# More cycles than the forum will ever see: a bound on the listing all the same.
LIST_LIMIT = 200

NEW_ROLLUP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["cycle", "title"],
    "properties": {
        "cycle": {"type": "string", "maxLength": 9, "examples": ["2020-2021"]},
        "title": {"type": "string", "minLength": 1, "maxLength": 300, "pattern": "\\S"},
    },
}
APPROVAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["version"],
    "properties": {
        "version": {
            "type": "integer",
            "minimum": 1,
            "maximum": 1_000_000,
            "description": "The version approved: the one awaiting approval.",
        }
    },
}
CYCLE_SCHEMA = {"type": "string", "pattern": CYCLE_PATTERN}


class RollupEngine(Protocol):
    """The roll-ups' workflows, as the use cases need them (implemented on Temporal)."""

    async def start(self, cycle: str, title: str, started_by: str) -> None:
        """Start the cycle's roll-up workflow unless it runs."""
        ...

    async def approve(self, cycle: str, actor_id: str, version: int, *, update_id: str) -> None:
        """Publish `version`, the one awaiting approval (Refused otherwise)."""
        ...


def _is_admin(actor: Actor | None) -> bool:
    """Whether `actor` (None: anyone, not signed in) reads drafts too."""
    return actor is not None and actor.role == "admin"


def require_admin(actor: Actor) -> None:
    """Refused (403) unless `actor` is an admin: roll-ups are the admin's to start and approve."""
    if not _is_admin(actor):
        raise forbidden(gettext("This needs one of the roles: %(roles)s.") % {"roles": "admin"})


async def start_rollup(
    pool: asyncpg.Pool, engine: RollupEngine, actor: Actor, body: dict[str, Any], key: str | None
) -> Created:
    """Start the roll-up of `body["cycle"]` (valid by NEW_ROLLUP_SCHEMA): its row and its
    workflow, in one transaction with the answer kept under the Idempotency-Key. A cycle has
    one roll-up: a second is refused."""
    require_admin(actor)
    cycle = body["cycle"]
    if (problem := cycle_problem(cycle)) is not None:
        raise invalid([("/cycle", gettext(problem))])

    async def create(conn: Connection) -> Created:
        if not await rows.insert_rollup(conn, cycle, body["title"], actor.id):
            raise conflict(gettext("The cycle %(cycle)s has a roll-up already.") % {"cycle": cycle})
        # In the transaction: a start that fails leaves no row. The workflow waits (retrying)
        # until the row is committed.
        await engine.start(cycle, body["title"], str(actor.id))
        return Created(201, await _document(conn, actor, cycle))

    request = once.fingerprint("POST", ROLLUPS_ADDRESS, body)
    return await once.created_once(pool, actor, key, request, create)


async def approve_rollup(
    pool: asyncpg.Pool,
    engine: RollupEngine,
    actor: Actor,
    cycle: str,
    body: dict[str, Any],
    key: str | None,
) -> dict[str, Any]:
    """Publish the version awaiting approval (`body["version"]`); the roll-up afterwards."""
    require_admin(actor)
    await _found(pool, cycle)
    update_id = f"{ROLLUPS_ADDRESS}/{cycle}/approve:{body['version']}"

    async def act() -> Created:
        await engine.approve(cycle, str(actor.id), body["version"], update_id=update_id)
        return Created(200, await _document(pool, actor, cycle))

    request = once.fingerprint("POST", f"{ROLLUPS_ADDRESS}/{cycle}/approve", body)
    return (await once.answered_once(pool, actor, key, request, act)).body


async def _found(pool: asyncpg.Pool | Connection, cycle: str) -> asyncpg.Record:
    found = await rows.rollup(pool, cycle) if cycle_problem(cycle) is None else None
    if found is None:
        raise _no_rollup(cycle)
    return found


def _no_rollup(cycle: str) -> Exception:
    return not_found(gettext("There is no roll-up of the cycle %(cycle)s.") % {"cycle": cycle})


def _status(versions: list[asyncpg.Record]) -> str:
    if not versions:
        return "compiling"
    return "published" if versions[-1]["status"] == "published" else "awaiting_approval"


def _regions(sources: list[dict[str, Any]]) -> dict[str, list[str]]:
    published = {s["region"] for s in sources}
    codes = [r.code for r in load_reference().regions]
    return {
        "published": [c for c in codes if c in published],
        "missing": [c for c in codes if c not in published],
    }


def _version(row: asyncpg.Record) -> dict[str, Any]:
    sources = row["sources"]
    return {
        "version": row["version"],
        "status": row["status"],
        "content_hash": row["content_hash"],
        "compiled_at": row["compiled_at"].isoformat(),
        "published_at": row["published_at"].isoformat() if row["published_at"] else None,
        "regional_reports": [
            {k: s[k] for k in ("region", "review_id", "report_version", "content_hash")}
            for s in sources
        ],
        "regions": _regions(sources),
    }


async def _document(
    conn: asyncpg.Pool | Connection, actor: Actor | None, cycle: str
) -> dict[str, Any]:
    """The roll-up as `actor` may see it: every version for the admin, else (anyone, `actor`
    None included) the public one, 404 when there is none."""
    found = await _found(conn, cycle)
    versions = await rows.versions(conn, cycle)
    if not _is_admin(actor):
        versions = [v for v in versions if v["status"] == "published"]
        if not versions:
            raise _no_rollup(cycle)  # a draft is answered as no roll-up at all
    published = next((v["version"] for v in versions if v["status"] == "published"), None)
    latest = versions[-1] if versions else None
    return {
        "id": cycle,
        "cycle": cycle,
        "imrf_year": imrf_year(cycle),
        "title": found["title"],
        "status": _status(versions),
        "version": latest["version"] if latest else None,
        "published_version": published,
        "regions": _regions(latest["sources"] if latest else []),
        "versions": [_version(v) for v in versions],
        "created_at": found["created_at"].isoformat(),
    }


async def rollup_document(pool: asyncpg.Pool, actor: Actor | None, cycle: str) -> dict[str, Any]:
    return await _document(pool, actor, cycle)


async def listed_rollups(pool: asyncpg.Pool, actor: Actor | None) -> list[dict[str, Any]]:
    """Every roll-up for the admin; the published ones for anyone else."""
    if _is_admin(actor):
        found = await rows.rollups(pool, LIST_LIMIT)
    else:
        found = await rows.published_rollups(pool, LIST_LIMIT)
    return [await _document(pool, actor, row["cycle"]) for row in found]


async def rollup_files(
    pool: asyncpg.Pool, actor: Actor | None, cycle: str, version: int | None
) -> asyncpg.Record:
    """A version's stored files: the admin reads any (by default the published one, else the
    latest), anyone else (`actor` None: not signed in) the published one only."""
    await _found(pool, cycle)
    files = await rows.version_files(pool, cycle, version, published_only=not _is_admin(actor))
    if files is None:
        raise not_found(gettext("There is no such version of the roll-up."))
    return files


async def rollup_pdf(pool: asyncpg.Pool, cycle: str, files: asyncpg.Record) -> bytes:
    """The version's PDF: the stored one, or (asked for in the moments between the version's
    commit and its printing) printed from its stored HTML now and kept."""
    if files["pdf"] is not None:
        pdf: bytes = files["pdf"]
        return pdf
    pdf = await render_pdf_off_loop(files["html"])
    await rows.keep_pdf(pool, cycle, files["version"], pdf)
    return pdf


def rollup_json(files: asyncpg.Record) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(files["json"])
    return loaded
