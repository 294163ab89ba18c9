"""reviewflow's processes as in production, for the slow tests and the benchmarks.

`reviewflow api`, `worker` and `migrate` run as child processes of their own, configured only
by the environment the caller gives them, each writing to a log file, each killed with SIGKILL
(no handler runs, nothing is flushed) and started again as the caller needs. `Inbox` is an
aiosmtpd handler recording every message the SMTP server accepted; it can hold the answers to
DATA, so that a sender is killed at a known point: before the server accepted what it sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiosmtpd.controller import Controller

from config.settings import ENVIRONMENT_VARIABLES
from reviewflow.embedded import EmbeddedTemporal

REVIEWFLOW = Path(sys.executable).parent / "reviewflow"

START_DEADLINE_S = 90.0
API_READY = "API on "
WORKER_READY = "worker on task queue"


# What a request to a process that died, or is dying, raises instead of an answer.
UNANSWERED = (aiohttp.ClientError, TimeoutError, ConnectionError)


async def poll_until(
    what: str,
    check: Callable[[], Awaitable[Any]],
    deadline_s: float,
    poll_s: float,
    logs: Callable[[], str],
) -> Any:
    """Poll `check` (a request that got no answer counts as not yet) until it is truthy; at
    the deadline, fail naming `what` with the processes' `logs`."""
    end = time.monotonic() + deadline_s
    while True:
        with contextlib.suppress(*UNANSWERED):
            if result := await check():
                return result
        if time.monotonic() > end:
            pytest.fail(f"no {what} within {deadline_s:.0f}s\n{logs()}")
        await asyncio.sleep(poll_s)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def started_smtp(handler: Any, attempts: int = 5) -> tuple[Controller, int]:
    """An aiosmtpd server on a free loopback port, started at once. Between choosing a free port
    and binding it, another process (the Temporal dev server binds several ports of its own) may
    take it; the server then tries another port."""
    for attempt in range(attempts):
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        try:
            controller.start()
        except OSError:
            if attempt == attempts - 1:
                raise
            continue
        return controller, port
    raise AssertionError("unreachable")


class Child:
    """One `reviewflow COMMAND` process, killed and started again as the caller needs."""

    def __init__(self, command: str, env: dict[str, str], log: Path, ready_line: str) -> None:
        self.command = command
        self.env = env
        self.log = log
        self.ready_line = ready_line
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills: list[float] = []
        self._offset = 0

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> None:
        assert not self.running, f"{self.command} is already running"
        self.starts += 1
        with open(self.log, "ab") as out:
            out.write(f"==== start {self.starts}\n".encode())
            out.flush()
            self._offset = out.tell()
            # A session of its own: a signal meant for pytest never reaches it.
            self.process = subprocess.Popen(
                [str(REVIEWFLOW), self.command],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL: no signal handler runs, no activity finishes, nothing is flushed."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.kills.append(time.monotonic())
        self.process.wait(10)

    def output(self) -> str:
        """What this start has written so far."""
        if not self.log.exists():
            return ""
        with open(self.log, "rb") as log:
            log.seek(self._offset)
            return log.read().decode(errors="replace")

    def tail(self, size: int = 4000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.command} ({self.log.name}, last {size} chars):\n{text[-size:]}"

    async def ready(self, deadline_s: float = START_DEADLINE_S) -> float:
        """Wait for the ready line of this start; the seconds it took."""
        started = time.monotonic()
        while self.ready_line not in self.output():
            if self.process is None or self.process.poll() is not None:
                pytest.fail(f"reviewflow {self.command} exited before it was ready\n{self.tail()}")
            if time.monotonic() - started > deadline_s:
                pytest.fail(
                    f"reviewflow {self.command} not ready in {deadline_s:.0f}s\n{self.tail()}"
                )
            await asyncio.sleep(0.1)
        return time.monotonic() - started


def api_child(env: dict[str, str], log: Path) -> Child:
    return Child("api", env, log, API_READY)


def worker_child(env: dict[str, str], log: Path) -> Child:
    return Child("worker", env, log, WORKER_READY)


def kill_temporal(temporal: EmbeddedTemporal) -> None:
    if temporal.process is not None and temporal.process.poll() is None:
        temporal.process.kill()
        temporal.process.wait(10)


def run_migrate(env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(REVIEWFLOW), "migrate"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"reviewflow migrate failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout.strip()


def child_env(
    root: Path,
    dsn: str,
    temporal_address: str,
    *,
    smtp_port: int | None = None,
    admin_token: str | None = None,
    task_queue: str | None = None,
) -> dict[str, str]:
    """What a child process is configured with: none of this process's configuration, only
    what is set here; its own REVIEWFLOW_PORT (copy and change it for a second API)."""
    env = {k: v for k, v in os.environ.items() if k not in ENVIRONMENT_VARIABLES}
    env.update(
        DATABASE_URL=dsn,
        TEMPORAL_ADDRESS=temporal_address,
        TEMPORAL_TASK_QUEUE=task_queue or f"rf-{secrets.token_hex(4)}",
        REVIEWFLOW_HOST="127.0.0.1",
        REVIEWFLOW_PORT=str(free_port()),
        REVIEWFLOW_DATA_DIR=str(root / "data"),
        REVIEWFLOW_NOTIFY_RATE="0",
        PYTHONUNBUFFERED="1",
    )
    if admin_token is not None:
        env["REVIEWFLOW_ADMIN_TOKEN"] = admin_token
    if smtp_port is not None:
        env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port), SMTP_STARTTLS="0")
    return env


@dataclass(frozen=True)
class Received:
    at: float
    message_id: str
    to: str
    kind: str


class Inbox:
    """An aiosmtpd handler recording every message the SMTP server accepted, and when.

    `hold()` makes the server keep each message that arrives meanwhile waiting for its answer;
    `release()` answers those `451` (not accepted, to be sent again) and accepts again. A
    sender killed while held is thus killed before the server accepted what it was sending.
    The handler runs in the SMTP server's thread: the hold is a thread-safe flag it polls.
    """

    HOLD_POLL_S = 0.01

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._holding = threading.Event()
        self._held = 0
        self._lock = threading.Lock()

    @property
    def held(self) -> int:
        """The messages waiting for their answer now."""
        with self._lock:
            return self._held

    def hold(self) -> None:
        self._holding.set()

    def release(self) -> None:
        self._holding.clear()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self._holding.is_set():
            with self._lock:
                self._held += 1
            try:
                # Set and cleared from another thread, which cannot set an asyncio.Event here.
                while self._holding.is_set():  # noqa: ASYNC110
                    await asyncio.sleep(self.HOLD_POLL_S)
            finally:
                with self._lock:
                    self._held -= 1
            return "451 Held by the test: not accepted, try again later"
        message = message_from_bytes(envelope.content, policy=default)  # type: ignore[arg-type]
        self.received.append(
            Received(
                time.monotonic(),
                str(message["Message-ID"]),
                message["To"].addresses[0].addr_spec,
                str(message["X-Reviewflow-Event"]),
            )
        )
        return "250 Message accepted for delivery"
