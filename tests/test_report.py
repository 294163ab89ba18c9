"""The regional report: compiled from what came in, approved or sent back, then frozen."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from typing import Any

import asyncpg
import pytest

from domain.canonical import canonical_json
from reports.compile import compile_report
from tests import documents
from tests.reviews import accepted_version, copy_submissions, review_body
from tests.test_api_basics import assert_problem
from workflows.review import workflow_id

pytestmark = pytest.mark.usefixtures("worker")

HOSTILE = '<script>alert("report")</script>'


class Run:
    """One review driven to its report through the API."""

    def __init__(self, api: Any, secretariat: Any, review_id: str) -> None:
        self.api, self.secretariat, self.id = api, secretariat, review_id
        self.url = f"/v1/reviews/{review_id}"

    async def command(
        self, path: str, body: dict[str, Any] | None = None, account: Any = None
    ) -> Any:
        response = await self.api.post(
            f"{self.url}/{path}", json=body or {}, headers=(account or self.secretariat).headers
        )
        return response

    async def ok(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.command(path, body)
        answer = await response.json(content_type=None)
        assert response.status == 200, answer
        return answer

    async def report(
        self, account: Any = None, headers: dict[str, str] | None = None, **query: Any
    ) -> Any:
        params = "&".join(f"{k}={v}" for k, v in query.items())
        return await self.api.get(
            f"{self.url}/report?{params}",
            headers={**(account or self.secretariat).headers, **(headers or {})},
        )


async def change_requests(pool: asyncpg.Pool, review_id: str) -> int:
    """How many requests for changes to the review's report are stored."""
    return int(
        await pool.fetchval(
            "SELECT count(*) FROM report_change_requests WHERE review_id = $1", review_id
        )
    )


@pytest.fixture
async def reviewed(api: Any, ece_secretariat: Any, make_account: Any) -> dict[str, Any]:
    return await review_in_approval(api, ece_secretariat, make_account)


async def review_in_approval(api: Any, ece_secretariat: Any, make_account: Any) -> dict[str, Any]:
    """A review with two national reports of three States, two stakeholder inputs (one not
    for publication) and one consultation answer, now in approval with report version 1."""
    tag = secrets.token_hex(3)
    germany = await make_account("focal_point", country="DEU")
    france = await make_account("focal_point", country="FRA")
    ngo_a = await make_account(
        "stakeholder",
        organisation=f"Alpha {tag}",
        stakeholder_category="civil_society",
        regions=("ECE",),
    )
    ngo_b = await make_account(
        "stakeholder", organisation=f"Beta {tag}", stakeholder_category="academia", regions=("ECE",)
    )
    body = review_body(member_states=["DEU", "FRA", "KAZ"], stakeholders=[ngo_a.id, ngo_b.id])
    created = await api.post("/v1/reviews", json=body, headers=ece_secretariat.headers)
    assert created.status == 201
    run = Run(api, ece_secretariat, body["id"])
    await run.ok("advance")

    deu = documents.national_report("DEU")
    deu["objectives"][0]["measures"] = [f"Data strategy {HOSTILE}"]
    receipts = {}
    for account, kind, content in (
        (germany, "national_report", deu),
        (france, "national_report", documents.national_report("FRA")),
        (ngo_a, "stakeholder_input", documents.stakeholder_input(f"Alpha {tag}")),
        (
            ngo_b,
            "stakeholder_input",
            documents.stakeholder_input(f"Beta {tag}", "academia", publication="do_not_publish"),
        ),
    ):
        response = await api.post(
            f"{run.url}/submissions",
            json={"kind": kind, "content": content},
            headers=account.headers,
        )
        receipts[kind, account.actor.country or account.actor.organisation] = await response.json()
        assert response.status == 201
    await run.ok("advance")  # consultation
    tasks = await (await api.get(f"/v1/tasks?review={run.id}", headers=ngo_a.headers)).json()
    task_id = tasks["items"][0]["id"]
    answered = await api.post(
        f"/v1/tasks/{task_id}/complete",
        json={"response": documents.consultation_response()},
        headers=ngo_a.headers,
    )
    assert answered.status == 200
    status = await run.ok("advance")  # compilation, then approval
    assert status["phase"] == "approval"
    return {"run": run, "receipts": receipts, "task_id": task_id, "tag": tag, "germany": germany}


