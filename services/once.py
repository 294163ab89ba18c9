"""A use case run once per idempotency key: a retry gets the first answer and changes nothing
twice; the same key with other input is refused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from db import idempotency
from db.pool import Connection, Executor
from domain.access import Actor
from domain.canonical import Digest
from i18n import N_, gettext
from services.refusals import invalid

KEY_NAME = "Idempotency-Key"


@dataclass(frozen=True)
class Created:
    status: int
    body: dict[str, Any]
    # What a replay answers; differs from `body` only where the first answer held a secret.
    replay_body: dict[str, Any] | None = None

    @property
    def replayed(self) -> dict[str, Any]:
        return self.replay_body if self.replay_body is not None else self.body


def fingerprint(method: str, command: str, body: Any) -> Digest:
    """What tells one request from another under the same key. `command` is the address the
    request is sent to, so that answers stored before stay recognised; so is a fingerprint
    stored in the earlier canonical form (`Digest.matches`)."""
    return Digest([method, command, body])


# What a reused key was first used for, said whole in each language.
_USED_FOR = {
    "request": N_("This %(header)s was already used for a different request."),
    "submission": N_("This %(header)s was already used for a different submission."),
}


def key_reused(what: str = "request") -> Exception:
    sentence = _USED_FOR.get(what)
    message = (
        gettext(sentence) % {"header": KEY_NAME}
        if sentence
        else f"This {KEY_NAME} was already used for a different {what}."
    )
    return invalid(
        [("", gettext("%(header)s reused with another body") % {"header": KEY_NAME})], message
    )


async def replayed(conn: Executor, actor: Actor, key: str, request: Digest) -> Created | None:
    """The answer stored under the key for the request fingerprinted `request`; None if the key
    is new. Refused when the key was used for another request."""
    row = await idempotency.stored(conn, actor.id, key)
    if row is None:
        return None
    if not request.matches(row["request_hash"]):
        raise key_reused()
    return Created(row["status"], row["response"])


async def recorded(
    conn: Executor, actor: Actor, key: str, request: Digest, created: Created
) -> Created:
    """Store the answer to a request whose effect is already done elsewhere (in a workflow);
    when a concurrent request with the same key stored one first, that one is the answer, so
    both get the same."""
    if await idempotency.store_if_new(
        conn, actor.id, key, request.value, created.status, created.replayed
    ):
        return created
    stored = await replayed(conn, actor, key, request)
    assert stored is not None
    return stored


async def answered_once(
    conn: Executor,
    actor: Actor,
    key: str | None,
    request: Digest,
    act: Callable[[], Awaitable[Created]],
) -> Created:
    """Run a command made idempotent elsewhere (a workflow Update with a stable id), and keep
    its first answer under the key: a retry, even one the workflow can no longer recognise
    (after it continued as new, or ended), gets that answer; another body is refused."""
    if key is not None and (stored := await replayed(conn, actor, key, request)):
        return stored
    created = await act()
    if key is None:
        return created
    return await recorded(conn, actor, key, request, created)


async def created_once(
    pool: asyncpg.Pool,
    actor: Actor,
    key: str | None,
    request: Digest,
    create: Callable[[Connection], Awaitable[Created]],
) -> Created:
    """Run `create` in a transaction that also records its answer under the key.

    Two concurrent requests with one key serialise on the record's primary key: the second
    waits, fails to insert, rolls its own work back and answers with the first one's result.
    """
    if key is not None and (stored := await replayed(pool, actor, key, request)):
        return stored
    try:
        async with pool.acquire() as conn, conn.transaction():
            created = await create(conn)
            if key is not None:
                await idempotency.store(
                    conn, actor.id, key, request.value, created.status, created.replayed
                )
    except asyncpg.UniqueViolationError as error:
        if key is None or error.constraint_name != "idempotent_requests_pkey":
            raise
        stored = await replayed(pool, actor, key, request)
        assert stored is not None
        return stored
    return created
