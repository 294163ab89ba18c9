"""Helpers for tests that create reviews and submit to them through the API.

The benchmarks use some of them too: where a database of its own is, and the bulk rows (many
thousands of accounts or accepted submissions) stored by COPY rather than through the API.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import asyncpg
from temporalio.testing import WorkflowEnvironment

from db.pool import Connection
from domain.timeline import suggested_timeline
from reports.compile import QUOTES_PER_OBJECTIVE
from tests import documents
from workflows.review import workflow_id

DAY = timedelta(days=1)
# Histories of earlier workflow versions, replayed by the replay tests.
HISTORIES = Path(__file__).parent / "histories"


def timeline(
    start: datetime | None = None, *, opens_in: timedelta = timedelta(days=1)
) -> dict[str, str]:
    """Deadlines in the future, spaced like a compressed ECE 2020 review."""
    start = start or datetime.now(UTC)
    opens = start + opens_in
    return {
        "call_opens_at": opens.isoformat(),
        "inputs_due_at": (opens + timedelta(days=40)).isoformat(),
        "consultation_due_at": (opens + timedelta(days=54)).isoformat(),
        "report_due_at": (opens + timedelta(days=80)).isoformat(),
    }


def review_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "region": "ECE",
        "title": "Regional review of the GCM in the UNECE region",
        "member_states": ["DEU", "FRA", "KAZ", "USA"],
        "timeline": timeline(),
    }
    body.update(overrides)
    body.setdefault("id", f"{body['region'].lower()}-test-{secrets.token_hex(4)}")
    return body


# The session's mail goes through one notification pipeline, so a test's message may wait behind
# the hundreds other tests have just caused: on a loaded machine that takes minutes, not seconds.
MAIL_DEADLINE_S = 180.0


def extension_halfway(timeline: dict[str, Any], country: str) -> dict[str, Any]:
    """A request extending `country`'s inputs deadline halfway to the consultation's end, for
    the review whose `timeline` (or `deadlines`) is given: past the consultation's opening."""
    inputs_due = datetime.fromisoformat(timeline["inputs_due_at"])
    consultation_due = datetime.fromisoformat(timeline["consultation_due_at"])
    return {
        "deadline": "inputs_due_at",
        "until": (inputs_due + (consultation_due - inputs_due) / 2).isoformat(),
        "reason": "Translation",
        "country": country,
    }


async def eventually(check: Callable[[], Awaitable[Any]], *, deadline_s: float = 20.0) -> Any:
    """Poll `check` until it returns a truthy value or the deadline passes."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    delay = 0.02
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > end:
            raise AssertionError(f"condition not met within {deadline_s}s; last result: {result!r}")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.5)


async def at_least(events: Any, count: int) -> list[dict[str, Any]] | None:
    found = await events
    return found if len(found) >= count else None


def ece_2020_timeline(start: datetime) -> dict[str, datetime]:
    """ECE 2020's deadlines, moved to start a week after `start`, with their spacing kept."""
    return asdict(suggested_timeline(start))


class Review:
    """One review driven through the API on the time-skipping server."""

    def __init__(
        self,
        api: Any,
        env: WorkflowEnvironment,
        pool: asyncpg.Pool,
        secretariat: Any,
        body: dict[str, Any],
    ) -> None:
        self.api, self.env, self.pool, self.secretariat = api, env, pool, secretariat
        self.id = body["id"]
        self.deadlines = {k: datetime.fromisoformat(v) for k, v in body["timeline"].items()}

    async def status(self) -> dict[str, Any]:
        response = await self.api.get(f"/v1/reviews/{self.id}", headers=self.secretariat.headers)
        return await response.json()

    async def wait_for_phase(self, phase: str) -> dict[str, Any]:
        async def reached() -> dict[str, Any] | None:
            status = await self.status()
            return status if status["phase"] == phase else None

        return await eventually(reached)

    async def skip_to(self, instant: datetime) -> None:
        """Let the server's clock run up to `instant`."""
        now = await self.env.get_current_time()
        if instant > now:
            await self.env.sleep(instant - now)

    async def events(self, event_type: str) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT data FROM review_events WHERE review_id = $1 AND type = $2 ORDER BY seq",
            self.id,
            event_type,
        )
        return [row["data"] for row in rows]

    async def submit(self, account: Any, content: dict[str, Any]) -> Any:
        kind = "national_report" if account.actor.role == "focal_point" else "stakeholder_input"
        return await self.api.post(
            f"/v1/reviews/{self.id}/submissions",
            json={"kind": kind, "content": content},
            headers=account.headers,
        )

    async def record_history(self, name: str) -> None:
        """With REVIEWFLOW_RECORD_HISTORIES=1, save this run's history for the replay tests."""
        if os.environ.get("REVIEWFLOW_RECORD_HISTORIES") != "1":
            return
        handle = self.env.client.get_workflow_handle(workflow_id(self.id))
        await handle.result()
        history = await handle.fetch_history()
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{name}.json").write_text(history.to_json())

    async def extend(self, **body: Any) -> Any:
        return await self.api.post(
            f"/v1/reviews/{self.id}/extensions", json=body, headers=self.secretariat.headers
        )

    async def extend_inputs(self, until: datetime, reason: str, **scope: Any) -> None:
        """The inputs deadline moved to `until` (for a `country=` only, if one is named)."""
        extended = await self.extend(
            deadline="inputs_due_at", until=until.isoformat(), reason=reason, **scope
        )
        assert extended.status == 200, await extended.text()


