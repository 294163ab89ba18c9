"""Annexes through the API: attached while drafting, typed by content, bounded in size and
number, read by whoever may read the submission, bound to the version sent with them, and
listed with size and hash in the report."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from domain.annexes import MAX_ANNEX_BYTES, MAX_ANNEXES
from reports.compile import compile_report
from reports.render import render_html, render_markdown
from tests import annex_files, documents
from tests.reviews import review_body
from tests.test_api_basics import assert_problem
from tests.test_report import Run
from tests.test_reviews_api import submit

pytestmark = pytest.mark.usefixtures("worker")

PDF_TYPE = "application/pdf"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def attach(api: Any, account: Any, review_id: str, content: bytes, name: str) -> Any:
    return await api.post(
        f"/v1/reviews/{review_id}/annexes",
        params={"name": name},
        data=content,
        headers={**account.headers, "Content-Type": "application/octet-stream"},
    )


async def attached(api: Any, account: Any, review_id: str, content: bytes, name: str) -> Any:
    response = await attach(api, account, review_id, content, name)
    body = await response.json()
    assert response.status == 201, body
    return body


@pytest.fixture
async def review(api: Any, ece_secretariat: Any, make_account: Any) -> dict[str, Any]:
    """An ECE review taking national reports from Germany and France, and an input from one
    organisation; its call for inputs open."""
    tag = secrets.token_hex(3)
    people = {
        "germany": await make_account("focal_point", country="DEU"),
        "colleague": await make_account("focal_point", country="DEU"),
        "france": await make_account("focal_point", country="FRA"),
        "ngo": await make_account(
            "stakeholder",
            organisation=f"Alpha {tag}",
            stakeholder_category="civil_society",
            regions=("ECE",),
        ),
    }
    body = review_body(member_states=["DEU", "FRA", "KAZ"], stakeholders=[people["ngo"].id])
    created = await api.post("/v1/reviews", json=body, headers=ece_secretariat.headers)
    assert created.status == 201, await created.text()
    run = Run(api, ece_secretariat, body["id"])
    await run.ok("advance")
    return {"run": run, "id": body["id"], "tag": tag, **people}


async def test_an_annex_is_kept_with_its_hash_and_read_back_byte_for_byte(
    api: Any, review: dict[str, Any]
) -> None:
    pdf, docx = annex_files.pdf(), annex_files.docx()
    germany = review["germany"]
    first = await attached(api, germany, review["id"], pdf, "Rapport national.pdf")
    second = await attached(api, germany, review["id"], docx, "tables")
    assert first["media_type"] == PDF_TYPE and second["media_type"] == DOCX_TYPE
    assert first["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert (first["size"], second["size"]) == (len(pdf), len(docx))
    assert first["file_name"] == "Rapport national.pdf"

    # A colleague of the same country drafts with the same annexes.
    listed = await api.get(
        f"/v1/reviews/{review['id']}/annexes", headers=review["colleague"].headers
    )
    assert [a["id"] for a in (await listed.json())["items"]] == [first["id"], second["id"]]

    read = await api.get(f"/v1/annexes/{second['id']}", headers=germany.headers)
    assert read.status == 200
    assert await read.read() == docx
    assert read.content_type == DOCX_TYPE
    assert read.headers["ETag"] == f'"{second["sha256"]}"'
    assert read.headers["Content-Disposition"].startswith('attachment; filename="tables.docx"')
    again = await api.get(
        f"/v1/annexes/{second['id']}",
        headers={**germany.headers, "If-None-Match": read.headers["ETag"]},
    )
    assert again.status == 304


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (annex_files.EXECUTABLE, "report.pdf"),
        (annex_files.PLAIN_ZIP, "report.docx"),
        (annex_files.TEXT, "report.pdf"),
        (b"", "report.pdf"),
    ],
    ids=["exe", "zip", "text", "empty"],
)
async def test_a_file_that_is_no_pdf_or_word_document_is_refused_whatever_its_name(
    api: Any, review: dict[str, Any], content: bytes, name: str
) -> None:
    response = await attach(api, review["germany"], review["id"], content, name)
    problem = await assert_problem(response, 422)
    assert problem["errors"][0]["pointer"] == ""
    listed = await api.get(f"/v1/reviews/{review['id']}/annexes", headers=review["germany"].headers)
    assert (await listed.json())["items"] == []


async def test_a_file_over_20_mb_is_413_and_a_sixth_annex_422(
    api: Any, review: dict[str, Any]
) -> None:
    germany = review["germany"]
    oversized = annex_files.pdf() + b"\0" * MAX_ANNEX_BYTES
    declared = await attach(api, germany, review["id"], oversized, "big.pdf")
    await assert_problem(declared, 413)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: stopped as it streams
        for _ in range(MAX_ANNEX_BYTES // 1_000_000 + 2):
            yield b"%PDF-1.4" + b"\0" * 999_992

    streamed = await api.post(
        f"/v1/reviews/{review['id']}/annexes", data=chunks(), headers=germany.headers
    )
    await assert_problem(streamed, 413)

    for number in range(MAX_ANNEXES):
        await attached(api, germany, review["id"], annex_files.pdf(f"n{number}"), f"{number}.pdf")
    sixth = await attach(api, germany, review["id"], annex_files.pdf("six"), "6.pdf")
    problem = await assert_problem(sixth, 422)
    assert "at most 5 annexes" in problem["detail"]


async def test_only_the_subjects_submitters_read_a_draft_and_the_secretariat_what_was_sent(
    api: Any, review: dict[str, Any], ece_secretariat: Any, make_account: Any
) -> None:
    germany, france, ngo = review["germany"], review["france"], review["ngo"]
    annex = await attached(api, germany, review["id"], annex_files.pdf(), "de.pdf")
    path = f"/v1/annexes/{annex['id']}"
    other_region = await make_account("secretariat", regions=("ECA",))
    for stranger in (france, ngo, ece_secretariat, other_region):
        await assert_problem(await api.get(path, headers=stranger.headers), 404)
    # Nobody reads another country's draft list; the secretariat attaches nothing.
    assert (
        await (await api.get(f"/v1/reviews/{review['id']}/annexes", headers=france.headers)).json()
    )["items"] == []
    await assert_problem(
        await attach(api, ece_secretariat, review["id"], annex_files.pdf(), "x.pdf"), 403
    )
    await assert_problem(
        await api.delete(
            f"/v1/reviews/{review['id']}/annexes/{annex['id']}", headers=france.headers
        ),
        404,
    )

    sent = await submit(api, germany, review["id"], documents.national_report("DEU"))
    assert sent.status == 201, await sent.text()
    read = await api.get(path, headers=ece_secretariat.headers)
    assert read.status == 200 and await read.read() == annex_files.pdf()
    for stranger in (france, ngo, other_region):
        await assert_problem(await api.get(path, headers=stranger.headers), 404)
    await assert_problem(await api.get("/v1/annexes/not-an-id", headers=germany.headers), 404)


async def test_each_version_keeps_the_annexes_it_was_sent_with(
    api: Any, review: dict[str, Any], ece_secretariat: Any
) -> None:
    germany, run = review["germany"], review["run"]
    kept = await attached(api, germany, review["id"], annex_files.pdf("kept"), "kept.pdf")
    dropped = await attached(api, germany, review["id"], annex_files.docx("dropped"), "old.docx")
    never_sent = await attached(api, germany, review["id"], annex_files.pdf("never"), "x.pdf")
    removed = await api.delete(f"{run.url}/annexes/{never_sent['id']}", headers=germany.headers)
    assert removed.status == 204
    first = await submit(api, germany, review["id"], documents.national_report("DEU"))
    receipt = await first.json()

    removed = await api.delete(f"{run.url}/annexes/{dropped['id']}", headers=germany.headers)
    assert removed.status == 204
    second = await submit(api, germany, review["id"], documents.national_report("DEU"))
    assert second.status == 201

    async def annexes_of(version: int) -> list[str]:
        response = await api.get(
            f"/v1/submissions/{receipt['id']}?version={version}", headers=ece_secretariat.headers
        )
        assert response.status == 200
        return [a["id"] for a in (await response.json())["annexes"]]

    assert await annexes_of(1) == [kept["id"], dropped["id"]]
    assert await annexes_of(2) == [kept["id"]]
    # What version 1 was sent with stays readable; a file removed before any version is gone.
    old = await api.get(f"/v1/annexes/{dropped['id']}", headers=ece_secretariat.headers)
    assert old.status == 200 and await old.read() == annex_files.docx("dropped")
    gone = await api.get(f"/v1/annexes/{never_sent['id']}", headers=germany.headers)
    await assert_problem(gone, 404)


async def test_attaching_and_removing_an_annex_is_in_the_audit_trail_without_its_name(
    api: Any, review: dict[str, Any], ece_secretariat: Any
) -> None:
    germany, ngo, run = review["germany"], review["ngo"], review["run"]
    pdf, docx = annex_files.pdf("trail"), annex_files.docx("trail")
    report_annex = await attached(api, germany, review["id"], pdf, "Secret name DE.pdf")
    input_annex = await attached(api, ngo, review["id"], docx, "Secret name Alpha.docx")
    removed = await api.delete(f"{run.url}/annexes/{input_annex['id']}", headers=ngo.headers)
    assert removed.status == 204

    trail = await api.get(f"{run.url}/events", headers=ece_secretariat.headers)
    assert trail.status == 200
    events = [e for e in (await trail.json())["items"] if e["type"].startswith("annex.")]
    assert [(e["type"], e["actor_id"]) for e in events] == [
        ("annex.attached", str(germany.id)),
        ("annex.attached", str(ngo.id)),
        ("annex.removed", str(ngo.id)),
    ]
    assert events[0]["data"] == {
        "kind": "national_report",
        "subject": "DEU",
        "annex_id": report_annex["id"],
        "media_type": PDF_TYPE,
        "size": len(pdf),
        "sha256": hashlib.sha256(pdf).hexdigest(),
    }
    assert events[2]["data"] == {**events[1]["data"], "annex_id": input_annex["id"]}
    assert events[2]["data"]["sha256"] == hashlib.sha256(docx).hexdigest()
    assert "Secret name" not in str(events) and "Alpha" not in str(events)


async def send_with_annexes(api: Any, review: dict[str, Any]) -> tuple[bytes, bytes]:
    """Germany's report with a PDF, and Alpha's input (not for publication) with a DOCX."""
    germany, ngo = review["germany"], review["ngo"]
    pdf, docx = annex_files.pdf("Germany"), annex_files.docx("Alpha")
    await attached(api, germany, review["id"], pdf, "Annex I.pdf")
    await attached(api, ngo, review["id"], docx, "Alpha position.docx")
    assert (
        await submit(api, germany, review["id"], documents.national_report("DEU"))
    ).status == 201
    alpha = documents.stakeholder_input(f"Alpha {review['tag']}", publication="do_not_publish")
    assert (await submit(api, ngo, review["id"], alpha)).status == 201
    return pdf, docx


def assert_listed(report: dict[str, Any], pdf: bytes, docx: bytes) -> None:
    by_hash = {a["sha256"]: a for a in report["annexes"]}
    german = by_hash[hashlib.sha256(pdf).hexdigest()]
    assert german["kind"] == "national_report" and german["country"] == "DEU"
    assert (german["file_name"], german["size"], german["media_type"]) == (
        "Annex I.pdf",
        len(pdf),
        PDF_TYPE,
    )
    assert german["version"] == 1 and german["submission_id"]
    # Not for publication: listed with its hash, but neither the organisation nor its file named.
    alpha = by_hash[hashlib.sha256(docx).hexdigest()]
    assert alpha["organisation"] is None and alpha["file_name"] is None
    assert alpha["category"] == "civil_society" and alpha["size"] == len(docx)


def assert_shown(text: str, pdf: bytes, docx: bytes) -> None:
    assert hashlib.sha256(pdf).hexdigest() in text
    assert hashlib.sha256(docx).hexdigest() in text
    assert f"{len(pdf):,}" in text
    assert "Annex I.pdf" in text and "Alpha position" not in text


async def test_the_report_lists_every_annex_with_its_size_and_hash(
    api: Any, review: dict[str, Any], pool: asyncpg.Pool
) -> None:
    pdf, docx = await send_with_annexes(api, review)
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        row = await conn.fetchrow("SELECT * FROM reviews WHERE id = $1", review["id"])
        report = await compile_report(conn, row, 1, {})
    assert_listed(report, pdf, docx)
    assert_shown(render_html(report), pdf, docx)
    assert_shown(render_markdown(report), pdf, docx)
    # Reports compiled before annexes were listed render as they did.
    earlier = {k: v for k, v in report.items() if k != "annexes"}
    assert hashlib.sha256(pdf).hexdigest() not in render_html(earlier)


@pytest.mark.slow
async def test_the_review_compiles_a_report_listing_the_annexes(
    api: Any, review: dict[str, Any]
) -> None:
    pdf, docx = await send_with_annexes(api, review)
    run = review["run"]
    await run.ok("advance")  # consultation
    assert (await run.ok("advance"))["phase"] == "approval"
    assert_listed(await (await run.report(format="json")).json(), pdf, docx)
    assert_shown(await (await run.report(format="html")).text(), pdf, docx)
    assert_shown(await (await run.report(format="md")).text(), pdf, docx)


async def test_a_body_cut_short_is_refused_and_nothing_is_kept(
    api: Any, review: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """The client says 100 kB, sends 100 bytes, and stops sending: whatever the connection
    ends with is no server error, none is logged, and the draft has no annex."""
    germany = review["germany"]
    host, port = api.server.host, api.server.port
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"POST /v1/reviews/{review['id']}/annexes?name=cut.pdf HTTP/1.1\r\n"
        f"Host: {host}\r\nAuthorization: Bearer {germany.token}\r\n"
        "Content-Type: application/pdf\r\nContent-Length: 100000\r\n\r\n".encode()
        + annex_files.pdf()[:100]
    )
    await writer.drain()
    writer.write_eof()
    answer = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    assert not answer.startswith(b"HTTP/1.1 5")
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    listed = await api.get(f"/v1/reviews/{review['id']}/annexes", headers=germany.headers)
    assert (await listed.json())["items"] == []
