"""A local SMTP server (aiosmtpd) in a process of its own that counts what it accepts.

Its own process, so that accepting mail does not share the interpreter (and its GIL) with the
service being measured; the counts come back through shared memory. Messages are counted by
their `X-Reviewflow-Event` header (the bare primitive's carry `X-Reviewflow-Event: bench.bare`).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import re
import socket
from dataclasses import dataclass
from typing import Any

KINDS = ("call.opened", "consultation.opened", "bench.bare", "other")
_EVENT = re.compile(rb"^X-Reviewflow-Event:\s*(\S+)", re.MULTILINE | re.IGNORECASE)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Counter:
    def __init__(self, counts: Any, sizes: Any) -> None:
        self.counts, self.sizes = counts, sizes

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.original_content or envelope.content
        head = content.split(b"\r\n\r\n", 1)[0]
        found = _EVENT.search(head)
        kind = found.group(1).decode() if found else "other"
        index = KINDS.index(kind) if kind in KINDS else KINDS.index("other")
        with self.counts.get_lock():
            self.counts[index] += 1
            self.sizes[index] += len(content)
        return "250 Message accepted"


def _serve(port: int, counts: Any, sizes: Any, ready: Any, stop: Any) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(_Counter(counts, sizes), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        stop.wait(3600)  # bounded: a forgotten sink ends by itself within the hour
    finally:
        controller.stop()


@dataclass
class Sink:
    port: int
    counts: Any
    sizes: Any
    process: multiprocessing.process.BaseProcess
    stop_event: multiprocessing.synchronize.Event

    def count(self, kind: str) -> int:
        return int(self.counts[KINDS.index(kind)])

    def mean_size(self, kind: str) -> float:
        n = self.count(kind)
        return self.sizes[KINDS.index(kind)] / n if n else float("nan")

    def stop(self) -> None:
        self.stop_event.set()
        self.process.join(15)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


def start_sink() -> Sink:
    context = multiprocessing.get_context("spawn")
    counts = context.Array("q", len(KINDS))
    sizes = context.Array("q", len(KINDS))
    ready, stop = context.Event(), context.Event()
    port = _free_port()
    process = context.Process(
        target=_serve, args=(port, counts, sizes, ready, stop), name="bench-smtp-sink"
    )
    process.start()
    if not ready.wait(30):
        stop.set()
        process.terminate()
        raise RuntimeError("the SMTP sink did not start within 30 s")
    return Sink(port, counts, sizes, process, stop)
