"""`reviewflow check-config` against real services: PostgreSQL, a Temporal dev server and an
SMTP server (aiosmtpd), run as an operator runs it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from temporalio.testing import WorkflowEnvironment

from config.check import environment_problems
from config.settings import load_settings
from reviewflow.checks import database_place
from tests.cli_run import run_cli
from tests.processes import free_port

USER, PASSWORD = "relay", "a-long-relay-password"


class Counting:
    """An SMTP handler that counts greetings and messages: check-config must send none."""

    def __init__(self) -> None:
        self.greetings = 0
        self.messages = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.greetings += 1
        session.host_name = hostname  # what aiosmtpd's own EHLO would have done
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages += 1
        return "250 OK"


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
    ok = isinstance(auth, LoginPassword) and (auth.login, auth.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    # Not handled: aiosmtpd answers a refusal itself (535).
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Counting]]:
    handler = Counting()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


@pytest.fixture
def services(database_url: str, temporal_env: WorkflowEnvironment) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
    }


async def test_all_is_well_each_service_says_ok_and_nothing_is_sent(
    services: dict[str, str], smtp_server: tuple[int, Counting]
) -> None:
    port, handler = smtp_server
    smtp = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_STARTTLS": "0",
        "SMTP_USER": USER,
        "SMTP_PASSWORD": PASSWORD,
        "SMTP_ALLOW_PLAINTEXT_AUTH": "1",
    }
    ran = await run_cli("check-config", env={**services, **smtp})
    assert ran.code == 0, ran
    assert ran.out == [
        "variables: ok",
        f"PostgreSQL: ok: connected to {database_place(services['DATABASE_URL'])};"
        " every migration is applied",
        f"Temporal: ok: connected to {services['TEMPORAL_ADDRESS']}; namespace 'default' exists",
        f"SMTP: ok: connected to SMTP at 127.0.0.1:{port} (no TLS), signed in as {USER};"
        " nothing sent",
    ]
    assert handler.greetings == 1 and handler.messages == 0


async def test_each_unusable_service_is_named_with_what_is_wrong(
    fresh_database: str, temporal_env: WorkflowEnvironment, smtp_server: tuple[int, Counting]
) -> None:
    port, handler = smtp_server
    address = temporal_env.client.service_client.config.target_host
    env = {
        "DATABASE_URL": fresh_database,
        "TEMPORAL_ADDRESS": address,
        "TEMPORAL_NAMESPACE": "no-such-namespace",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_STARTTLS": "0",
        "SMTP_USER": USER,
        "SMTP_PASSWORD": "not-the-password",
        "SMTP_ALLOW_PLAINTEXT_AUTH": "1",
    }
    ran = await run_cli("check-config", env=env)
    assert ran.code == 1, ran
    variables, database, temporal, smtp = ran.out
    assert variables == "variables: ok"
    assert database.startswith(
        f"PostgreSQL: FAILED: connected to {database_place(fresh_database)}, but"
    )
    assert database.endswith(
        "migration(s) are not applied (from 0001_actors.sql): run `reviewflow migrate`"
    )
    assert temporal == (
        f"Temporal: FAILED: connected to {address}, but namespace 'no-such-namespace' does not exist"
    )
    assert smtp.startswith(f"SMTP: FAILED: SMTP at 127.0.0.1:{port} refused the sign-in of {USER}")
    assert handler.messages == 0


async def test_unreachable_services_are_one_line_each() -> None:
    database_port, temporal_port, smtp_port = free_port(), free_port(), free_port()
    env = {
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{database_port}/reviewflow",
        "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
    }
    ran = await run_cli("check-config", env=env)
    assert ran.code == 1, ran
    assert ran.out[1:] == [
        f"PostgreSQL: FAILED: PostgreSQL at postgres@127.0.0.1:{database_port}/reviewflow"
        f" cannot be reached: Connect call failed ('127.0.0.1', {database_port})",
        f"Temporal: FAILED: Temporal at 127.0.0.1:{temporal_port} cannot be reached:"
        " Connection refused",
        f"SMTP: FAILED: SMTP at 127.0.0.1:{smtp_port} cannot be reached: Connect call failed"
        f" ('127.0.0.1', {smtp_port})",
    ]
    assert not ran.err


BAD_VARIABLES = {
    "REVIEWFLOW_PORT": "eighty",
    "REVIEWFLOW_RATE_BURST": "0",
    "SMTP_HOST": "mail.example.org",
    "SMTP_PORT": "70000",
    "TEMPORAL_ADDRESS": "temporal.example.org",
    "TEMPORAL_TLS": "perhaps",
    "REVIEWFLOW_WEBHOOK_ALLOW": "not a network",
}


async def test_every_bad_variable_is_named_at_once_and_nothing_is_reached() -> None:
    ran = await run_cli("check-config", env=BAD_VARIABLES)
    assert ran.code == 2, ran
    assert ran.out == [
        "variables: FAILED: DATABASE_URL is not set",
        "variables: FAILED: REVIEWFLOW_PORT must be a port number, got 'eighty'",
        "variables: FAILED: TEMPORAL_ADDRESS must be host:port, such as"
        " temporal.example.org:7233, got 'temporal.example.org'",
        "variables: FAILED: TEMPORAL_TLS must be true or false, got 'perhaps'",
        "variables: FAILED: SMTP_PORT must be between 1 and 65535, got 70000",
        "variables: FAILED: REVIEWFLOW_RATE_BURST must be a whole number, at least 1, got '0'",
        *[line for line in ran.out if "REVIEWFLOW_WEBHOOK_ALLOW" in line],
    ]
    assert len([line for line in ran.out if "REVIEWFLOW_WEBHOOK_ALLOW" in line]) == 1


def test_the_checks_of_load_settings_are_the_checks_of_check_config() -> None:
    problems = environment_problems(BAD_VARIABLES)
    assert len(problems) == 5
    with pytest.raises(SystemExit) as stopped:
        load_settings(BAD_VARIABLES)
    assert str(stopped.value).splitlines() == problems
