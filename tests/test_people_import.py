"""Importing accounts from CSV: a preview naming each row's error by row and column, applying in
one transaction (all or nothing), the same file twice creating nothing the second time, and an
invitation mailed (over real SMTP) to each new account."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from temporalio.client import Client

from api.app import create_app
from config.settings import load_settings
from services import imports
from services.refusals import Refused
from tests.test_notifications import Inbox, inbox  # noqa: F401 (the fixture)
from web.background import BACKGROUND

HEADER = "name,email,organisation,category,country,role\n"


async def send(api: Any, account: Any, csv: str, dry_run: bool) -> tuple[int, Any]:
    response = await api.post(
        f"/v1/actors/import?dry_run={'true' if dry_run else 'false'}",
        data=csv.encode(),
        headers={**account.headers, "Content-Type": "text/csv"},
    )
    return response.status, await response.json(content_type=None)


async def accounts_with(pool: asyncpg.Pool, tag: str) -> list[str]:
    rows = await pool.fetch(
        "SELECT email FROM actors WHERE email LIKE $1 ORDER BY email", f"%{tag}%"
    )
    return [row["email"] for row in rows]


def good_rows(tag: str) -> str:
    return (
        f"Ann {tag},ann-{tag}@example.org,Diaspora Council {tag},diaspora_migrant_organisations,,"
        "stakeholder\n"
        f"Bob {tag},bob-{tag}@example.org,Diaspora Council {tag},diaspora_migrant_organisations,,"
        "stakeholder\n"
        f"Cid {tag},cid-{tag}@example.org,,,deu,focal_point\n"
    )


async def test_the_preview_names_each_rows_problem_and_writes_nothing(
    api: Any, pool: asyncpg.Pool, make_account: Any
) -> None:
    tag = secrets.token_hex(4)
    sec = await make_account("secretariat", regions=("ECE",))
    csv = (
        HEADER
        + good_rows(tag)
        + f"Dee {tag},not-an-address,,,,observer\n"  # row 5
        + f"Eve {tag},ann-{tag}@example.org,,,,observer\n"  # row 6: the address of row 2
        + f"Fay {tag},fay-{tag}@example.org,,,,secretariat\n"  # row 7: not a secretariat's to make
        + f"Gus {tag},gus-{tag}@example.org,Org,no_such,,stakeholder\n"  # row 8
        + f"Hal {tag},hal-{tag}@example.org,,,KEN,focal_point\n"  # row 9: not of ECE
        + f",ida-{tag}@example.org,,,,observer\n"  # row 10
    )
    status, preview = await send(api, sec, csv, dry_run=True)
    assert status == 200, preview
    assert preview["applied"] is False
    assert preview["counts"] == {"new": 3, "updated": 0, "unchanged": 0, "error": 6}
    errors = {
        row["row"]: sorted(e["column"] for e in row["errors"])
        for row in preview["rows"]
        if row["status"] == "error"
    }
    assert errors == {
        5: ["email"],
        6: ["email"],
        7: ["role"],
        8: ["category"],
        9: ["country"],
        10: ["name"],
    }
    assert "row 2" in preview["rows"][4]["errors"][0]["message"]
    assert await accounts_with(pool, tag) == []

    # Applied, a file with errors is refused whole: each error named, nothing written.
    status, problem = await send(api, sec, csv, dry_run=False)
    assert status == 422
    assert {e["pointer"] for e in problem["errors"]} >= {"/rows/5/email", "/rows/7/role"}
    assert await accounts_with(pool, tag) == []


async def test_the_same_file_twice_creates_nothing_the_second_time(
    api: Any, pool: asyncpg.Pool, make_account: Any
) -> None:
    tag = secrets.token_hex(4)
    sec = await make_account("secretariat", regions=("ECE",))
    csv = HEADER + good_rows(tag)
    status, done = await send(api, sec, csv, dry_run=False)
    assert status == 200, done
    assert done["applied"] is True and done["counts"]["new"] == 3
    emails = await accounts_with(pool, tag)
    assert len(emails) == 3
    # The two stakeholders of one organisation share it; the focal point is of the region.
    organisations = await pool.fetch(
        "SELECT DISTINCT organisation_id FROM actors WHERE email LIKE $1 AND role = 'stakeholder'",
        f"%{tag}%",
    )
    assert len(organisations) == 1
    regions = await pool.fetchval(
        "SELECT regions FROM actors WHERE email = $1", f"cid-{tag}@example.org"
    )
    assert regions == ["ECE"]

    status, again = await send(api, sec, csv, dry_run=False)
    assert status == 200 and again["counts"] == {
        "new": 0,
        "updated": 0,
        "unchanged": 3,
        "error": 0,
    }
    assert await accounts_with(pool, tag) == emails

    # A changed name updates the account the address names; the addresses match in any case.
    changed = csv.replace(f"Cid {tag},cid-{tag}", f"Cid Renamed {tag},CID-{tag.upper()}")
    status, updated = await send(api, sec, changed, dry_run=False)
    assert status == 200 and updated["counts"]["updated"] == 1, updated
    assert [r["changes"] for r in updated["rows"] if r["status"] == "updated"] == [["name"]]
    name = await pool.fetchval("SELECT name FROM actors WHERE email = $1", f"cid-{tag}@example.org")
    assert name == f"Cid Renamed {tag}"
    # A role an import does not change is a row's error.
    status, preview = await send(
        api, sec, HEADER + f"Cid {tag},cid-{tag}@example.org,,,,observer\n", dry_run=True
    )
    assert preview["rows"][0]["errors"][0]["column"] == "role"
    # So is a change an edit would refuse.
    status, preview = await send(
        api, sec, HEADER + f"Ann {tag},ann-{tag}@example.org,,no_such,,stakeholder\n", dry_run=True
    )
    assert preview["rows"][0]["errors"][0]["column"] == "category"


async def test_an_approver_is_imported_with_its_regions(
    api: Any, pool: asyncpg.Pool, make_account: Any
) -> None:
    tag = secrets.token_hex(4)
    sec = await make_account("secretariat", regions=("ECE",))
    csv = "name,email,role,regions\n" + f"Co-chair {tag},chair-{tag}@example.org,approver,ECE\n"
    elsewhere = csv.replace(",ECE\n", ",ESCAP\n")
    status, preview = await send(api, sec, elsewhere, dry_run=True)
    assert status == 200 and preview["rows"][0]["errors"][0]["column"] == "regions", preview
    status, done = await send(api, sec, csv, dry_run=False)
    assert status == 200 and done["counts"]["new"] == 1, done
    row = await pool.fetchrow(
        "SELECT role, regions FROM actors WHERE email = $1", f"chair-{tag}@example.org"
    )
    assert (row["role"], row["regions"]) == ("approver", ["ECE"])


async def test_a_failure_while_applying_writes_nothing(
    pool: asyncpg.Pool, make_account: Any
) -> None:
    """The rows are written in one transaction: one the database refuses undoes them all."""
    tag = secrets.token_hex(4)
    sec = await make_account("secretariat", regions=("ECE",))
    function, trigger = f"refuse_{tag}", f"refuse_{tag}_trigger"
    await pool.execute(
        f"""CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.email = 'boom-{tag}@example.org' THEN RAISE EXCEPTION 'refused'; END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER {trigger} BEFORE INSERT ON actors
            FOR EACH ROW EXECUTE FUNCTION {function}()"""
    )
    try:
        csv = HEADER + good_rows(tag) + f"Boom {tag},boom-{tag}@example.org,,,,observer\n"
        with pytest.raises(asyncpg.RaiseError):
            await imports.import_accounts(pool, sec.actor, csv.encode(), apply=True)
    finally:
        await pool.execute(f"DROP TRIGGER {trigger} ON actors; DROP FUNCTION {function}()")
    assert await accounts_with(pool, tag) == []


async def test_an_import_renames_only_organisations_of_ones_own_regions(
    pool: asyncpg.Pool, make_account: Any
) -> None:
    tag = secrets.token_hex(4)
    sec = await make_account("secretariat", regions=("ECE",))
    wide = await make_account(
        "stakeholder", organisation="Wide", stakeholder_category="academia",
        regions=("ECE", "ECA"), email=f"wide-{tag}@example.org",
    )  # fmt: skip
    await pool.execute(
        "UPDATE actors SET created_by = $1 WHERE id = $2", sec.actor.id, wide.actor.id
    )
    csv = HEADER + f"{wide.actor.name},wide-{tag}@example.org,Renamed,,,stakeholder\n"
    preview = await imports.import_accounts(pool, sec.actor, csv.encode(), apply=False)
    [row] = preview.rows
    assert row.status == "error" and row.errors[0].column == "organisation"
    with pytest.raises(Refused):
        await imports.import_accounts(pool, sec.actor, csv.encode(), apply=True)
    name = await pool.fetchval(
        "SELECT name FROM organisations WHERE id = $1", wide.actor.organisation_id
    )
    assert name == "Wide"


async def test_files_that_are_not_what_is_asked_are_refused_whole(
    api: Any, make_account: Any
) -> None:
    sec = await make_account("secretariat", regions=("ECE",))
    too_many = HEADER + "".join(
        f"P{n},p{n}@example.org,,,,observer\n" for n in range(imports.MAX_ROWS + 1)
    )
    for csv, words in (
        ("name;email;role\nA;a@example.org;observer\n", "first row must name the columns"),
        (HEADER, "no rows"),
        (too_many, f"more than {imports.MAX_ROWS} rows"),
    ):
        status, problem = await send(api, sec, csv, dry_run=True)
        assert status == 422 and words in problem["errors"][0]["message"], problem
    response = await api.post(
        "/v1/actors/import", data=b"\xff\xfe", headers={**sec.headers, "Content-Type": "text/csv"}
    )
    assert response.status == 422
    response = await api.post("/v1/actors/import", json={}, headers=sec.headers)
    assert response.status == 415


@pytest.fixture
async def mailing_api(
    settings: Any,
    pool: asyncpg.Pool,
    temporal_client: Client,
    inbox: tuple[Inbox, int],  # noqa: F811
    tmp_path: Path,
) -> AsyncIterator[tuple[TestClient[Any, Any], Inbox]]:
    """The API sending its mail to a real SMTP server."""
    handler, port = inbox
    values = {"REVIEWFLOW_DATA_DIR": str(tmp_path), "TEMPORAL_TASK_QUEUE": settings.task_queue}
    values |= {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_STARTTLS": "0"}
    app = create_app(load_settings(values), pool=pool, temporal=temporal_client)
    async with TestClient(TestServer(app)) as client:
        yield client, handler


async def test_each_new_account_gets_its_invitation(
    mailing_api: tuple[TestClient[Any, Any], Inbox], make_account: Any
) -> None:
    api, received = mailing_api
    tag = secrets.token_hex(4)
    sec = await make_account("secretariat", regions=("ECE",))
    status, done = await send(api, sec, HEADER + good_rows(tag), dry_run=False)
    assert status == 200, done
    await api.app[BACKGROUND].drain()
    invited = {
        message["To"].addresses[0].addr_spec: str(message["X-Reviewflow-Event"])
        for message in received.messages
    }
    assert invited == {
        f"{who}-{tag}@example.org": "account.invited" for who in ("ann", "bob", "cid")
    }
    # Imported again: nobody is invited twice.
    await send(api, sec, HEADER + good_rows(tag), dry_run=False)
    await api.app[BACKGROUND].drain()
    assert len(received.messages) == 3
