"""A published review's evidence pack: one zip holding the report in every format and all it
was made from, each file listed with its SHA-256 and size, verifiable offline.

Building is pure: `build_pack(sources)` turns what was read from PostgreSQL into bytes, and the
same sources give the same bytes. Entries are sorted by name, every entry has the publication
instant as its time, the same permissions and no extra fields, and JSON is RFC 8785. Every
entry is STORED (not deflated): deflate's output may change with the zlib build, which would
change the pack's bytes and its ETag from one host to the next; the PDFs and most annexes are
compressed already, so little is lost.

The pack is a list of parts, each a small function from the sources to files: one more kind of
evidence is one more function in `PARTS` (and, if it needs it, one more field of `Sources`).

`verify_pack(bytes)` checks a pack with nothing but the pack: the manifest's hashes and sizes,
no file missing or extra, `SHA256SUMS`, and the report's content hash against `report.json`.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.canonical import Digest, canonical_json, sha256_hex

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
REPORT_JSON = "report.json"
# -rw-r--r--, written as by a Unix zip: the same on every host.
_PERMISSIONS = 0o100644 << 16
_UNIX = 3


@dataclass(frozen=True)
class File:
    name: str
    content: bytes


@dataclass(frozen=True)
class Rendering:
    """The published report in one of its languages."""

    language: str
    html: str
    markdown: str
    pdf: bytes


@dataclass(frozen=True)
class Sources:
    """Everything a pack is built from, all of it kept in PostgreSQL."""

    review_id: str
    report_version: int
    content_hash: str
    published_at: datetime
    # The published report's document (its stored JSON, parsed), content_hash included.
    report: dict[str, Any]
    # The first is the report's own language; it is written as report.html, .md and .pdf.
    renderings: Sequence[Rendering]
    # Each accepted version: id, version, kind, subject, accepted_at, late, schema_version,
    # content.
    submissions: Sequence[dict[str, Any]] = ()
    # Each annex a version was sent with: its metadata, and its bytes by SHA-256.
    annexes: Sequence[dict[str, Any]] = ()
    annex_bytes: dict[str, bytes] = field(default_factory=dict)
    answers: Sequence[dict[str, Any]] = ()
    # The summaries of the meetings held, with their provenance, as the report shows them.
    meetings: Sequence[dict[str, Any]] = ()
    events: Sequence[dict[str, Any]] = ()
    # The JSON Schemas the review collected with, by file name ("national_report.v2.json").
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)


Part = Callable[[Sources], list[File]]


def json_file(name: str, document: Any) -> File:
    return File(name, canonical_json(document).encode())


def report_files(sources: Sources) -> list[File]:
    """The published report: its JSON document (RFC 8785), and its HTML, Markdown and frozen
    PDF in each language, the first without a language in the name."""
    files = [json_file(REPORT_JSON, sources.report)]
    for index, rendering in enumerate(sources.renderings):
        stem = "report" if index == 0 else f"report.{rendering.language}"
        files += [
            File(f"{stem}.html", rendering.html.encode()),
            File(f"{stem}.md", rendering.markdown.encode()),
            File(f"{stem}.pdf", rendering.pdf),
        ]
    return files


def submission_files(sources: Sources) -> list[File]:
    """Every accepted version of every submission, with its metadata, one file each."""
    return [
        json_file(f"submissions/{s['kind']}/{s['subject']}/v{s['version']}.json", s)
        for s in sources.submissions
    ]


def annex_files(sources: Sources) -> list[File]:
    """Each annex's bytes once, named by its SHA-256, and which version was sent with which."""
    if not sources.annexes:
        return []
    files = [json_file("annexes/index.json", list(sources.annexes))]
    return files + [File(f"annexes/{sha}", sources.annex_bytes[sha]) for sha in sources.annex_bytes]


def answer_files(sources: Sources) -> list[File]:
    """The consultation's answers (the tasks' responses)."""
    return [json_file("consultation/answers.json", list(sources.answers))]


def meeting_files(sources: Sources) -> list[File]:
    """The summaries of the consultation meetings held, each with its meeting's facts and its
    provenance (who wrote it, when, and the SHA-256 of its text)."""
    if not sources.meetings:
        return []
    return [json_file("consultation/meetings.json", list(sources.meetings))]


def audit_files(sources: Sources) -> list[File]:
    """The review's audit trail, its events in order."""
    return [json_file("audit/events.json", list(sources.events))]


def schema_files(sources: Sources) -> list[File]:
    """The JSON Schemas at the versions the review collected with."""
    return [json_file(f"schemas/{name}", schema) for name, schema in sources.schemas.items()]


PARTS: list[Part] = [
    report_files,
    submission_files,
    annex_files,
    answer_files,
    meeting_files,
    audit_files,
    schema_files,
]


