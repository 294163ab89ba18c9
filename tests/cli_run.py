"""Running `reviewflow` as an operator does: a process of its own, with only the environment
the test gives it (none of reviewflow's variables from the test's own)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from config.settings import ENVIRONMENT_VARIABLES

ROOT = Path(__file__).resolve().parent.parent
DEADLINE_S = 60.0


@dataclass(frozen=True)
class Ran:
    code: int
    out: list[str]
    err: list[str]


def environment(variables: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENVIRONMENT_VARIABLES}
    # This checkout's modules, whichever copy of the package the interpreter has installed.
    return {**env, "PYTHONPATH": str(ROOT), **variables}


async def run_cli(
    *args: str, env: Mapping[str, str], prelude: str = "", deadline_s: float = DEADLINE_S
) -> Ran:
    """`reviewflow ARGS`; `prelude` is Python run in the process first (to take a package away)."""
    code = f"{prelude}\nimport sys\nfrom reviewflow.cli import main\nsys.exit(main(sys.argv[1:]))"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        *args,
        env=environment(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), deadline_s)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return Ran(process.returncode, out.decode().splitlines(), err.decode().splitlines())


def one_line(ran: Ran) -> str:
    """The single line a refusal writes on stderr; fails on a trace or on several lines."""
    assert ran.code != 0, ran
    assert not any("Traceback" in line for line in ran.err), "\n".join(ran.err)
    assert len(ran.err) == 1, "\n".join(ran.err)
    return ran.err[0]
