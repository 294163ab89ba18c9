"""The roll-up of a cycle for the International Migration Review Forum: review cycles, the
document over published regional reports, and the workflow that waits on their publication."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.cycles import cycle_problem, default_cycle, imrf_year
from reports.rollup import (
    compile_rollup,
    latest_per_region,
    quotes_of,
    render_rollup_html,
    render_rollup_markdown,
)
from tests.reviews import HISTORIES, eventually
from tests.rollups import free_cycle, published_regional_review
from workflows import activity_stubs as stubs
from workflows.models import (
    CompileRollup,
    PublishRollup,
    RegionalPublication,
    ReportVersion,
    RollupApproval,
    RollupInput,
)
from workflows.rollup import RollupWorkflow, rollup_workflow_id

SUBMISSION = "11111111-1111-4111-8111-111111111111"


def test_a_cycle_is_the_four_year_round_of_the_call_s_opening() -> None:
    assert default_cycle(datetime(2020, 6, 1, tzinfo=UTC)) == "2020-2021"
    assert default_cycle(datetime(2021, 12, 31, tzinfo=UTC)) == "2020-2021"
    assert default_cycle(datetime(2024, 1, 1, tzinfo=UTC)) == "2024-2025"
    assert default_cycle(datetime(2027, 5, 1, tzinfo=UTC)) == "2024-2025"
    assert imrf_year("2020-2021") == 2022 and imrf_year("2024-2025") == 2026
    assert cycle_problem("2024-2025") is None
    for wrong in ("2021-2022", "2020-2022", "2020", "20x0-2021", "2016-2017", "9996-9997"):
        assert cycle_problem(wrong) is not None, wrong


def regional(region: str, review_id: str, states: list[str], text: str) -> dict[str, Any]:
    """A published regional report as reports/compile.py writes it, reduced to what the
    roll-up reads: its States' statuses and quotes on objective 6 (cluster 1)."""
    quoted = {"country": states[0], "submission_id": SUBMISSION, "version": 2}
    objectives = [
        {
            "number": n,
            "statuses": [{"status": "in_progress", **quoted}] if n == 6 else [],
            "unpublished_reports": 1 if n == 6 else 0,
            "challenges": [{"text": text, **quoted}] if n == 6 else [],
            "good_practices": [{"text": f"Practice of {region}", **quoted}] if n == 6 else [],
        }
        for n in range(1, 24)
    ]
    return {
        "review": {"id": review_id, "title": f"Review of {region}", "region": region},
        "version": 3,
        "content_hash": f"{region.lower():0<64}"[:64],
        "overview": {"member_states": len(states), "reports_received": 2},
        "clusters": [{"number": 1, "objectives": objectives}],
        "addressed": {
            "clusters": [
                {"number": c, "national_reports": 2 if c == 1 else 0} for c in (1, 2, 3, 4)
            ]
        },
    }


THREE = [
    regional("ESCAP", "escap-2020", ["IND", "AUS", "JPN"], "Costs <b>& delays</b>"),
    regional("ECE", "ece-2020", ["DEU", "FRA"], "Recruitment fees"),
    regional("ECLAC", "eclac-2021", ["MEX", "ARG", "CHL", "BRA"], "Informal work"),
]


