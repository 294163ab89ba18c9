"""Numbered SQL migrations, applied in order under an advisory lock and recorded.

Safe to run concurrently (the lock serialises runners; each re-reads what is applied) and
twice (applied files are skipped). Each file runs in its own transaction with its record.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

from db.pool import Connection

# An arbitrary constant shared by every reviewflow process: "rvwflow" as an integer.
MIGRATION_LOCK_ID = 0x7276_7766_6C6F_77

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations() -> list[Migration]:
    folder = resources.files("db") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return found


class MigrationMismatch(RuntimeError):
    """An applied migration's file changed since it was applied."""


async def migrate(connection: Connection) -> list[str]:
    """Apply every migration not yet applied; return the names of those applied now."""
    applied_now: list[str] = []
    await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
    try:
        await connection.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version integer PRIMARY KEY,
                   name text NOT NULL,
                   checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        rows = await connection.fetch("SELECT version, checksum FROM schema_migrations")
        applied = {row["version"]: row["checksum"] for row in rows}
        for migration in load_migrations():
            if migration.version in applied:
                if applied[migration.version] != migration.checksum:
                    raise MigrationMismatch(f"{migration.name} changed after it was applied")
                continue
            async with connection.transaction():
                await connection.execute(migration.sql)
                await connection.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            applied_now.append(migration.name)
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_ID)
    return applied_now


async def migrate_dsn(dsn: str) -> list[str]:
    connection = await asyncpg.connect(dsn)
    try:
        return await migrate(connection)
    finally:
        await connection.close()


async def pending_migrations(connection: Connection) -> list[str]:
    """The names of the migrations not yet applied: every one on a database never migrated."""
    if not await connection.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL"):
        return [migration.name for migration in load_migrations()]
    applied = {
        row["version"] for row in await connection.fetch("SELECT version FROM schema_migrations")
    }
    return [migration.name for migration in load_migrations() if migration.version not in applied]
