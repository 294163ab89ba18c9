"""Where uploaded files' bytes are kept: by their SHA-256, once per content.

`FileStore` is all the rest of the service asks of the storage, so that an object store could
hold the files instead. The one store here keeps them in PostgreSQL (`file_blobs`), which every
API process reaches already: several replicas need no shared disk, and a backup of the
database holds the files with the rows that name them.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

import asyncpg


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class FileStore(Protocol):
    async def put(self, content: bytes) -> str:
        """Keep `content` (once, whatever number of times it is put); its SHA-256 (hex)."""
        ...

    async def open(self, sha256: str) -> bytes | None:
        """The content kept under `sha256`; None when nothing is."""
        ...

    async def exists(self, sha256: str) -> bool: ...


class PostgresFileStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def put(self, content: bytes) -> str:
        digest = sha256_of(content)
        await self._pool.execute(
            """INSERT INTO file_blobs (sha256, size, content) VALUES ($1, $2, $3)
               ON CONFLICT (sha256) DO NOTHING""",
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

    async def exists(self, sha256: str) -> bool:
        return bool(
            await self._pool.fetchval(
                "SELECT EXISTS (SELECT 1 FROM file_blobs WHERE sha256 = $1)", sha256
            )
        )


def file_store(pool: asyncpg.Pool) -> FileStore:
    """The store this deployment keeps files in."""
    return PostgresFileStore(pool)
