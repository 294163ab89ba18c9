"""Whether each service the settings name can be used, said in one line per service: for
`reviewflow check-config`, and before `api`, `worker` and `migrate` start."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiosmtplib
import asyncpg
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.service import RPCError, RPCStatusCode

from config.settings import Settings, SmtpSettings
from config.temporal import TemporalUnreachable, connect_temporal
from db.migrate import pending_migrations

# Long enough for a server across a slow network, short enough for an operator at a prompt.
CONNECT_TIMEOUT_S = 10.0


class ServiceProblem(RuntimeError):
    """A service cannot be used; the message is one line for the operator."""


@dataclass(frozen=True)
class Outcome:
    """One line of check-config: the service checked, and what was found."""

    service: str
    ok: bool
    detail: str

    def __str__(self) -> str:
        return f"{self.service}: {'ok' if self.ok else 'FAILED'}: {self.detail}"


def database_place(dsn: str) -> str:
    """Where a DATABASE_URL points, without its password."""
    try:
        parts = urlsplit(dsn)
        port = parts.port
    except ValueError:
        return "DATABASE_URL"
    host = parts.hostname or "the local socket"
    user = f"{parts.username}@" if parts.username else ""
    return f"{user}{host}{f':{port}' if port else ''}{parts.path or ''}"


@asynccontextmanager
async def database_connection(dsn: str) -> AsyncIterator[asyncpg.Connection[Any]]:
    """A connection to the database, or ServiceProblem saying why there is none."""
    place = f"PostgreSQL at {database_place(dsn)}"
    try:
        connection = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_S)
    except asyncpg.InvalidPasswordError:
        raise ServiceProblem(f"{place} refused the password") from None
    except asyncpg.InvalidCatalogNameError as error:
        raise ServiceProblem(f"{place}: {error}") from None
    except asyncpg.InvalidAuthorizationSpecificationError as error:
        raise ServiceProblem(f"{place} refused the user: {error}") from None
    except TimeoutError:
        raise ServiceProblem(f"{place} did not answer within {CONNECT_TIMEOUT_S:.0f}s") from None
    except socket.gaierror as error:
        raise ServiceProblem(f"{place}: the host is unknown ({error.strerror})") from None
    except OSError as error:
        raise ServiceProblem(f"{place} cannot be reached: {_os_reason(error)}") from None
    except (asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as error:
        raise ServiceProblem(f"{place}: {_one_line(error)}") from None
    try:
        yield connection
    finally:
        await connection.close()


async def check_database(dsn: str) -> Outcome:
    """Connected, and whether every migration is applied."""
    try:
        async with database_connection(dsn) as connection:
            pending = await pending_migrations(connection)
    except ServiceProblem as problem:
        return Outcome("PostgreSQL", False, str(problem))
    place = database_place(dsn)
    if pending:
        return Outcome(
            "PostgreSQL",
            False,
            f"connected to {place}, but {len(pending)} migration(s) are not applied (from"
            f" {pending[0]}): run `reviewflow migrate`",
        )
    return Outcome("PostgreSQL", True, f"connected to {place}; every migration is applied")


async def check_temporal(settings: Settings) -> Outcome:
    """Connected (with TLS and the API key, when set), and the namespace described."""
    address = settings.temporal_address
    namespace = settings.temporal_namespace
    secured = _temporal_security(settings)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            client = await connect_temporal(settings)
            await client.workflow_service.describe_namespace(
                DescribeNamespaceRequest(namespace=namespace)
            )
    except TemporalUnreachable as problem:
        return Outcome("Temporal", False, str(problem))
    except TimeoutError:
        return Outcome(
            "Temporal",
            False,
            f"Temporal at {address} did not answer within {CONNECT_TIMEOUT_S:.0f}s",
        )
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            detail = f"connected to {address}, but namespace {namespace!r} does not exist"
        else:
            detail = f"Temporal at {address} refused to describe namespace {namespace!r}: {error.message}"
        return Outcome("Temporal", False, detail)
    return Outcome(
        "Temporal", True, f"connected to {address}{secured}; namespace {namespace!r} exists"
    )


def _temporal_security(settings: Settings) -> str:
    tls = settings.temporal_tls
    on = (tls is not None and not tls.disabled) or (tls is None and settings.temporal_api_key)
    parts = []
    if on:
        parts.append("TLS with a client certificate" if tls and tls.client_cert else "TLS")
    if settings.temporal_api_key:
        parts.append("an API key")
    return f" ({' and '.join(parts)})" if parts else ""


async def check_smtp(smtp: SmtpSettings) -> Outcome:
    """Connected, greeted (EHLO), TLS as configured, signed in if a user is set; then QUIT,
    nothing sent."""
    place = f"SMTP at {smtp.host}:{smtp.port}"
    client = aiosmtplib.SMTP(
        hostname=smtp.host,
        port=smtp.port,
        start_tls=smtp.starttls,
        use_tls=smtp.tls,
        username=smtp.user,
        password=smtp.password,
        timeout=CONNECT_TIMEOUT_S,
    )
    try:
        await client.connect()
    except aiosmtplib.SMTPAuthenticationError as error:
        return Outcome(
            "SMTP",
            False,
            f"{place} refused the sign-in of {smtp.user}: {error.code} {error.message}",
        )
    except aiosmtplib.SMTPConnectError as error:
        cause = error.__cause__
        reason = _os_reason(cause) if isinstance(cause, OSError) else _one_line(error)
        return Outcome("SMTP", False, f"{place} cannot be reached: {reason}")
    except (aiosmtplib.SMTPException, OSError) as error:
        return Outcome("SMTP", False, f"{place}: {_one_line(error)}")
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()
    how = "TLS" if smtp.tls else "STARTTLS" if smtp.starttls else "no TLS"
    who = f", signed in as {smtp.user}" if smtp.user else ""
    return Outcome("SMTP", True, f"connected to {place} ({how}){who}; nothing sent")


def _os_reason(error: OSError) -> str:
    return error.strerror or _one_line(error)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__
