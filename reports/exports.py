"""A review's data as spreadsheets: its submissions (one row each, the GCM objectives as
columns, with the annexes the version was sent with), its consultation's answers, and who takes part with where their submission stands;
as CSV or XLSX, produced a batch of rows at a time so that memory stays bounded whatever the
review's size.

Every text cell that a spreadsheet could take for a formula (one starting with `=`, `+`, `-`,
`@`, a tab or a carriage return) gets a leading `'`, as OWASP advises against CSV injection; in
XLSX, text is also written as text only (`write_string`), never read as a formula or a number.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from db import exports as queries
from db.pool import Connection
from domain.publication import input_publication, report_may_be_published
from domain.reference import load_reference

# The characters a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Spreadsheets read a CSV file as UTF-8 only when it starts with a byte-order mark.
BOM = "\ufeff"
# Chunks in which a finished XLSX file is sent.
FILE_CHUNK = 256 * 1024
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

Cell = str | int | None
Row = list[Cell]


def neutralised(text: str) -> str:
    """`text` as a cell that no spreadsheet reads as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _safe(row: Row) -> Row:
    return [neutralised(cell) if isinstance(cell, str) else cell for cell in row]


def _instant(value: datetime | None) -> str | None:
    """An instant in UTC, as spreadsheets read a date and time."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if value else None


def _yes_no(value: bool | None) -> str:
    return "yes" if value else "no"


def _lines(*parts: tuple[str, str | None]) -> str:
    """Labelled parts of one cell, a line each, the empty ones left out."""
    return "\n".join(f"{label}: {text}" for label, text in parts if text)


# ---- submissions --------------------------------------------------------------------------


def _objective_headers() -> list[str]:
    return [f"objective {o.number}: {o.title}" for o in load_reference().objectives]


def _national_objective(item: dict[str, Any]) -> str:
    statuses = {term.id: term.title for term in load_reference().objective_statuses}
    return _lines(
        ("Status", statuses.get(item["status"], item["status"])),
        ("Measures", "; ".join(item.get("measures", []))),
        ("Challenges", "; ".join(item.get("challenges", []))),
        ("Good practices", "; ".join(item.get("good_practices", []))),
        ("SDG targets", ", ".join(item.get("sdg_targets", []))),
    )


def _objective_cells(kind: str, content: dict[str, Any]) -> list[Cell]:
    """One cell per GCM objective: a national report's progress on it, or whether an input
    addresses it."""
    if kind == "national_report":
        by_number = {item["number"]: _national_objective(item) for item in content["objectives"]}
    else:
        by_number = dict.fromkeys(content["objectives"], "addressed")
    return [by_number.get(number) for number in load_reference().objective_numbers]


def _publication(kind: str, content: dict[str, Any]) -> str:
    """What the authors agreed may be published: for an input, "with_name", "without_name"
    or "do_not_publish"; for a national report, "publish" or "do_not_publish"."""
    if kind == "national_report":
        return "publish" if report_may_be_published(content) else "do_not_publish"
    return input_publication(content)


def _submission_row(record: asyncpg.Record) -> Row:
    content, kind = record["content"], record["kind"]
    national = kind == "national_report"
    period = content.get("reporting_period") if national else None
    return [
        str(record["id"]),
        kind,
        record["subject"] if national else None,
        load_reference().country_name(record["subject"]) if national else None,
        record["organisation"],
        record["category"],
        record["submitter"],
        record["submitter_email"],
        _instant(record["received_at"]),
        record["version"],
        _yes_no(record["late"]),
        f"{period['start']} to {period['end']}" if period else None,
        content.get("input"),
        "; ".join(content.get("recommendations", [])) or None,
        _publication(kind, content),
        record["annex_count"],
        record["annex_sha256"],
        *_objective_cells(kind, content),
    ]


# ---- answers ------------------------------------------------------------------------------


def _answer_row(record: asyncpg.Record) -> Row:
    response = record["response"]
    comments = "\n".join(
        f"Objective {item['objective']}: {item['comment']}" for item in response.get("comments", [])
    )
    return [
        str(record["id"]),
        record["country"],
        record["organisation"],
        record["category"],
        record["answered_by"],
        record["answered_by_email"],
        _instant(record["completed_at"]),
        response["endorsement"],
        response.get("general_comment"),
        comments or None,
        _yes_no(response.get("consent_to_publish")),
    ]


# ---- participants -------------------------------------------------------------------------


def participant_status(submitted: bool, late: bool | None) -> str:
    return "late" if submitted and late else "submitted" if submitted else "missing"


def _participant_row(record: asyncpg.Record) -> Row:
    country = record["country"]
    return [
        record["kind"],
        country,
        load_reference().country_name(country) if country else None,
        record["organisation"],
        record["category"],
        record["name"],
        record["email"],
        participant_status(record["submitted"], record["late"]),
    ]


# ---- the datasets and their formats -------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    query: str
    headers: Callable[[], Row]
    row: Callable[[asyncpg.Record], Row]


DATASETS = {
    "submissions": Dataset(
        queries.SUBMISSIONS,
        lambda: [
            "id", "kind", "country", "country name", "organisation", "category", "submitter",
            "submitter email", "received at (UTC)", "version", "late", "reporting period",
            "input", "recommendations", "publication", "annexes", "annexes SHA-256",
            *_objective_headers(),
        ],
        _submission_row,
    ),
    "answers": Dataset(
        queries.ANSWERS,
        lambda: [
            "task id", "country", "organisation", "category", "answered by",
            "answered by email", "answered at (UTC)", "endorsement", "general comment",
            "comments on objectives", "consent to publish",
        ],
        _answer_row,
    ),
    "participants": Dataset(
        queries.PARTICIPANTS,
        lambda: [
            "kind", "country", "country name", "organisation", "category", "name", "email",
            "status",
        ],
        _participant_row,
    ),
}  # fmt: skip


async def _rows(conn: Connection, dataset: Dataset, review_id: str) -> AsyncIterator[list[Row]]:
    async for batch in queries.batches(conn, dataset.query, review_id):
        yield [_safe(dataset.row(record)) for record in batch]


def _csv_text(rows: Iterable[Row]) -> bytes:
    buffer = io.StringIO()
    # RFC 4180: CRLF between records, fields quoted where they hold a comma, quote or newline.
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


async def csv_chunks(conn: Connection, dataset: Dataset, review_id: str) -> AsyncIterator[bytes]:
    """The dataset as CSV in UTF-8 with a byte-order mark, a chunk per batch of rows."""
    yield BOM.encode() + _csv_text([dataset.headers()])
    async for rows in _rows(conn, dataset, review_id):
        yield _csv_text(rows)


def _write_rows(sheet: Worksheet, first: int, rows: list[Row]) -> None:
    for offset, row in enumerate(rows):
        for column, cell in enumerate(row):
            if isinstance(cell, int):
                sheet.write_number(first + offset, column, cell)
            elif cell is not None:
                sheet.write_string(first + offset, column, cell)


async def xlsx_chunks(
    conn: Connection, dataset: Dataset, review_id: str, sheet_name: str
) -> AsyncIterator[bytes]:
    """The dataset as an XLSX workbook of one sheet. XlsxWriter's constant-memory mode writes
    each row to a temporary file as it comes; the finished workbook is then read out in
    chunks. Its CPU work (writing, compressing) runs off the event loop."""
    with tempfile.TemporaryDirectory(prefix="reviewflow-export-") as folder:
        path = os.path.join(folder, "export.xlsx")
        workbook = xlsxwriter.Workbook(
            path,
            {
                "constant_memory": True,
                "tmpdir": folder,
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
            },
        )
        sheet = workbook.add_worksheet(sheet_name[:31])
        _write_rows(sheet, 0, [dataset.headers()])
        written = 1
        async for rows in _rows(conn, dataset, review_id):
            await asyncio.to_thread(_write_rows, sheet, written, rows)
            written += len(rows)
        await asyncio.to_thread(workbook.close)
        file = await asyncio.to_thread(open, path, "rb")
        try:
            while chunk := await asyncio.to_thread(file.read, FILE_CHUNK):
                yield chunk
        finally:
            file.close()


def chunks(
    conn: Connection, dataset: str, file_format: str, review_id: str
) -> AsyncIterator[bytes]:
    """The bytes of the export of `dataset` (a key of DATASETS) in `file_format` (a key of
    MEDIA_TYPES)."""
    if file_format == "xlsx":
        return xlsx_chunks(conn, DATASETS[dataset], review_id, dataset)
    return csv_chunks(conn, DATASETS[dataset], review_id)
