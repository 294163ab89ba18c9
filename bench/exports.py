"""Exports: a review's 50,000 submissions as CSV and as XLSX, beside a bare COPY of the same rows.

Stored first (bulk COPY, untimed, as bench/compile.py stores them): an ECE review with a
national report of each of its member States and `--inputs` stakeholder inputs.

Timed, each in a child process that does nothing else (so that its peak RSS, VmHWM, is the
export's): the submissions export (`reports.exports`: rows from a server-side cursor in
batches, flattened, neutralised, written as CSV or XLSX chunk by chunk) into a sink that counts
the bytes; and the bare primitive, `COPY (the export's query) TO STDOUT` as CSV into the same
kind of sink.

    python -m bench.exports [--quick] [--inputs 50000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time

from bench.compile import store_review
from bench.harness import Option, Report, at_most, median_per_metric, run_main, services

GOAL_RSS_MB = 150.0
CHILD_TIMEOUT_S = 1800

OPTIONS: list[Option] = [
    ("--inputs", {"type": int, "default": None, "help": "default 50000 (quick: 5000)"}),
]


async def in_child(kind: str, dsn: str, review_id: str) -> dict[str, float]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.exports_child", kind, "--dsn", dsn, "--review", review_id,
        stdout=subprocess.PIPE,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), CHILD_TIMEOUT_S)
    if process.returncode != 0:
        raise RuntimeError(f"the {kind} child failed with code {process.returncode}")
    measured = json.loads(out.decode().strip().splitlines()[-1])
    return {k: float(v) for k, v in measured.items()}


async def main(args: argparse.Namespace) -> Report:
    inputs = args.inputs or (5_000 if args.quick else 50_000)
    report = Report(
        "exports",
        f"{inputs:,} stakeholder inputs + a national report from each ECE member State; "
        f"median of {args.runs} runs, each export in a fresh child process",
        setup=(
            "Peak RSS is the high-water mark (VmHWM, from /proc/self/status) of a child process"
            " that imports reviewflow, connects and exports, nothing else; RSS before is its"
            " mark once connected. The bare primitive is `COPY (the export's query) TO STDOUT"
            " (FORMAT csv)` on the same rows, its bytes counted as they arrive. The export's"
            " bytes go to a counting sink rather than over HTTP."
        ),
    )
    async with services("exports") as svc:
        report.machine = svc.machine()
        started = time.perf_counter()
        review_id, states = await store_review(svc, inputs)
        print(f"stored {inputs + states:,} submissions in {time.perf_counter() - started:.1f} s")
        runs: dict[str, list[dict[str, float]]] = {"copy": [], "csv": [], "xlsx": []}
        for run in range(1, args.runs + 1):
            for kind, kind_runs in runs.items():
                kind_runs.append(await in_child(kind, svc.dsn, review_id))
            print(
                f"run {run}: "
                + "; ".join(
                    f"{kind} {m[-1]['seconds']:.2f} s, peak {m[-1]['peak_mb']:.0f} MB"
                    for kind, m in runs.items()
                )
            )
    bare, csv, xlsx = (median_per_metric(runs[kind]) for kind in ("copy", "csv", "xlsx"))
    for name, measured in (("CSV", csv), ("XLSX", xlsx)):
        report.compare(f"{name}: wall time (s)", "seconds", measured, bare)
        report.compare(
            f"{name}: peak RSS of the process (MB)",
            "peak_mb",
            measured,
            bare,
            at_most(measured["peak_mb"], GOAL_RSS_MB, " MB"),
        )
        report.compare(f"{name}: RSS before exporting (MB)", "baseline_mb", measured, bare)
        report.compare(f"{name}: file size (MB)", "megabytes", _mb(measured), _mb(bare))
    report.notes.append(
        "Per run (CSV / XLSX / COPY, s): "
        + "; ".join(
            f"{c['seconds']:.2f} / {x['seconds']:.2f} / {b['seconds']:.2f}"
            for c, x, b in zip(runs["csv"], runs["xlsx"], runs["copy"], strict=True)
        )
    )
    return report


def _mb(measured: dict[str, float]) -> dict[str, float]:
    return {"megabytes": measured["bytes"] / 1e6}


if __name__ == "__main__":
    run_main(main, __doc__, OPTIONS)