def test_the_document_over_three_published_and_two_missing_regions() -> None:
    rollup = compile_rollup("2020-2021", "Global synthesis", 1, THREE)
    assert rollup["imrf_year"] == 2022
    assert rollup["missing"] == ["ECA", "ESCWA"]
    statuses = {r["code"]: r["status"] for r in rollup["regions"]}
    assert statuses == {
        "ECE": "published",
        "ECA": "missing",
        "ECLAC": "published",
        "ESCAP": "published",
        "ESCWA": "missing",
    }
    objective = next(o for o in rollup["objectives"] if o["number"] == 6)
    # A State whose report is not published is counted, never named.
    assert [(c["region"], c["reporting"], c["member_states"]) for c in objective["coverage"]] == [
        ("ECE", 2, 2),
        ("ECLAC", 2, 4),
        ("ESCAP", 2, 3),
    ]
    assert [s["iso3"] for s in objective["states_reporting"]] == ["DEU", "MEX", "IND"]
    cluster = rollup["clusters"][0]
    assert cluster["objectives"] == [2, 5, 6, 12, 18]
    assert [c["reporting"] for c in cluster["coverage"]] == [2, 2, 2]
    assert rollup["clusters"][1]["states_reporting"] == []
    quotes = quotes_of(rollup)
    assert len(quotes) == 6
    for quote in quotes:
        report = next(r for r in THREE if r["review"]["id"] == quote["review_id"])
        assert quote["region"] == report["review"]["region"]
        assert (quote["report_version"], quote["content_hash"]) == (3, report["content_hash"])
        assert (quote["submission_id"], quote["submission_version"]) == (SUBMISSION, 2)
    # The same reports, in any order, give the same bytes.
    again = compile_rollup("2020-2021", "Global synthesis", 1, list(reversed(THREE)))
    assert json.dumps(again, sort_keys=True) == json.dumps(rollup, sort_keys=True)
    html = render_rollup_html(rollup)
    assert "Costs &lt;b&gt;&amp; delays&lt;/b&gt;" in html and "<b>&" not in html
    assert html == render_rollup_html(again)
    assert "ECA, ESCWA" in html and SUBMISSION in html
    markdown = render_rollup_markdown(rollup)
    assert "Recruitment fees" in markdown and "ECA, ESCWA" in markdown
    arabic = render_rollup_html(rollup, "ar")
    assert 'dir="rtl"' in arabic


def test_a_roll_up_of_no_published_report_lists_every_region_missing() -> None:
    rollup = compile_rollup("2024-2025", "Nothing yet", 1, [])
    assert rollup["missing"] == ["ECE", "ECA", "ECLAC", "ESCAP", "ESCWA"]
    assert quotes_of(rollup) == [] and rollup["reports"] == []


def test_of_a_region_s_reports_in_a_cycle_the_one_published_last_is_rolled_up() -> None:
    rehearsal = regional("ECE", "ece-rehearsal", ["DEU"], "Rehearsed")
    ece, escap = THREE[1], THREE[0]
    day = datetime(2021, 3, 1, tzinfo=UTC)
    chosen = latest_per_region(
        [(day.replace(day=5), ece), (day.replace(day=9), escap), (day, rehearsal)]
    )
    assert [r["review"]["id"] for r in chosen] == ["ece-2020", "escap-2020"]


# ---- the approval of a version stored a moment before the workflow knows it ------------------


class HeldCompiling:
    """The roll-up's activities, its compiling held (after the version's storing) until
    released: the moment an admin reads the version and the workflow does not know it yet."""

    def __init__(self) -> None:
        self.compiling = asyncio.Event()
        self.released = asyncio.Event()
        self.published: list[int] = []

    @activity.defn(name=stubs.gather_rollup.__name__)
    async def gather(self, cycle: str) -> list[RegionalPublication]:
        return [RegionalPublication("ece-2020", 3)]

    @activity.defn(name=stubs.compile_rollup.__name__)
    async def compile(self, request: CompileRollup) -> ReportVersion:
        self.compiling.set()
        await self.released.wait()
        return ReportVersion(request.version, "0" * 64)

    @activity.defn(name=stubs.publish_rollup.__name__)
    async def publish(self, request: PublishRollup) -> ReportVersion:
        self.published.append(request.version)
        return ReportVersion(request.version, "0" * 64)


