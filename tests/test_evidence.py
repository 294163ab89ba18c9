"""The evidence pack: the same review gives the same bytes, a pack verifies offline and any
change to it is named; JSON hashes are RFC 8785 and hashes stored before are still
recognised."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import rfc8785

from domain.canonical import Digest, canonical_json, earlier_json_hash, json_hash
from reports.evidence import Rendering, Sources, build_pack, verify_pack
from services.once import fingerprint

ROOT = Path(__file__).resolve().parent.parent


# ---- RFC 8785 --------------------------------------------------------------------------------


def test_canonical_json_is_rfc_8785() -> None:
    assert canonical_json({"a": 1.0, "b": 1e21, "c": 0.5}) == '{"a":1,"b":1e+21,"c":0.5}'
    assert canonical_json(-0.0) == "0"
    # Names ordered by UTF-16 code units: U+1F600 (D83D DE00) before U+FF5E, unlike code points.
    assert canonical_json({"\uff5e": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\uff5e":1}'
    assert canonical_json('\x01\n\t"\\é\u2028') == '"\\u0001\\n\\t\\"\\\\é\u2028"'


def test_json_hash_is_sha256_of_rfc_8785() -> None:
    document = {"b": [1.0, "x"], "a": {"\U0001f600": None, "\uff5e": True}}
    assert json_hash(document) == hashlib.sha256(rfc8785.dumps(document)).hexdigest()
    assert json_hash(document) != earlier_json_hash(document)


def test_a_hash_stored_in_the_earlier_form_is_recognised() -> None:
    body = {"score": 1.0, "name": "x"}
    digest = Digest(body)
    assert digest.matches(digest.value) and digest.matches(earlier_json_hash(body))
    assert not digest.matches(json_hash({"score": 2}))
    assert digest.as_stored(earlier_json_hash(body)) == earlier_json_hash(body)
    assert digest.as_stored(json_hash({"other": 1})) == digest.value
    assert digest.as_stored(None) == digest.value


def test_an_idempotency_fingerprint_stored_before_still_matches_its_retry() -> None:
    body = {"deadline_days": 1.0, "note": "n"}
    stored_before = earlier_json_hash(["POST", "/v1/reviews", body])
    assert fingerprint("POST", "/v1/reviews", body).matches(stored_before)
    assert not fingerprint("POST", "/v1/reviews", {**body, "note": "m"}).matches(stored_before)


@pytest.mark.parametrize(
    "raw", [b'{"a": NaN}', b'{"a": Infinity}', b'{"a": 1e400}', b'{"a": [9007199254740992]}']
)
def test_numbers_rfc_8785_cannot_write_are_refused_in_bodies(raw: bytes) -> None:
    from api.bodies import checked_body
    from api.problems import Problem

    with pytest.raises(Problem) as refused:
        checked_body(raw)
    assert refused.value.status in (400, 422)


# ---- the pack, built and verified offline --------------------------------------------------


def sources() -> Sources:
    report: dict[str, Any] = {"title": "Review", "share": 1.0, "objectives": [{"n": 1}]}
    report = {**report, "content_hash": json_hash(report)}
    return Sources(
        review_id="ece-2026",
        report_version=2,
        content_hash=report["content_hash"],
        published_at=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
        report=report,
        renderings=[
            Rendering("en", "<h1>Review</h1>", "# Review", b"%PDF-1.7 en"),
            Rendering("fr", "<h1>Examen</h1>", "# Examen", b"%PDF-1.7 fr"),
        ],
        submissions=[
            {
                "id": "s1",
                "version": 1,
                "kind": "national_report",
                "subject": "DEU",
                "accepted_at": "2026-01-01T00:00:00+00:00",
                "late": False,
                "schema_version": 2,
                "content": {"country": "DEU"},
            }
        ],
        annexes=[{"submission_id": "s1", "version": 1, "sha256": hashlib.sha256(b"A").hexdigest()}],
        annex_bytes={hashlib.sha256(b"A").hexdigest(): b"A"},
        answers=[{"task_id": "t1", "response": {"endorsement": "endorse"}}],
        meetings=[{"session_id": "m1", "summary": {"kind": "rapporteur_summary", "text": "Met"}}],
        events=[{"id": "e1", "type": "published", "data": {}}],
        schemas={"national_report.v2.json": {"type": "object"}},
    )


def rezipped(pack: bytes, change: dict[str, bytes | None]) -> bytes:
    """The pack with files replaced, added (bytes) or removed (None)."""
    with zipfile.ZipFile(io.BytesIO(pack)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    for name, content in change.items():
        if content is None:
            del files[name]
        else:
            files[name] = content
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def test_the_same_sources_give_the_same_bytes_and_the_pack_verifies() -> None:
    pack = build_pack(sources())
    assert build_pack(sources()) == pack
    assert verify_pack(pack) == []
    with zipfile.ZipFile(io.BytesIO(pack)) as archive:
        infos = archive.infolist()
        names = [i.filename for i in infos]
        manifest = json.loads(archive.read("manifest.json"))
    assert names == sorted(names)
    assert {
        "report.json",
        "report.html",
        "report.md",
        "report.pdf",
        "report.fr.pdf",
        "submissions/national_report/DEU/v1.json",
        "consultation/answers.json",
        "consultation/meetings.json",
        "audit/events.json",
        "schemas/national_report.v2.json",
        "SHA256SUMS",
    } <= set(names)
    assert all(
        i.compress_type == zipfile.ZIP_STORED
        and i.date_time == (2026, 3, 4, 5, 6, 6)
        and i.external_attr == 0o100644 << 16
        and i.extra == b""
        for i in infos
    )
    assert manifest["review_id"] == "ece-2026" and manifest["report_version"] == 2
    assert manifest["content_hash"] == sources().content_hash


def test_the_content_hash_is_recomputable_from_report_json_with_rfc8785() -> None:
    with zipfile.ZipFile(io.BytesIO(build_pack(sources()))) as archive:
        document = json.loads(archive.read("report.json"))
    stated = document.pop("content_hash")
    assert hashlib.sha256(rfc8785.dumps(document)).hexdigest() == stated


def test_sha256sum_checks_the_unzipped_pack(tmp_path: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(build_pack(sources()))) as archive:
        archive.extractall(tmp_path)
    checked = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"report.pdf": b"%PDF-1.7 forged"}, "report.pdf: SHA-256 differs from manifest.json"),
        ({"audit/events.json": None}, "audit/events.json: listed in manifest.json but missing"),
        ({"extra.txt": b"x"}, "extra.txt: not listed in manifest.json"),
        (
            {"report.json": canonical_json({"title": "Other", "content_hash": "0" * 64}).encode()},
            "report.json: its content differs from its content_hash",
        ),
    ],
)
def test_a_changed_pack_fails_naming_the_file(change: dict[str, bytes | None], named: str) -> None:
    assert named in verify_pack(rezipped(build_pack(sources()), change))


def test_the_command_verifies_a_pack_offline(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.zip", tmp_path / "bad.zip"
    good.write_bytes(build_pack(sources()))
    bad.write_bytes(rezipped(good.read_bytes(), {"report.md": b"# Forged"}))
    command = [
        sys.executable,
        "-c",
        "import sys; from reviewflow.cli import main; sys.exit(main(sys.argv[1:]))",
        "evidence",
        "verify",
    ]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}  # no DATABASE_URL, no Temporal
    ok = subprocess.run([*command, str(good)], capture_output=True, text=True, env=env)
    assert ok.returncode == 0 and ok.stdout.startswith("OK"), ok.stderr
    failed = subprocess.run([*command, str(bad)], capture_output=True, text=True, env=env)
    assert failed.returncode == 1 and "report.md: SHA-256 differs" in failed.stderr


# ---- through the API -----------------------------------------------------------------------


# Slow (about 6 s): a review driven to publication, its PDFs rendered.
@pytest.mark.slow
@pytest.mark.usefixtures("worker")
async def test_a_published_review_s_pack_is_the_same_at_every_download(
    api: Any, ece_secretariat: Any, make_account: Any, pool: asyncpg.Pool
) -> None:
    from tests.test_public_reports import in_approval

    run = await in_approval(api, ece_secretariat, make_account)
    url = f"{run.url}/evidence"
    before = await api.get(url, headers=ece_secretariat.headers)
    assert before.status == 409 and before.content_type == "application/problem+json"
    assert "not published" in (await before.json())["detail"]

    await run.ok("report/approve", {})
    first = await api.get(url, headers=ece_secretariat.headers)
    assert first.status == 200 and first.content_type == "application/zip"
    pack = await first.read()
    assert first.headers["ETag"] == f'"{hashlib.sha256(pack).hexdigest()}"'
    assert first.headers["Content-Disposition"].startswith("attachment; filename=")
    assert verify_pack(pack) == []
    again = await api.get(url, headers=ece_secretariat.headers)
    assert await again.read() == pack
    unchanged = {"If-None-Match": first.headers["ETag"], **ece_secretariat.headers}
    assert (await api.get(url, headers=unchanged)).status == 304

    # Built afresh from the database: the same bytes.
    await pool.execute("DELETE FROM evidence_packs WHERE review_id = $1", run.id)
    assert await (await api.get(url, headers=ece_secretariat.headers)).read() == pack
    with zipfile.ZipFile(io.BytesIO(pack)) as archive:
        names = archive.namelist()
        stored_pdf = await pool.fetchval(
            "SELECT pdf FROM reports WHERE review_id = $1 AND status = 'published'", run.id
        )
        assert archive.read("report.pdf") == stored_pdf
    assert "submissions/national_report/DEU/v1.json" in names
    assert "schemas/national_report.v2.json" in names
