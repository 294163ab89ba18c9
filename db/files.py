"""Files' bytes in PostgreSQL (`file_blobs`): kept once per content, by their SHA-256.

Every API process reaches the database already, so several replicas need no shared disk, and
a backup of the database holds the files with the rows that name them.
"""

from __future__ import annotations

import asyncio

import asyncpg

from domain.canonical import sha256_hex


class PostgresFileStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def put(self, content: bytes) -> str:
        # Off the loop: hashing 20 MB takes a while.
        digest = await asyncio.to_thread(sha256_hex, content)
        await self._pool.execute(
            # Stored again: the time is now, so the purge of files no annex names
            # (db.retention) leaves it to the upload naming it.
            """INSERT INTO file_blobs (sha256, size, content) VALUES ($1, $2, $3)
               ON CONFLICT (sha256) DO UPDATE SET stored_at = now()""",
            digest,
            len(content),
            content,
        )
        return digest

    async def open(self, sha256: str) -> bytes | None:
        content: bytes | None = await self._pool.fetchval(
            "SELECT content FROM file_blobs WHERE sha256 = $1", sha256
        )
        return content