def manifest(sources: Sources, files: Sequence[File]) -> File:
    return json_file(
        MANIFEST,
        {
            "review_id": sources.review_id,
            "report_version": sources.report_version,
            "content_hash": sources.content_hash,
            "published_at": sources.published_at.isoformat(),
            "files": [
                {"name": f.name, "sha256": sha256_hex(f.content), "size": len(f.content)}
                for f in files
            ],
        },
    )


def sums(files: Sequence[File]) -> File:
    """`sha256sum`'s format (two spaces: text mode), so `sha256sum -c SHA256SUMS` checks it."""
    return File(SUMS, "".join(f"{sha256_hex(f.content)}  {f.name}\n" for f in files).encode())


def build_pack(sources: Sources, parts: Sequence[Part] = PARTS) -> bytes:
    files = sorted((f for part in parts for f in part(sources)), key=lambda f: f.name)
    names = [f.name for f in files]
    assert len(set(names)) == len(names), "two parts wrote one file"
    files.append(manifest(sources, files))
    files.append(sums(files))
    return _zipped(sorted(files, key=lambda f: f.name), sources.published_at)


def _zipped(files: Sequence[File], at: datetime) -> bytes:
    # Zip times have no zone and a resolution of two seconds: the UTC instant, rounded down.
    stamp = (at.year, at.month, at.day, at.hour, at.minute, at.second - at.second % 2)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as pack:
        for f in files:
            info = zipfile.ZipInfo(f.name, date_time=stamp)
            info.create_system = _UNIX
            info.external_attr = _PERMISSIONS
            pack.writestr(info, f.content)
    return buffer.getvalue()


# ---- offline verification ------------------------------------------------------------------


def verify_pack(pack: bytes) -> list[str]:
    """Every problem found in the pack, each naming its file; none when it verifies."""
    try:
        with zipfile.ZipFile(io.BytesIO(pack)) as archive:
            contents = {name: archive.read(name) for name in archive.namelist()}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        return [f"the pack is not a readable zip: {error}"]
    try:
        listed = json.loads(contents[MANIFEST])
        entries = {e["name"]: e for e in listed["files"]}
    except (KeyError, TypeError, ValueError):
        return [f"{MANIFEST}: missing or unreadable"]
    return [
        *_manifest_problems(contents, entries),
        *_sums_problems(contents),
        *_content_hash_problems(contents, listed),
    ]


def _manifest_problems(contents: dict[str, bytes], entries: dict[str, Any]) -> list[str]:
    problems = []
    for name, entry in sorted(entries.items()):
        if name not in contents:
            problems.append(f"{name}: listed in {MANIFEST} but missing")
        elif sha256_hex(contents[name]) != entry.get("sha256"):
            problems.append(f"{name}: SHA-256 differs from {MANIFEST}")
        elif len(contents[name]) != entry.get("size"):
            problems.append(f"{name}: size differs from {MANIFEST}")
    extra = set(contents) - set(entries) - {MANIFEST, SUMS}
    problems += [f"{name}: not listed in {MANIFEST}" for name in sorted(extra)]
    return problems


def _sums_problems(contents: dict[str, bytes]) -> list[str]:
    if SUMS not in contents:
        return [f"{SUMS}: missing"]
    summed: dict[str, str] = {}
    for line in contents[SUMS].decode("utf-8", "replace").splitlines():
        digest, _, name = line.partition("  ")
        summed[name] = digest
    problems = [
        f"{name}: SHA-256 differs from {SUMS}"
        for name, digest in sorted(summed.items())
        if name in contents and sha256_hex(contents[name]) != digest
    ]
    unsummed = set(contents) - set(summed) - {SUMS}
    problems += [f"{name}: not listed in {SUMS}" for name in sorted(unsummed)]
    problems += [
        f"{name}: listed in {SUMS} but missing" for name in sorted(set(summed) - set(contents))
    ]
    return problems


def _content_hash_problems(contents: dict[str, bytes], listed: dict[str, Any]) -> list[str]:
    """The report's content hash is the SHA-256 of report.json's document without that key
    (RFC 8785; a report published before hashes were RFC 8785 keeps its earlier one)."""
    try:
        document = json.loads(contents[REPORT_JSON])
        stated = document.pop("content_hash")
    except (KeyError, AttributeError, ValueError):
        return [f"{REPORT_JSON}: missing, unreadable or without content_hash"]
    problems = []
    if not Digest(document).matches(stated):
        problems.append(f"{REPORT_JSON}: its content differs from its content_hash")
    if stated != listed.get("content_hash"):
        problems.append(f"{REPORT_JSON}: content_hash differs from {MANIFEST}")
    return problems