async def test_the_compiled_report_field_by_field(reviewed: dict[str, Any]) -> None:
    run: Run = reviewed["run"]
    response = await run.report()
    assert response.status == 200 and response.headers["X-Report-Version"] == "1"
    report = json.loads(await response.text())
    overview = report["overview"]
    assert (
        overview["member_states"],
        overview["reports_received"],
        overview["stakeholder_inputs"],
    ) == (3, 2, 2)
    assert (
        overview["consultation"]["tasks"] == 2 and overview["consultation"]["response_rate"] == 0.5
    )
    assert report["gaps"]["states_without_report"] == [{"iso3": "KAZ", "name": "Kazakhstan"}]
    assert report["gaps"]["objectives_without_reports"] == []

    rows = {row["iso3"]: row["cells"] for row in report["coverage"]["rows"]}
    assert rows["KAZ"] == [None] * 23
    expected = [o["status"] for o in documents.national_report("DEU")["objectives"]]
    assert rows["DEU"] == expected

    objective_1 = report["clusters"][3]["objectives"][0]
    assert objective_1["number"] == 1
    deu_receipt = reviewed["receipts"]["national_report", "DEU"]
    (measure,) = [m for m in objective_1["measures"] if m["country"] == "DEU"]
    assert (measure["submission_id"], measure["version"]) == (deu_receipt["id"], 1)
    assert measure["text"] == f"Data strategy {HOSTILE}"
    # A review of version 1 documents: each State's section, its report quoted as always.
    states = {state["iso3"]: state["report"] for state in report["states"]}
    assert list(states) == ["DEU", "FRA", "KAZ"] and states["KAZ"] is None
    assert (states["DEU"]["submission_id"], states["DEU"]["published"]) == (deu_receipt["id"], True)
    assert states["DEU"]["accepted_at"] and states["DEU"]["submitted_by"] == "focal_point"
    assert states["DEU"]["objectives"][0]["measures"] == [f"Data strategy {HOSTILE}"]

    objective_6 = report["clusters"][0]["objectives"][2]
    assert objective_6["number"] == 6
    views = objective_6["stakeholder_views"]
    assert views["count"] == 2  # both inputs counted...
    assert [q["organisation"] for q in views["quotes"]] == [
        f"Alpha {reviewed['tag']}"
    ]  # ...one quoted
    (comment,) = objective_6["consultation_comments"]["quotes"]
    assert comment["task_id"] == reviewed["task_id"]
    assert report["consultation"]["endorsements"]["endorse_with_reservations"] == 1

    unhashed = {k: v for k, v in report.items() if k != "content_hash"}
    assert hashlib.sha256(canonical_json(unhashed).encode()).hexdigest() == report["content_hash"]
    assert response.headers["ETag"] == f'"{report["content_hash"]}-json"'
    unchanged = await run.report(headers={"If-None-Match": response.headers["ETag"]})
    assert unchanged.status == 304 and await unchanged.read() == b""


async def test_the_same_inputs_give_the_same_bytes(
    reviewed: dict[str, Any], pool: asyncpg.Pool
) -> None:
    run: Run = reviewed["run"]
    async with pool.acquire() as conn:
        review = await conn.fetchrow("SELECT * FROM reviews WHERE id = $1", run.id)
        first = canonical_json(await compile_report(conn, review, 1, {}))
        second = canonical_json(await compile_report(conn, review, 1, {}))
    assert first == second
    assert first == await (await run.report()).text()


async def test_hostile_text_is_inert_in_html_and_markdown(reviewed: dict[str, Any]) -> None:
    run: Run = reviewed["run"]
    html = await (await run.report(format="html")).text()
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    markdown = await (await run.report(format="md")).text()
    assert "<script" not in markdown


async def test_request_changes_then_approve_freezes_the_report(
    reviewed: dict[str, Any], make_account: Any, pool: asyncpg.Pool, temporal_client: Any
) -> None:
    run: Run = reviewed["run"]
    observer = await make_account("observer")
    await assert_problem(await run.report(observer), 404)  # nothing published yet
    await assert_problem(await run.command("report/approve", {}, reviewed["germany"]), 403)

    # A late national report is refused now, but recorded and listed in the next version.
    late = await run.api.post(
        f"{run.url}/submissions",
        json={"kind": "national_report", "content": documents.national_report("DEU")},
        headers=reviewed["germany"].headers,
    )
    await assert_problem(late, 409)

    bad = await run.command(
        "report/request-changes", {"note": "x", "editorial": {"chapter-9": "No"}}
    )
    await assert_problem(bad, 422)
    # The change request the review refused is withdrawn, not left for a later version.
    assert await change_requests(pool, run.id) == 0
    changed = await run.ok(
        "report/request-changes",
        {"note": "Add a line on data", "editorial": {"objective-1": f"Editorial: {HOSTILE}"}},
    )
    assert changed["version"] == 2 and changed["status"] == "draft"
    second = json.loads(await (await run.report()).text())
    assert second["editorial"] == [{"section": "objective-1", "text": f"Editorial: {HOSTILE}"}]
    assert [a["subject"] for a in second["annex"]["after_compilation"]] == ["DEU"]
    first = json.loads(await (await run.report(version=1)).text())
    assert first["version"] == 1 and first["editorial"] == []

    approved = await run.ok("report/approve", {"note": "Approved by the Bureau"})
    assert (approved["version"], approved["status"]) == (2, "published")
    bytes_once = await (await run.report()).read()
    bytes_twice = await (await run.report(observer)).read()
    assert bytes_once == bytes_twice
    assert (
        hashlib.sha256(
            canonical_json(
                {k: v for k, v in json.loads(bytes_once).items() if k != "content_hash"}
            ).encode()
        ).hexdigest()
        == approved["content_hash"]
    )
    await assert_problem(
        await run.report(observer, version=1), 404
    )  # drafts stay the secretariat's
    await assert_problem(await run.command("report/approve", {}), 409)
    events = [
        e["type"]
        for e in (
            await (
                await run.api.get(f"{run.url}/events?limit=1000", headers=run.secretariat.headers)
            ).json()
        )["items"]
    ]
    assert "report.changes_requested" in events and "report.published" in events
    assert (await (await run.api.get(run.url, headers=run.secretariat.headers)).json())[
        "phase"
    ] == "published"
    result = await temporal_client.get_workflow_handle(workflow_id(run.id)).result()
    assert result == "published"


