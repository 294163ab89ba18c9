"""The bare Temporal primitive the ingest benchmark compares against: Updates into one workflow.

Kept in a module of its own that imports nothing but temporalio, so the workflow sandbox can
import it cheaply and safely; the benchmark drives it from bench/ingest.py.
"""

from __future__ import annotations

from temporalio import workflow

BARE_TASK_QUEUE = "bench-bare-updates"


@workflow.defn(sandboxed=True)
class BareUpdatesWorkflow:
    """Counts Updates until told to finish; no activity, no I/O."""

    def __init__(self) -> None:
        self.count = 0
        self.done = False

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.done and workflow.all_handlers_finished())
        return self.count

    @workflow.update
    def bump(self, amount: int) -> int:
        self.count += amount
        return self.count

    @workflow.signal
    def finish(self) -> None:
        self.done = True
