"""Where uploaded files' bytes are kept: by their SHA-256, once per content.

`FileStore` is all the rest of the service asks of the storage, so that an object store could
hold the files instead; this deployment keeps them in PostgreSQL (`db.files`).
"""

from __future__ import annotations

from typing import Protocol

import asyncpg

from db.files import PostgresFileStore


class FileStore(Protocol):
    async def put(self, content: bytes) -> str:
        """Keep `content` (once, however many times it is put); its SHA-256 (hex)."""
        ...

    async def open(self, sha256: str) -> bytes | None:
        """The content kept under `sha256`; None when nothing is."""
        ...


def file_store(pool: asyncpg.Pool) -> FileStore:
    """The store this deployment keeps files in."""
    return PostgresFileStore(pool)
