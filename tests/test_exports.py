"""Exports of a review's data (GET /v1/reviews/{id}/exports/{dataset}.{format}): what each file
holds, read back as a spreadsheet would (csv, openpyxl), formula neutralisation, and who may
download them. The review's rows are stored directly, as its workflow's activities would
have left them."""

from __future__ import annotations

import csv
import io
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import openpyxl
import pytest

from reports.exports import FORMULA_STARTS, neutralised
from tests import documents
from tests.reviews import timeline

# A cell starting with each character a spreadsheet reads as a formula.
HOSTILE = {start: f'{start}HYPERLINK("http://evil.example")' for start in FORMULA_STARTS}
RECEIVED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


async def store_review(pool: asyncpg.Pool, secretariat: Any, stakeholders: list[Any]) -> str:
    review_id = f"ece-export-{secrets.token_hex(4)}"
    await pool.execute(
        """INSERT INTO reviews (id, region, title, member_states, timeline, reminder_days,
                                late_submissions, phase, deadlines, created_by, stakeholders)
           VALUES ($1, 'ECE', 'Export test', '{DEU,FRA,KAZ}', $4, '{14}', 'accept_flagged',
                   'consultation', $4, $2, $3)""",
        review_id,
        secretariat.actor.id,
        [s.actor.id for s in stakeholders],
        timeline(),
    )
    return review_id


async def store_submission(
    pool: asyncpg.Pool,
    review_id: str,
    kind: str,
    subject: str,
    content: dict[str, Any],
    by: Any,
    *,
    late: bool = False,
    received: datetime = RECEIVED,
) -> uuid.UUID:
    submission_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO submissions (id, review_id, kind, subject, latest_version)"
        " VALUES ($1, $2, $3, $4, 1)",
        submission_id,
        review_id,
        kind,
        subject,
    )
    await pool.execute(
        """INSERT INTO submission_versions (request_id, submission_id, version, status, late,
               content, fingerprint, submitted_by, received_at, decided_at)
           VALUES ($1, $2, 1, 'accepted', $3, $4, 'x', $5, $6, $6)""",
        uuid.uuid4(),
        submission_id,
        late,
        content,
        by.actor.id,
        received,
    )
    return submission_id


async def store_answer(
    pool: asyncpg.Pool, review_id: str, by: Any, response: dict[str, Any]
) -> uuid.UUID:
    task_id = uuid.uuid4()
    await pool.execute(
        """INSERT INTO tasks (id, review_id, kind, invitee, assignee, organisation,
               stakeholder_category, due_at, status, response, response_hash, completed_at,
               completed_by)
           VALUES ($1, $2, 'consultation', $3, $3, $4, $5, $6, 'completed', $7, 'x', $6, $3)""",
        task_id,
        review_id,
        by.actor.id,
        by.actor.organisation,
        by.actor.stakeholder_category,
        RECEIVED + timedelta(days=20),
        response,
    )
    return task_id


async def store_annexes(
    pool: asyncpg.Pool, submission_id: uuid.UUID, by: Any, hashes: list[str]
) -> None:
    """Annexes, oldest first, that version 1 of the submission was sent with."""
    version = await pool.fetchrow(
        "SELECT v.request_id, s.review_id, s.kind, s.subject FROM submission_versions v"
        " JOIN submissions s ON s.id = v.submission_id WHERE v.submission_id = $1",
        submission_id,
    )
    for minutes, sha256 in enumerate(hashes):
        annex_id = uuid.uuid4()
        await pool.execute(
            """INSERT INTO annexes (id, review_id, kind, subject, file_name, media_type, size,
                   sha256, uploaded_by, uploaded_at)
               VALUES ($1, $2, $3, $4, 'annex.pdf', 'application/pdf', 10, $5, $6, $7)""",
            annex_id, version["review_id"], version["kind"], version["subject"], sha256,
            by.actor.id, RECEIVED - timedelta(minutes=10 - minutes),
        )  # fmt: skip
        await pool.execute(
            "INSERT INTO submission_version_annexes (request_id, annex_id) VALUES ($1, $2)",
            version["request_id"],
            annex_id,
        )