async def test_decisions_in_the_wrong_phase_are_409(api: Any, ece_secretariat: Any) -> None:
    created = await api.post("/v1/reviews", json=review_body(), headers=ece_secretariat.headers)
    review_id = (await created.json())["id"]
    for path in ("report/approve", "report/request-changes"):
        response = await api.post(
            f"/v1/reviews/{review_id}/{path}", json={"note": "n"}, headers=ece_secretariat.headers
        )
        await assert_problem(response, 409)
    await assert_problem(
        await api.get(f"/v1/reviews/{review_id}/report", headers=ece_secretariat.headers), 404
    )


async def test_compiling_50000_submissions(pool: asyncpg.Pool, ece_secretariat: Any) -> None:
    """Totals of a report over 50,000 stakeholder inputs (its timing is in bench/)."""
    review_id = f"ece-bulk-{secrets.token_hex(4)}"
    async with pool.acquire() as conn:
        await conn.execute(
            """INSERT INTO reviews (id, region, title, member_states, timeline, reminder_days,
                                    late_submissions, phase, deadlines, created_by)
               VALUES ($1, 'ECE', 'Bulk', '{DEU,FRA}', $3, '{14}', 'accept_flagged', 'compilation', $3, $2)""",
            review_id,
            ece_secretariat.actor.id,
            # A full timeline, as every review has: other tests list this row through the API.
            review_body()["timeline"],
        )
        organisations, submissions, versions = [], [], []
        for n in range(50_000):
            submission_id, organisation_id = uuid.uuid4(), uuid.uuid4()
            category = "academia" if n % 2 else "civil_society"
            content = documents.stakeholder_input(f"Organisation {n:05d}", category)
            content["objectives"] = [1 + n % 23, 1 + (n + 7) % 23]
            organisations.append((organisation_id, f"Organisation {n:05d}", category))
            submissions.append(
                (submission_id, review_id, "stakeholder_input", str(organisation_id), 1)
            )
            versions.append(accepted_version(submission_id, content, ece_secretariat.actor.id))
        await copy_submissions(conn, organisations, submissions, versions)
        review = await conn.fetchrow("SELECT * FROM reviews WHERE id = $1", review_id)
        report = await compile_report(conn, review, 1, {})
    assert report["overview"]["stakeholder_inputs"] == 50_000
    counts = {
        o["number"]: o["stakeholder_views"]["count"]
        for c in report["clusters"]
        for o in c["objectives"]
    }
    assert sum(counts.values()) == 100_000
    assert counts[1] == sum(1 for n in range(50_000) if 1 in (1 + n % 23, 1 + (n + 7) % 23))
    assert all(
        len(o["stakeholder_views"]["quotes"]) == 20
        for c in report["clusters"]
        for o in c["objectives"]
    )
    assert report["gaps"]["states_without_report"] == [
        {"iso3": "DEU", "name": "Germany"},
        {"iso3": "FRA", "name": "France"},
    ]


async def test_a_change_request_the_workflow_never_took_stays_out_of_reports(
    reviewed: dict[str, Any], pool: asyncpg.Pool
) -> None:
    """The API stores a change request before its Update; when the Update then fails (here:
    never sent, as after a 503 or a crash), its text must not reach a later version."""
    from db.reports import insert_change_request

    run: Run = reviewed["run"]
    orphan = {"note": "Lost", "editorial": {"overview": "Text the workflow never accepted"}}
    assert await insert_change_request(
        pool, uuid.uuid4(), run.id, 1, orphan, run.secretariat.actor.id
    )
    changed = await run.ok(
        "report/request-changes", {"note": "Real", "editorial": {"objective-1": "Accepted text"}}
    )
    assert changed["version"] == 2
    second = json.loads(await (await run.report()).text())
    assert second["editorial"] == [{"section": "objective-1", "text": "Accepted text"}]


async def test_a_change_request_the_review_refuses_is_withdrawn(
    reviewed: dict[str, Any], pool: asyncpg.Pool
) -> None:
    """The API checks the phase, stores the change request, then asks the workflow; when the
    review was decided meanwhile (here: the row read still says approval), the workflow's
    refusal withdraws the stored request."""
    run: Run = reviewed["run"]
    await run.ok("report/approve", {})
    await pool.execute("UPDATE reviews SET phase = 'approval' WHERE id = $1", run.id)
    late = await run.command(
        "report/request-changes", {"note": "Too late", "editorial": {"objective-1": "Late"}}
    )
    await assert_problem(late, 409)
    assert await change_requests(pool, run.id) == 0
