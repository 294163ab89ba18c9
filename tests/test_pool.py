"""The pool gives connections back without resetting their session (db/pool.py): it holds only
while no session state outlives a transaction, which these tests keep so."""

from __future__ import annotations

import re
from pathlib import Path

from db.pool import create_pool

ROOT = Path(__file__).resolve().parent.parent
# Code whose queries run on pooled connections, and the SQL functions they call.
POOLED = ("activities", "api", "db", "reports", "reviewflow", "services", "web", "worker.py")
# The migrations' lock is the session's, on a connection of their own (db/migrate.py).
OWN_CONNECTION = {ROOT / "db" / "migrate.py"}
# Statements whose effect would outlive their transaction on a pooled connection (a SET
# statement opens a query string or follows another statement; UPDATE's SET does neither).
SESSION_STATE = re.compile(
    r"\bLISTEN\b|add_listener|set_config\(|pg_advisory_lock(_shared)?\("
    r"|([\"';]\s*)SET\s+(SESSION\s+)?(?!LOCAL\b)\w"
)


def _sources() -> list[Path]:
    found: list[Path] = []
    for name in POOLED:
        path = ROOT / name
        found += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return [p for p in found if p not in OWN_CONNECTION] + sorted(
        (ROOT / "db" / "migrations").glob("*.sql")
    )


def test_no_session_state_outlives_a_transaction() -> None:
    offending = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _sources()
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if SESSION_STATE.search(line)
    ]
    assert offending == []


def test_the_check_finds_session_state() -> None:
    assert SESSION_STATE.search("SELECT pg_advisory_lock($1)")
    assert SESSION_STATE.search('await conn.execute("SET search_path TO x")')
    assert not SESSION_STATE.search('"SET LOCAL statement_timeout = 1"')
    assert not SESSION_STATE.search("\"UPDATE t SET status = 'accepted'\"")


async def test_a_transaction_left_open_is_rolled_back_on_release(database_url: str) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await conn.execute("BEGIN")
            await conn.execute("CREATE TEMPORARY TABLE left_open (x int)")
        async with pool.acquire() as conn:
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT to_regclass('pg_temp.left_open')") is None
    finally:
        await pool.close()