# The hashes of the annexes DEU's report was sent with, in the order they were attached.
DEU_ANNEXES = ["b" * 64, "a" * 64]


@pytest.fixture(scope="module")
async def world(pool: asyncpg.Pool, make_account: Any) -> dict[str, Any]:
    """An ECE review of DEU, FRA and KAZ inviting Alpha and Beta: DEU's report (with a
    formula-like measure for each dangerous first character), FRA's report sent late, KAZ's
    missing; Alpha's input; Beta's answer to its consultation task, and answers of other
    stakeholders whose general comment starts with each of those characters."""
    tag = secrets.token_hex(3)
    secretariat = await make_account("secretariat", regions=("ECE",))
    deu = await make_account("focal_point", country="DEU", email=f"deu-{tag}@example.org")
    fra = await make_account("focal_point", country="FRA", email=f"fra-{tag}@example.org")
    alpha = await make_account(
        "stakeholder", regions=("ECE",), organisation=f"Alpha {tag}",
        stakeholder_category="civil_society", email=f"alpha-{tag}@example.org",
    )  # fmt: skip
    beta = await make_account(
        "stakeholder", regions=("ECE",), organisation=f"Beta {tag}",
        stakeholder_category="academia", email=f"beta-{tag}@example.org",
    )  # fmt: skip
    review_id = await store_review(pool, secretariat, [alpha, beta])
    report = documents.national_report("DEU")
    report["objectives"][0]["measures"] = list(HOSTILE.values())
    deu_id = await store_submission(pool, review_id, "national_report", "DEU", report, deu)
    await store_annexes(pool, deu_id, deu, DEU_ANNEXES)
    fra_report = documents.national_report("FRA")
    fra_report["objectives"] = fra_report["objectives"][:2]
    await store_submission(pool, review_id, "national_report", "FRA", fra_report, fra, late=True)
    alpha_input = documents.stakeholder_input(f"Alpha {tag}")
    alpha_input["input"] = '@SUM(A1:A9), and a quote " and a comma, on\ntwo lines'
    await store_submission(
        pool, review_id, "stakeholder_input", str(alpha.actor.organisation_id), alpha_input,
        alpha,
    )  # fmt: skip
    response = documents.consultation_response()
    task_id = await store_answer(pool, review_id, beta, response)
    for start, text in HOSTILE.items():
        someone = await make_account(
            "stakeholder", regions=("ECE",), organisation=f"Hostile {tag} {ord(start)}",
            stakeholder_category="academia",
        )  # fmt: skip
        await store_answer(pool, review_id, someone, {**response, "general_comment": text})
    return {
        "review": review_id, "secretariat": secretariat, "deu": deu, "fra": fra, "alpha": alpha,
        "beta": beta, "deu_id": deu_id, "task": task_id, "tag": tag,
    }  # fmt: skip


def _path(world: dict[str, Any], name: str) -> str:
    return f"/v1/reviews/{world['review']}/exports/{name}"


async def _download(api: Any, world: dict[str, Any], name: str, who: str = "secretariat") -> Any:
    response = await api.get(_path(world, name), headers=world[who].headers)
    assert response.status == 200, await response.text()
    body = await response.read()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{world["review"]}-{name}"'
    )
    return response, body


async def csv_rows(api: Any, world: dict[str, Any], dataset: str) -> list[dict[str, str]]:
    response, body = await _download(api, world, f"{dataset}.csv")
    assert response.content_type == "text/csv"
    assert body.startswith(b"\xef\xbb\xbf"), "a byte-order mark, for spreadsheets"
    text = body.decode("utf-8-sig")
    assert text.startswith("id,") or text.startswith("task id,") or text.startswith("kind,")
    assert text.endswith("\r\n"), "records end with CRLF (RFC 4180)"
    return list(csv.DictReader(io.StringIO(text, newline="")))


