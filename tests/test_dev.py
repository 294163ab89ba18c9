"""`reviewflow dev` as a user runs it: start, use, Ctrl-C, start again on the same data.

The embedded Temporal dev server listens on the fixed ports 7233 and 8233 (UI), so the test
is skipped when something else holds them. The embedded PostgreSQL is started by `pg_ctl`,
which detaches it from the process that asked for it; it is found by its data folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from config.settings import DEFAULT_TEMPORAL_PORT, DEFAULT_TEMPORAL_UI_PORT, ENVIRONMENT_VARIABLES
from tests.processes import free_port

REVIEWFLOW = Path(sys.executable).parent / "reviewflow"
TEMPORAL_UI = f"http://127.0.0.1:{DEFAULT_TEMPORAL_UI_PORT}"
# Without a terminal (here: pipes), a generated admin token is left in a file of its own.
TOKEN_LINE = re.compile(r"^Admin token written to (\S+) \(readable by this user only\)")
READY_LINE = "Press Ctrl-C to stop."

READY_DEADLINE_S = 120.0
STOP_DEADLINE_S = 60.0


# Loopback only: never through a proxy from the environment.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def port_in_use(port: int) -> bool:
    """True if something listens on 127.0.0.1:`port` (a TIME_WAIT leftover does not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def http(
    method: str, url: str, *, token: str | None = None, body: Any = None
) -> tuple[int, Any] | None:
    """(status, parsed JSON or text), or None when nothing answers."""
    headers = {"Accept": "application/json"}
    data = None
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with _opener.open(request, timeout=5) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except (urllib.error.URLError, OSError):
        return None
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def is_alive(process: psutil.Process) -> bool:
    """Still a running process: not gone, not reused for another, not a zombie."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def name_of(process: psutil.Process) -> str:
    try:
        return process.name()
    except psutil.Error:
        return "?"


def with_descendants(process: psutil.Process) -> list[psutil.Process]:
    try:
        return [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


class Dev:
    """One `reviewflow dev` child: its stdout collected line by line, its stderr in a file."""

    def __init__(self, data_dir: Path, port: int, env: dict[str, str], log: Path) -> None:
        self.data_dir = data_dir
        self.api = f"http://127.0.0.1:{port}"
        self.log = log
        self.lines: list[str] = []
        self._stderr = open(log, "w")  # noqa: SIM115 -- closed once the child has exited
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [str(REVIEWFLOW), "dev"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            cwd=data_dir.parent,
            text=True,
            bufsize=1,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        def tail(path: Path, size: int) -> str:
            return path.read_text(errors="replace")[-size:] if path.exists() else ""

        return (
            "stdout:\n"
            + "\n".join(self.lines)
            + f"\nstderr (tail):\n{tail(self.log, 4000)}"
            + f"\nPostgreSQL log (tail):\n{tail(self.data_dir / 'postgres' / 'log', 2000)}"
        )

    def wait_until(self, what: str, check: Callable[[], bool], deadline_s: float) -> float:
        """Poll `check` until true; return the seconds since start. Fail if the child exits."""
        deadline = time.monotonic() + deadline_s
        while not check():
            if self.process.poll() is not None:
                if "is taken; stop what runs there" in self.output():
                    # Another run took the Temporal port between our check and its start.
                    pytest.skip("the embedded Temporal dev server's port was taken meanwhile")
                pytest.fail(
                    f"reviewflow dev exited ({self.process.returncode}) before {what}\n"
                    + self.output()
                )
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} within {deadline_s:.0f}s\n" + self.output())
            time.sleep(0.1)
        return time.monotonic() - self.started

    def ready(self) -> float:
        """Wait for /readyz 200 and the ready banner; return the seconds to /readyz 200."""

        def readyz() -> bool:
            answer = http("GET", f"{self.api}/readyz")
            return answer is not None and answer[0] == 200

        seconds = self.wait_until("/readyz 200", readyz, READY_DEADLINE_S)
        self.wait_until("ready banner", lambda: READY_LINE in self.lines, 10)
        return seconds

    def admin_tokens(self) -> list[str]:
        files = [Path(m.group(1)) for line in self.lines if (m := TOKEN_LINE.match(line))]
        assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files), files
        return [f.read_text().strip() for f in files]

    def process_tree(self) -> list[psutil.Process]:
        """This process and its descendants, plus every process using the data folder
        (the PostgreSQL postmaster is not a descendant) and their descendants."""
        found: dict[int, psutil.Process] = {}
        if self.process.poll() is None:
            with contextlib.suppress(psutil.NoSuchProcess):
                dev = psutil.Process(self.process.pid)
                found.update((p.pid, p) for p in with_descendants(dev))
        marker = str(self.data_dir)
        for candidate in psutil.process_iter(["cmdline"]):
            cmdline = candidate.info["cmdline"] or []
            if any(marker in argument for argument in cmdline):
                found.update((p.pid, p) for p in with_descendants(candidate))
        return list(found.values())

    def interrupt(self) -> int:
        """Ctrl-C: SIGINT to the dev process, then its exit code (within the deadline)."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"reviewflow dev still running {STOP_DEADLINE_S:.0f}s after SIGINT")
        finally:
            self._reader.join(5)
            self._stderr.close()

    def kill_everything(self) -> None:
        """After a failure: leave nothing behind for the next test or run."""
        tree = self.process_tree() if self.process.poll() is None else []
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_DEADLINE_S)
        tree += [p for p in self.process_tree() if p.pid != self.process.pid]
        for process in tree:
            with contextlib.suppress(psutil.Error):
                process.kill()
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._stderr.close()


