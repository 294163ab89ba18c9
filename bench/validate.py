"""Validate: `schemas.validate_document("national_report", ...)` on a full report, one core.

The document is tests/documents.py's complete national report (all 23 objectives). The process
is pinned to one CPU; each run validates for `--seconds` (and at most `--max-calls` times) and
the rate is the median over the runs. The first call, which builds the validator, is timed
apart. No services are needed, so none are started.

    python -m bench.validate [--quick] [--seconds 3] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import time

from bench.harness import Option, Report, machine_info, median, run_main
from tests import documents

GOAL_RATE = 2_000.0

# This scenario's options, after those every scenario takes (harness.parser).
OPTIONS: list[Option] = [
    ("--seconds", {"type": float, "default": None, "help": "per run; default 3 (quick: 1)"}),
    ("--max-calls", {"type": int, "default": 1_000_000}),
]


def measure(seconds: float, max_calls: int) -> tuple[float, int]:
    from schemas import validate_document

    document = documents.national_report("DEU")
    calls = 0
    started = time.perf_counter()
    ends = started + seconds
    while calls < max_calls and time.perf_counter() < ends:
        # Check the clock every 50 calls only: the loop itself must not weigh on the rate.
        for _ in range(50):
            validate_document("national_report", document)
        calls += 50
    elapsed = time.perf_counter() - started
    return calls / elapsed, calls


async def main(args: argparse.Namespace) -> Report:
    seconds = args.seconds or (1.0 if args.quick else 3.0)
    report = Report(
        "validate",
        f"full national report (23 objectives), valid; {args.runs} runs of {seconds:g} s "
        "on one pinned CPU, median",
    )
    report.machine = machine_info(None)
    pinned = "not pinned"
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        pinned = f"pinned to CPU {cpu}"

    from schemas import validate_document

    document = documents.national_report("DEU")
    started = time.perf_counter()
    problems = validate_document("national_report", document)
    first_ms = (time.perf_counter() - started) * 1000
    if problems:
        raise RuntimeError(f"the benchmark's document is not valid: {problems}")
    invalid = documents.national_report("Germany", reporting_period={})
    started = time.perf_counter()
    found = validate_document("national_report", invalid)
    invalid_ms = (time.perf_counter() - started) * 1000

    rates = []
    for run in range(args.runs):
        rate, calls = measure(seconds, args.max_calls)
        rates.append(rate)
        print(f"run {run + 1}: {rate:,.0f} validations/s ({calls:,} calls)")
    rate = median(rates)
    report.add(
        "valid full national reports per second",
        rate,
        goal=f"≥ {GOAL_RATE:,.0f}/s",
        met=rate >= GOAL_RATE,
    )
    report.add("time per validation (ms)", 1000 / rate)
    report.add("first call, building the validator (ms)", first_ms)
    report.add(f"(info) one invalid report, {len(found)} problems found (ms)", invalid_ms)
    report.notes.append(
        "Per run (validations/s): " + ", ".join(f"{r:,.0f}" for r in rates) + f"; {pinned}."
    )
    return report


if __name__ == "__main__":
    run_main(main, __doc__, OPTIONS)