async def xlsx_rows(api: Any, world: dict[str, Any], dataset: str) -> list[dict[str, Any]]:
    response, body = await _download(api, world, f"{dataset}.xlsx")
    assert response.content_type.endswith("spreadsheetml.sheet")
    workbook = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    (sheet,) = workbook.worksheets
    rows = list(sheet.iter_rows(values_only=True))
    headers = rows[0]
    # OOXML writes a carriage return in text as the escape _x000D_, which openpyxl keeps.
    return [
        {
            k: v.replace("_x000D_", "\r") if isinstance(v, str) else v
            for k, v in zip(headers, row, strict=True)
        }
        for row in rows[1:]
    ]


FORMATS = ("csv", "xlsx")


async def rows_of(api: Any, world: dict[str, Any], dataset: str, fmt: str) -> list[dict[str, Any]]:
    rows = await (csv_rows if fmt == "csv" else xlsx_rows)(api, world, dataset)
    # The same text in both formats: CSV has no numbers or blanks, only text.
    return [{k: ("" if v is None else str(v)) for k, v in row.items()} for row in rows]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_submissions_one_row_each_with_objectives_as_columns(
    api: Any, world: dict[str, Any], fmt: str
) -> None:
    rows = await rows_of(api, world, "submissions", fmt)
    by_subject = {row["country"] or row["organisation"]: row for row in rows}
    assert set(by_subject) == {"DEU", "FRA", f"Alpha {world['tag']}"}
    deu = by_subject["DEU"]
    assert deu["id"] == str(world["deu_id"])
    assert deu["kind"] == "national_report" and deu["country name"] == "Germany"
    assert deu["submitter"] == world["deu"].actor.name
    assert deu["submitter email"] == world["deu"].actor.email
    assert deu["received at (UTC)"] == "2026-03-02 09:30:00"
    assert (deu["version"], deu["late"]) == ("1", "no")
    assert deu["reporting period"] == "2019-01-01 to 2020-06-30"
    objectives = [name for name in deu if name.startswith("objective ")]
    assert len(objectives) == 23 and objectives[0].startswith("objective 1: ")
    assert deu[objectives[22]].startswith("Status: ")
    assert "Measures: Active participation in the regional UN Network" in deu[objectives[22]]
    assert "SDG targets: 17.16, 10.7" in deu[objectives[22]]
    fra = by_subject["FRA"]
    assert fra["late"] == "yes" and fra[objectives[1]] and not fra[objectives[2]]
    alpha = by_subject[f"Alpha {world['tag']}"]
    assert (alpha["kind"], alpha["category"], alpha["country"]) == (
        "stakeholder_input", "civil_society", "",
    )  # fmt: skip
    assert alpha["input"].endswith("a comma, on\ntwo lines")
    # What each may publish: the input's consent (version 1), the report's (none: it may).
    assert (alpha["publication"], deu["publication"]) == ("with_name", "publish")
    assert [alpha[objectives[n - 1]] for n in (6, 7, 15, 8)] == ["addressed"] * 3 + [""]
    # The annexes each version was sent with: how many, and their hashes in attaching order.
    assert (deu["annexes"], deu["annexes SHA-256"]) == ("2", ";".join(DEU_ANNEXES))
    assert (alpha["annexes"], alpha["annexes SHA-256"]) == ("0", "")


@pytest.mark.parametrize("fmt", FORMATS)
async def test_answers_one_row_per_answer(api: Any, world: dict[str, Any], fmt: str) -> None:
    rows = await rows_of(api, world, "answers", fmt)
    assert len(rows) == 1 + len(HOSTILE)
    beta = world["beta"].actor
    (row,) = [row for row in rows if row["organisation"] == beta.organisation]
    assert row["task id"] == str(world["task"])
    assert (row["organisation"], row["category"]) == (beta.organisation, "academia")
    assert (row["answered by"], row["answered by email"]) == (beta.name, beta.email)
    assert row["endorsement"] == "endorse_with_reservations"
    assert row["comments on objectives"].startswith("Objective 6: The synthesis should")
    assert row["consent to publish"] == "yes"