def child_env(data_dir: Path, port: int, admin_token: str | None) -> dict[str, str]:
    # The child gets none of our configuration, only what the test sets.
    env = {k: v for k, v in os.environ.items() if k not in ENVIRONMENT_VARIABLES}
    env.update(
        REVIEWFLOW_HOST="127.0.0.1", REVIEWFLOW_PORT=str(port), REVIEWFLOW_DATA_DIR=str(data_dir)
    )
    if admin_token is not None:
        env["REVIEWFLOW_ADMIN_TOKEN"] = admin_token
    return env


@contextlib.contextmanager
def running_dev(data_dir: Path, port: int, admin_token: str | None, log: Path) -> Any:
    dev = Dev(data_dir, port, child_env(data_dir, port, admin_token), log)
    try:
        yield dev
    finally:
        if dev.process.returncode is None or dev.process_tree():
            dev.kill_everything()


def stop_and_check_nothing_left(dev: Dev) -> None:
    tree = dev.process_tree()
    names = {p.pid: name_of(p) for p in tree if is_alive(p)}
    assert len(names) >= 3, f"expected dev, Temporal and PostgreSQL processes, found {names}"
    assert any("postgres" in name for name in names.values()), names
    assert any("temporal" in name for name in names.values()), names

    interrupted = time.monotonic()
    code = dev.interrupt()
    print(f"stopped {time.monotonic() - interrupted:.1f}s after SIGINT")
    assert code == 0, f"exit code {code}\n" + dev.output()
    assert "reviewflow stopped" in dev.lines, dev.output()
    left = {p.pid: names[p.pid] for p in tree if p.pid in names and is_alive(p)}
    assert not left, f"still running after Ctrl-C: {left}\n" + dev.output()


# Starts the whole development stack: with the suites that take long (make test-slow).
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_dev_starts_serves_stops_and_keeps_its_data(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    for port in (DEFAULT_TEMPORAL_PORT, DEFAULT_TEMPORAL_UI_PORT):
        if port_in_use(port):
            pytest.skip(f"port {port} is in use; the embedded Temporal dev server needs it")
    # Not under tmp_path: a pytest session starting meanwhile resets /tmp/pytest-of-<user> to
    # mode 0700, which shuts PostgreSQL's system user (when run as root) out of its data folder.
    data_dir = Path(tempfile.mkdtemp(prefix="rf-dev-")).resolve() / "data"
    request.addfinalizer(lambda: shutil.rmtree(data_dir.parent, ignore_errors=True))
    port = free_port()

    # First start: everything is created; an admin token is printed once.
    with running_dev(data_dir, port, None, tmp_path / "first.log") as dev:
        seconds = dev.ready()
        print(f"first start: /readyz 200 after {seconds:.1f}s")
        assert f"{dev.api}/docs" in "\n".join(dev.lines), dev.output()
        assert TEMPORAL_UI in "\n".join(dev.lines), dev.output()
        tokens = dev.admin_tokens()
        assert len(tokens) == 1, dev.output()
        admin = tokens[0]

        answer = http("GET", f"{dev.api}/v1/regions/ECE", token=admin)
        assert answer is not None and answer[0] == 200, answer
        assert len(answer[1]["members"]) == 56
        anonymous = http("GET", f"{dev.api}/v1/regions/ECE")
        assert anonymous is not None and anonymous[0] == 401, anonymous

        created = http(
            "POST",
            f"{dev.api}/v1/actors",
            token=admin,
            body={"name": "ECE secretariat", "role": "secretariat", "regions": ["ECE"]},
        )
        assert created is not None and created[0] == 201, created
        secretariat = created[1]["token"]

        dev.wait_until(
            "Temporal UI", lambda: (http("GET", TEMPORAL_UI) or (0,))[0] == 200, READY_DEADLINE_S
        )
        stop_and_check_nothing_left(dev)

    # Second start on the same data: no new token; accounts are still there. A configured
    # token does not create a second admin once one exists.
    other = "rf_" + secrets.token_urlsafe(32)
    with running_dev(data_dir, port, other, tmp_path / "second.log") as dev:
        seconds = dev.ready()
        print(f"second start: /readyz 200 after {seconds:.1f}s")
        assert dev.admin_tokens() == [], dev.output()
        assert "Migrations applied" not in "\n".join(dev.lines), dev.output()

        me = http("GET", f"{dev.api}/v1/actors/me", token=admin)
        assert me is not None and me[0] == 200 and me[1]["role"] == "admin", me
        me = http("GET", f"{dev.api}/v1/actors/me", token=secretariat)
        assert me is not None and me[0] == 200, me
        assert (me[1]["role"], me[1]["regions"]) == ("secretariat", ["ECE"])
        answer = http("GET", f"{dev.api}/v1/actors/me", token=other)
        assert answer is not None and answer[0] == 401, answer

        stop_and_check_nothing_left(dev)
