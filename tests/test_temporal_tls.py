"""TLS and an API key to Temporal, from the SDK's environment variables.

The dev server speaks no TLS, so the tests put a real TLS-terminating proxy in front of it:
it requires a client certificate signed by the test's certificate authority, offers ALPN h2
(as a Temporal frontend does) and relays the bytes to the dev server.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.testing import WorkflowEnvironment

from config.check import environment_problems
from config.settings import load_settings
from config.temporal import TemporalUnreachable, connect_config, connect_temporal
from tests.cli_run import run_cli

SERVER_NAME = "temporal.test"


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


@pytest.fixture
async def proxy(authority: trustme.CA, temporal_env: WorkflowEnvironment) -> AsyncIterator[str]:
    """The address of a mutual-TLS proxy to the dev server, its certificate for SERVER_NAME."""
    host, port = temporal_env.client.service_client.config.target_host.rsplit(":", 1)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(SERVER_NAME).configure_cert(context)
    authority.configure_trust(context)
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])
    relays: set[asyncio.Task[object]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
        both = asyncio.gather(_relay(reader, upstream_writer), _relay(upstream_reader, writer))
        relays.add(both)
        both.add_done_callback(relays.discard)
        await both

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    try:
        yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        for task in list(relays):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*relays, return_exceptions=True)


@pytest.fixture
def files(tmp_path: Path, authority: trustme.CA) -> dict[str, str]:
    """The CA's certificate and a client certificate and key it signed, as PEM files."""
    client = authority.issue_cert("reviewflow-worker")
    paths = {
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": tmp_path / "ca.pem",
        "TEMPORAL_TLS_CLIENT_CERT_PATH": tmp_path / "client.pem",
        "TEMPORAL_TLS_CLIENT_KEY_PATH": tmp_path / "client.key",
    }
    authority.cert_pem.write_to_path(str(paths["TEMPORAL_TLS_SERVER_CA_CERT_PATH"]))
    client.cert_chain_pems[0].write_to_path(str(paths["TEMPORAL_TLS_CLIENT_CERT_PATH"]))
    client.private_key_pem.write_to_path(str(paths["TEMPORAL_TLS_CLIENT_KEY_PATH"]))
    return {name: str(path) for name, path in paths.items()}


async def test_mutual_tls_with_the_ca_a_client_certificate_and_the_server_name(
    proxy: str, files: dict[str, str], database_url: str
) -> None:
    env = {"TEMPORAL_ADDRESS": proxy, "TEMPORAL_TLS_SERVER_NAME": SERVER_NAME, **files}
    client = await connect_temporal(load_settings(env))
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace="default")
    )
    assert described.namespace_info.name == "default"
    ran = await run_cli("check-config", env={**env, "DATABASE_URL": database_url})
    assert ran.code == 0, ran
    assert (
        f"Temporal: ok: connected to {proxy} (TLS with a client certificate);"
        " namespace 'default' exists"
    ) in ran.out


async def test_without_the_client_certificate_the_wrong_ca_or_server_name_it_fails_in_one_line(
    proxy: str, files: dict[str, str], tmp_path: Path
) -> None:
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    good = {"TEMPORAL_ADDRESS": proxy, "TEMPORAL_TLS_SERVER_NAME": SERVER_NAME, **files}
    without_certificate = {
        k: v
        for k, v in good.items()
        if k.startswith("TEMPORAL_TLS_SERVER") or k == "TEMPORAL_ADDRESS"
    }
    wrong_ca = {**good, "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(other)}
    wrong_name = {k: v for k, v in good.items() if k != "TEMPORAL_TLS_SERVER_NAME"}
    cases = {
        "; does it want a client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH)": without_certificate,
        "the server's certificate is not signed by TEMPORAL_TLS_SERVER_CA_CERT_PATH": wrong_ca,
        "the server's certificate is not for this host name; set TEMPORAL_TLS_SERVER_NAME": (
            wrong_name
        ),
    }
    for reason, env in cases.items():
        with pytest.raises(TemporalUnreachable) as refused:
            await connect_temporal(load_settings(env))
        message = str(refused.value)
        assert message.startswith(f"Temporal at {proxy} cannot be reached: "), message
        assert reason in message, message
        assert "\n" not in message


async def test_check_config_says_a_refused_handshake_in_one_line(
    proxy: str, files: dict[str, str], database_url: str
) -> None:
    env = {
        "TEMPORAL_ADDRESS": proxy,
        "TEMPORAL_TLS_SERVER_NAME": SERVER_NAME,
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": files["TEMPORAL_TLS_SERVER_CA_CERT_PATH"],
        "DATABASE_URL": database_url,
    }
    ran = await run_cli("check-config", env=env)
    assert ran.code == 1, ran
    [temporal] = [line for line in ran.out if line.startswith("Temporal:")]
    assert temporal.startswith(
        f"Temporal: FAILED: Temporal at {proxy} cannot be reached: the server closed the connection ("
    ), temporal


def test_bad_tls_files_are_each_named_in_one_line(
    files: dict[str, str], tmp_path: Path, authority: trustme.CA
) -> None:
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("a certificate, believe me\n")
    other_key = tmp_path / "other.key"
    authority.issue_cert("someone-else").private_key_pem.write_to_path(str(other_key))
    missing = tmp_path / "missing.pem"
    cases = {
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": (
            str(missing),
            f"TEMPORAL_TLS_SERVER_CA_CERT_PATH: {missing} does not exist",
        ),
        "TEMPORAL_TLS_CLIENT_CERT_PATH": (
            str(not_pem),
            f"TEMPORAL_TLS_CLIENT_CERT_PATH: {not_pem} is not a PEM certificate",
        ),
        "TEMPORAL_TLS_CLIENT_KEY_PATH": (
            str(other_key),
            f"TEMPORAL_TLS_CLIENT_KEY_PATH: {other_key} is not the PEM private key of the"
            " certificate in TEMPORAL_TLS_CLIENT_CERT_PATH",
        ),
    }
    for name, (path, problem) in cases.items():
        env = {"TEMPORAL_ADDRESS": "temporal.example.org:7233", **files, name: path}
        assert environment_problems(env) == [problem]
        with pytest.raises(SystemExit, match="^" + problem.replace("(", r"\(")):
            load_settings(env)
    half = {k: v for k, v in files.items() if k != "TEMPORAL_TLS_CLIENT_KEY_PATH"}
    assert environment_problems(half) == [
        "TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together: set both"
    ]


async def test_the_api_key_reaches_the_connection(temporal_env: WorkflowEnvironment) -> None:
    address = temporal_env.client.service_client.config.target_host
    key = "a-temporal-cloud-api-key"
    # A key alone means TLS with the system's authorities, as Temporal Cloud wants.
    cloud = load_settings({"TEMPORAL_ADDRESS": address, "TEMPORAL_API_KEY": key})
    assert connect_config(cloud) == {
        "target_host": address,
        "namespace": "default",
        "api_key": key,
        "tls": True,
    }
    assert key not in repr(cloud)
    # The dev server has no TLS and ignores the key: TLS turned off, the key still sent.
    plain = load_settings(
        {"TEMPORAL_ADDRESS": address, "TEMPORAL_API_KEY": key, "TEMPORAL_TLS": "0"}
    )
    assert connect_config(plain)["tls"] is False
    client = await connect_temporal(plain)
    assert client.api_key == key
    await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace="default"))