@pytest.mark.parametrize("fmt", FORMATS)
async def test_participants_with_their_status(api: Any, world: dict[str, Any], fmt: str) -> None:
    rows = await rows_of(api, world, "participants", fmt)
    status = {row["country"] or row["organisation"]: row["status"] for row in rows}
    tag = world["tag"]
    assert status == {
        "DEU": "submitted", "FRA": "late", "KAZ": "missing",
        f"Alpha {tag}": "submitted", f"Beta {tag}": "missing",
    }  # fmt: skip
    deu = next(row for row in rows if row["country"] == "DEU")
    assert world["deu"].actor.email in deu["email"].split("; ")
    alpha = next(row for row in rows if row["organisation"] == f"Alpha {tag}")
    assert (alpha["kind"], alpha["category"], alpha["email"]) == (
        "stakeholder", "civil_society", world["alpha"].actor.email,
    )  # fmt: skip


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("start", FORMULA_STARTS, ids=repr)
async def test_no_cell_is_read_as_a_formula(
    api: Any, world: dict[str, Any], fmt: str, start: str
) -> None:
    """A cell starting with each dangerous character gets a leading quote, in both formats."""
    answers = await rows_of(api, world, "answers", fmt)
    comments = {row["general comment"] for row in answers}
    assert neutralised(HOSTILE[start]) == "'" + HOSTILE[start]
    assert "'" + HOSTILE[start] in comments
    assert HOSTILE[start] not in comments


@pytest.mark.parametrize("fmt", FORMATS)
async def test_formula_like_text_of_documents_is_neutralised(
    api: Any, world: dict[str, Any], fmt: str
) -> None:
    rows = await rows_of(api, world, "submissions", fmt)
    alpha = next(row for row in rows if row["kind"] == "stakeholder_input")
    assert alpha["input"].startswith("'@SUM(A1:A9), and a quote")
    # Inside a cell that starts otherwise, the text is kept as it was written.
    deu = next(row for row in rows if row["country"] == "DEU")
    objective_1 = next(v for k, v in deu.items() if k.startswith("objective 1: "))
    assert f"Measures: {HOSTILE['=']}; {HOSTILE['+']}" in objective_1


async def test_xlsx_cells_are_text_not_formulas(api: Any, world: dict[str, Any]) -> None:
    _, body = await _download(api, world, "answers.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(body)).worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert cells and all(cell.data_type in ("s", "n") for cell in cells)
    assert not any(str(cell.value).startswith("=") for cell in cells)


@pytest.mark.parametrize(
    "name", ["grants.csv", "submissions.pdf", "submissions", "submissions.csv.xlsx"]
)
async def test_unknown_exports_are_not_found(api: Any, world: dict[str, Any], name: str) -> None:
    response = await api.get(_path(world, name), headers=world["secretariat"].headers)
    assert response.status == 404
    assert response.content_type == "application/problem+json"


async def test_only_the_review_s_secretariat_exports(
    api: Any, world: dict[str, Any], make_account: Any
) -> None:
    eca = await make_account("secretariat", regions=("ECA",))
    admin = await make_account("admin")
    cases = {
        world["deu"].headers["Authorization"]: 403,
        world["alpha"].headers["Authorization"]: 403,
        eca.headers["Authorization"]: 404,
        admin.headers["Authorization"]: 200,
    }
    for authorization, status in cases.items():
        response = await api.get(
            _path(world, "participants.csv"), headers={"Authorization": authorization}
        )
        body = await response.read()
        assert response.status == status, body
        if status != 200:
            assert world["tag"].encode() not in body
    assert (await api.get(_path(world, "participants.csv"))).status == 401