# ---- databases and bulk rows -----------------------------------------------------------------


def with_database(dsn: str, database: str) -> str:
    """`dsn` pointing at another database (works for host=/socket style URIs too)."""
    scheme, _, rest = dsn.partition("://")
    authority, _, path = rest.partition("/")
    _, question, query = path.partition("?")
    return f"{scheme}://{authority}/{database}{question}{query}"


class BulkStakeholder(NamedTuple):
    """A stakeholder account of ECE, of an organisation of its own, as `copy_stakeholders`
    stores it."""

    id: uuid.UUID
    name: str
    email: str | None
    organisation: str | None
    category: str | None
    token_hash: str


async def copy_stakeholders(pool: asyncpg.Pool, stakeholders: list[BulkStakeholder]) -> None:
    """The stakeholders and their organisations, in one COPY each."""
    organisation_ids = [uuid.uuid4() for _ in stakeholders]
    await pool.copy_records_to_table(
        "organisations",
        columns=["id", "name", "category", "regions"],
        records=[
            (o, s.organisation, s.category, ["ECE"])
            for o, s in zip(organisation_ids, stakeholders, strict=True)
        ],
    )
    await pool.copy_records_to_table(
        "actors",
        columns=[
            "id",
            "name",
            "email",
            "role",
            "regions",
            "organisation",
            "stakeholder_category",
            "organisation_id",
            "token_hash",
        ],
        records=[
            (
                s.id,
                s.name,
                s.email,
                "stakeholder",
                ["ECE"],
                s.organisation,
                s.category,
                o,
                s.token_hash,
            )
            for o, s in zip(organisation_ids, stakeholders, strict=True)
        ],
    )


def accepted_version(
    submission_id: uuid.UUID, content: dict[str, Any], submitted_by: Any
) -> tuple[Any, ...]:
    """A row of `copy_submissions`' versions: version 1 of the submission, accepted."""
    return (uuid.uuid4(), submission_id, 1, "accepted", json.dumps(content), "x", submitted_by)


async def copy_submissions(
    conn: Connection,
    organisations: list[tuple[Any, ...]],
    submissions: list[tuple[Any, ...]],
    versions: list[tuple[Any, ...]],
) -> None:
    """Organisations (id, name, category), submissions (id, review_id, kind, subject,
    latest_version) and their `accepted_version`s, by COPY."""
    await conn.copy_records_to_table(
        "organisations", columns=["id", "name", "category"], records=organisations
    )
    await conn.copy_records_to_table(
        "submissions",
        columns=["id", "review_id", "kind", "subject", "latest_version"],
        records=submissions,
    )
    # The versions' content is JSON text, cast to jsonb as it moves out of the staging table.
    async with conn.transaction():
        await conn.execute(
            """CREATE TEMP TABLE staged (request_id uuid, submission_id uuid, version int,
               status text, content text, fingerprint text, submitted_by uuid) ON COMMIT DROP"""
        )
        await conn.copy_records_to_table("staged", records=versions)
        await conn.execute(
            """INSERT INTO submission_versions
                   (request_id, submission_id, version, status, content, fingerprint, submitted_by)
               SELECT request_id, submission_id, version, status, content::jsonb, fingerprint,
                      submitted_by FROM staged"""
        )