async def test_an_approval_sent_while_its_version_is_compiled_waits_for_it(
    temporal_env: WorkflowEnvironment,
) -> None:
    client = temporal_env.client
    held = HeldCompiling()
    queue = f"rollup-held-{uuid.uuid4()}"
    cycle = free_cycle()
    async with Worker(
        client,
        task_queue=queue,
        workflows=[RollupWorkflow],
        activities=[held.gather, held.compile, held.publish],
    ):
        handle = await client.start_workflow(
            RollupWorkflow.run,
            RollupInput(cycle, "Held", "admin"),
            id=f"{rollup_workflow_id(cycle)}-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )
        await asyncio.wait_for(held.compiling.wait(), 20)
        # Version 1 is being compiled: its approval is accepted, not refused, and waits.
        approving = await handle.start_update(
            RollupWorkflow.approve,
            RollupApproval("admin", 1),
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        )
        assert held.published == []
        with pytest.raises(WorkflowUpdateFailedError):  # no other version than the one compiled
            await handle.execute_update(RollupWorkflow.approve, RollupApproval("admin", 2))
        held.released.set()
        assert (await asyncio.wait_for(approving.result(), 20)).version == 1
        assert held.published == [1]
        assert (await handle.query(RollupWorkflow.status)).published == 1
        if os.environ.get("REVIEWFLOW_RECORD_HISTORIES") == "1":
            history = await handle.fetch_history()
            (HISTORIES / "rollup_approval_while_compiling.json").write_text(history.to_json())
        await handle.terminate()


# ---- end to end, on the dev server ----------------------------------------------------------


async def rollup_of(api: Any, admin: Any, cycle: str) -> dict[str, Any]:
    answered = await api.get(f"/v1/rollups/{cycle}", headers=admin.headers)
    assert answered.status == 200, await answered.text()
    found: dict[str, Any] = await answered.json()
    return found


async def at_version(api: Any, admin: Any, cycle: str, version: int) -> dict[str, Any]:
    async def compiled() -> dict[str, Any] | None:
        rollup = await rollup_of(api, admin, cycle)
        return rollup if rollup["version"] == version else None

    found: dict[str, Any] = await eventually(compiled, deadline_s=60)
    return found


async def approve(api: Any, admin: Any, cycle: str, version: int) -> dict[str, Any]:
    answered = await api.post(
        f"/v1/rollups/{cycle}/approve", json={"version": version}, headers=admin.headers
    )
    assert answered.status == 200, await answered.text()
    found: dict[str, Any] = await answered.json()
    return found


@pytest.mark.slow
@pytest.mark.usefixtures("worker")
async def test_a_roll_up_gathers_waits_on_signals_and_is_approved(
    api: Any, admin: Any, make_account: Any, temporal_client: Any, pool: Any
) -> None:
    cycle = free_cycle()
    # Published before the roll-up starts: nobody to signal; gathered at its start.
    ece = await published_regional_review(api, make_account, "ECE", cycle)

    refused = await api.post(
        "/v1/rollups", json={"cycle": cycle, "title": "x"}, headers=ece.secretariat.headers
    )
    assert refused.status == 403
    bad = await api.post(
        "/v1/rollups", json={"cycle": "2021-2022", "title": " ", "more": 1}, headers=admin.headers
    )
    assert bad.status == 422
    assert bad.content_type == "application/problem+json"
    body = {"cycle": cycle, "title": f"Global synthesis {cycle}"}
    headers = {**admin.headers, "Idempotency-Key": f"rollup-{secrets.token_hex(4)}"}
    started = await api.post("/v1/rollups", json=body, headers=headers)
    assert started.status == 201, await started.text()
    again = await api.post("/v1/rollups", json=body, headers=headers)
    assert again.status == 201 and await again.json() == await started.json()
    second = await api.post("/v1/rollups", json=body, headers=admin.headers)
    assert second.status == 409

    first = await at_version(api, admin, cycle, 1)
    assert first["regions"] == {"published": ["ECE"], "missing": ["ECA", "ECLAC", "ESCAP", "ESCWA"]}
    assert first["status"] == "awaiting_approval"
    # A draft is no one's but the admin's.
    stranger = await make_account("observer")
    hidden = await api.get(f"/v1/rollups/{cycle}", headers=stranger.headers)
    assert hidden.status == 404
    assert (await api.get(f"/reports/global/{cycle}.json")).status == 404

    # Published after: the signal makes version 2.
    escap = await published_regional_review(api, make_account, "ESCAP", cycle)
    second_version = await at_version(api, admin, cycle, 2)
    assert second_version["regions"]["published"] == ["ECE", "ESCAP"]
    # Stored a moment before the workflow, its activity done, knows it: approved at once all
    # the same (the approval waits for the workflow to know it).
    approved = await approve(api, admin, cycle, 2)
    assert approved["status"] == "published" and approved["published_version"] == 2
    # The same approval again is the same Update: answered as the first was.
    assert await approve(api, admin, cycle, 2) == approved
    for version in (1, 3):
        refused_again = await api.post(
            f"/v1/rollups/{cycle}/approve", json={"version": version}, headers=admin.headers
        )
        assert refused_again.status == 409, version
        assert refused_again.content_type == "application/problem+json"

    public = await (await api.get(f"/v1/rollups/{cycle}/report", headers=stranger.headers)).json()
    assert public["version"] == 2 and public["missing"] == ["ECA", "ECLAC", "ESCWA"]
    quotes = quotes_of(public)
    assert quotes
    for quote in quotes:
        regional_json = await pool.fetchval(
            "SELECT json FROM reports WHERE review_id = $1 AND version = $2 AND status = 'published'",
            quote["review_id"],
            quote["report_version"],
        )
        assert json.loads(regional_json)["content_hash"] == quote["content_hash"]
        accepted = await pool.fetchval(
            """SELECT s.subject FROM submission_versions v JOIN submissions s ON s.id = v.submission_id
               WHERE v.submission_id = $1 AND v.version = $2 AND v.status = 'accepted'""",
            uuid.UUID(quote["submission_id"]),
            quote["submission_version"],
        )
        assert accepted == quote["country"]
    assert {q["review_id"] for q in quotes} == {ece.id, escap.id}

    # A third publication: version 3 awaits approval while version 2 stays public.
    await published_regional_review(api, make_account, "ECLAC", cycle)
    third = await at_version(api, admin, cycle, 3)
    assert third["status"] == "awaiting_approval" and third["published_version"] == 2
    assert third["regions"]["missing"] == ["ECA", "ESCWA"]
    still = await api.get(f"/reports/global/{cycle}.json")
    assert still.status == 200 and json.loads(await still.read())["version"] == 2
    for fmt in ("html", "md", "pdf"):
        served = await api.get(
            f"/v1/rollups/{cycle}/report?format={fmt}&version=3", headers=admin.headers
        )
        assert served.status == 200, fmt
    assert (
        await api.get(f"/v1/rollups/{cycle}/report?format=xml", headers=admin.headers)
    ).status == 422

    # It waited on signals, one per publication after its start, and never polled: its one
    # timer, if any, bounds the wait of an approval sent while its version was compiled.
    handle = temporal_client.get_workflow_handle(rollup_workflow_id(cycle))
    history = await handle.fetch_history()
    types = [e.event_type for e in history.events]
    assert types.count(EventType.EVENT_TYPE_TIMER_STARTED) <= 1
    assert types.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) == 2
    events = await pool.fetch("SELECT type FROM rollup_events WHERE cycle = $1 ORDER BY seq", cycle)
    assert [e["type"] for e in events] == [
        "rollup.compiled",
        "rollup.compiled",
        "rollup.published",
        "rollup.compiled",
    ]
    if os.environ.get("REVIEWFLOW_RECORD_HISTORIES") == "1":
        (HISTORIES / "rollup_three_regions.json").write_text(history.to_json())
