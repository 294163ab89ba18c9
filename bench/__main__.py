"""Run every benchmark, one after another, each in a process of its own: `python -m bench`.

Arguments are passed to every scenario (`python -m bench --quick`, `--no-write`);
`--only ingest,compile` runs a subset. Exits non-zero if a scenario failed to run (a missed
goal is a result, reported in its table, not a failure).
"""

from __future__ import annotations

import subprocess
import sys
import time

SCENARIOS = (
    "validate",
    "ingest",
    "scaleout",
    "fanout",
    "compile",
    "long",
    "pages",
    "exports",
    "dashboard",
)
# Each scenario is bounded by its own loops; this is a last guard against a hung one.
SCENARIO_TIMEOUT_S = 3 * 3600


def main(argv: list[str]) -> int:
    chosen = list(SCENARIOS)
    passed: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--only":
            chosen = next(args, "").split(",")
        elif arg.startswith("--only="):
            chosen = arg.partition("=")[2].split(",")
        else:
            passed.append(arg)
    unknown = [c for c in chosen if c not in SCENARIOS]
    if unknown:
        print(f"unknown scenarios {unknown}; choose from {', '.join(SCENARIOS)}")
        return 2
    failed = []
    for name in chosen:
        print(f"\n=== bench.{name} {' '.join(passed)}", flush=True)
        started = time.perf_counter()
        try:
            code = subprocess.run(
                [sys.executable, "-m", f"bench.{name}", *passed], timeout=SCENARIO_TIMEOUT_S
            ).returncode
        except subprocess.TimeoutExpired:
            code = -1
        print(f"=== bench.{name}: exit {code} after {time.perf_counter() - started:.0f} s")
        if code != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed to run: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