# ---- what a review accepted, in its database and its report -------------------------------


@dataclass(frozen=True)
class Receipt:
    """A 201 answer to a submission."""

    id: str
    kind: str
    subject: str
    version: int
    late: bool
    submitter: str


def national(country: str, revision: int = 1) -> dict[str, Any]:
    content = documents.national_report(country)
    if revision > 1:
        content["next_steps"] = f"Revision {revision}: adopt a national GCM implementation plan."
    return {"kind": "national_report", "content": content}


def stakeholder_input(organisation: str, category: str, revision: int = 1) -> dict[str, Any]:
    content = documents.stakeholder_input(organisation, category)
    if revision > 1:
        content["input"] = f"Revision {revision}. " + content["input"]
    return {"kind": "stakeholder_input", "content": content}


def latest_receipts(receipts: list[Receipt]) -> dict[str, Receipt]:
    """The newest version each submission got a 201 for."""
    latest: dict[str, Receipt] = {}
    for receipt in receipts:
        if receipt.id not in latest or receipt.version > latest[receipt.id].version:
            latest[receipt.id] = receipt
    return latest


def objectives_of(report: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {o["number"]: o for cluster in report["clusters"] for o in cluster["objectives"]}


def assert_report_holds(report: dict[str, Any], receipts: list[Receipt]) -> None:
    """Every accepted submission is in the report once, at the latest version it got a 201
    for: the national reports' statuses per objective, the stakeholders' quotes (of
    QUOTES_PER_OBJECTIVE inputs at most) and the counts."""
    latest = latest_receipts(receipts)
    objectives = objectives_of(report)
    reports = [r for r in latest.values() if r.kind == "national_report"]
    inputs = [r for r in latest.values() if r.kind == "stakeholder_input"]
    assert report["overview"]["reports_received"] == len(reports), report["overview"]
    assert report["overview"]["late_reports"] == sum(r.late for r in reports), report["overview"]
    assert report["overview"]["stakeholder_inputs"] == len(inputs), report["overview"]
    for receipt in reports:
        source = {"country": receipt.subject, "submission_id": receipt.id}
        for number, objective in objectives.items():
            found = [s for s in objective["statuses"] if s.items() >= source.items()]
            assert [s["version"] for s in found] == [receipt.version], (number, receipt, found)
    # documents.stakeholder_input speaks to objectives 6, 7 and 15, and consents to publication.
    accepted = {(r.id, r.version) for r in inputs}
    for number in (6, 7, 15):
        views = objectives[number]["stakeholder_views"]
        assert views["count"] == len(inputs), (number, views)
        # Each once, at its latest version: a submission accepted twice would be quoted twice.
        quoted = Counter((q["submission_id"], q["version"]) for q in views["quotes"])
        assert set(quoted.values()) <= {1}, (number, views["quotes"])
        assert set(quoted) <= accepted, (number, views["quotes"])
        assert len(quoted) == min(len(inputs), QUOTES_PER_OBJECTIVE), (number, views["quotes"])


async def assert_accepted_in_database(
    db: asyncpg.Pool, review_id: str, receipts: list[Receipt]
) -> None:
    """What PostgreSQL holds as accepted is exactly what clients got a 201 for: nothing lost,
    nothing accepted twice, no version nobody was told about; one event per version."""
    rows = await db.fetch(
        """SELECT s.id, v.version FROM submission_versions v
           JOIN submissions s ON s.id = v.submission_id
           WHERE s.review_id = $1 AND v.status = 'accepted'""",
        review_id,
    )
    stored = Counter((str(r["id"]), r["version"]) for r in rows)
    told = {(r.id, r.version) for r in receipts}
    assert set(stored) == told, (sorted(stored), sorted(told))
    assert set(stored.values()) <= {1}, stored
    events = await db.fetch(
        """SELECT data ->> 'submission_id' AS id, (data ->> 'version')::int AS version
           FROM review_events WHERE review_id = $1 AND type = 'submission.accepted'""",
        review_id,
    )
    assert Counter((e["id"], e["version"]) for e in events) == Counter(told), events
