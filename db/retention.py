"""Deleting what has expired, one bounded batch per call.

Each statement deletes at most `limit` rows, so a large backlog is worked off in short
transactions that never hold many locks for long. Rows another transaction holds (a session
being used, a delivery being retried) are skipped and left to a later batch, so several purges
at once neither wait for each other nor delete anything twice.

Nothing else is deleted but the bytes of files no annex names any more (taken off a draft
before any version was sent with them): submissions, the files sent with them, reports,
review and account events (the audit trail) and the delivery log's one row per message are
kept for ever.
"""

from __future__ import annotations

from datetime import timedelta

from db.pool import Executor

IDEMPOTENT_REQUESTS = """
    DELETE FROM idempotent_requests WHERE (actor_id, key) IN (
        SELECT actor_id, key FROM idempotent_requests
        WHERE created_at < now() - make_interval(days => $1)
        LIMIT $2 FOR UPDATE SKIP LOCKED)"""

# Only the attempts of a delivery that is settled (sent, or failed for good): one pending or
# being sent keeps its history, however old, and locking the delivery too keeps a retry that
# sets it pending meanwhile from losing its attempts.
DELIVERY_ATTEMPTS = """
    DELETE FROM delivery_attempts a USING (
        SELECT t.delivery_id, t.attempt FROM delivery_attempts t
        JOIN deliveries d ON d.id = t.delivery_id
        WHERE d.status IN ('sent', 'failed') AND t.at < now() - make_interval(days => $1)
        LIMIT $2 FOR UPDATE OF t SKIP LOCKED FOR SHARE OF d SKIP LOCKED) old
    WHERE a.delivery_id = old.delivery_id AND a.attempt = old.attempt"""

# A session ends at the latest `idle` ($3) after its last request (earlier if it reached its
# lifetime), so one last seen before that is over whichever way it ended.
WEB_SESSIONS = """
    DELETE FROM web_sessions WHERE token_hash IN (
        SELECT token_hash FROM web_sessions
        WHERE last_seen_at < now() - make_interval(days => $1) - $3::interval
        LIMIT $2 FOR UPDATE SKIP LOCKED)"""

# A link ends when it is used or expires, whichever comes first (`least` passes over NULL).
SIGN_IN_LINKS = """
    DELETE FROM sign_in_links WHERE token_hash IN (
        SELECT token_hash FROM sign_in_links
        WHERE least(used_at, expires_at) < now() - make_interval(days => $1)
        LIMIT $2 FOR UPDATE SKIP LOCKED)"""


# A file's bytes that no annex names: removed from a draft before any version was sent with
# them. Only after a day, since an upload in progress stores its file just before it names it
# (and storing a file again sets its `stored_at` to now).
UNNAMED_FILES = """
    DELETE FROM file_blobs WHERE sha256 IN (
        SELECT b.sha256 FROM file_blobs b
        WHERE b.stored_at < now() - make_interval(days => 1)
          AND NOT EXISTS (SELECT 1 FROM annexes a WHERE a.sha256 = b.sha256)
        LIMIT $1 FOR UPDATE SKIP LOCKED)"""


def _deleted(status: str) -> int:
    return int(status.split()[-1])


async def delete_idempotent_requests(conn: Executor, days: int, limit: int) -> int:
    """Up to `limit` answers to Idempotency-Keys stored more than `days` ago; how many."""
    return _deleted(await conn.execute(IDEMPOTENT_REQUESTS, days, limit))


async def delete_delivery_attempts(conn: Executor, days: int, limit: int) -> int:
    """Up to `limit` attempts, made more than `days` ago, of settled deliveries; how many."""
    return _deleted(await conn.execute(DELIVERY_ATTEMPTS, days, limit))


async def delete_web_sessions(conn: Executor, days: int, idle: timedelta, limit: int) -> int:
    """Up to `limit` web sessions ended more than `days` ago (`idle`: how long a session
    lasts past its last request); how many."""
    return _deleted(await conn.execute(WEB_SESSIONS, days, limit, idle))


async def delete_sign_in_links(conn: Executor, days: int, limit: int) -> int:
    """Up to `limit` sign-in links used or expired more than `days` ago; how many."""
    return _deleted(await conn.execute(SIGN_IN_LINKS, days, limit))


async def delete_unnamed_files(conn: Executor, limit: int) -> int:
    """Up to `limit` files no annex names, stored more than a day ago; how many."""
    return _deleted(await conn.execute(UNNAMED_FILES, limit))
