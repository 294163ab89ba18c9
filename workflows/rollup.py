"""RollupWorkflow: one per cycle, the roll-up of the cycle's published regional reports for
the International Migration Review Forum.

It gathers the regional reports published when it starts, compiles version 1, then waits,
without any timer, for the signals the publishing of a regional report sends
(`regional_published`): each publication it has not compiled yet makes a new version. The
admin approves a version (an Update), which becomes the public one; a later version waits for
its own approval while the one before stays public. Versions live in PostgreSQL; the
workflow carries review ids and version numbers only.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.events import RollupEvent, RollupEventType
    from domain.refusal import Refusal, RefusalKind
    from workflows import activity_stubs as stubs
    from workflows.models import (
        CompileRollup,
        PublishRollup,
        RegionalPublication,
        ReportVersion,
        RollupApproval,
        RollupInput,
        RollupState,
    )
    from workflows.review import ACTIVITY_OPTIONS, refused


# How long an approval of the version being compiled waits for its compiling to end: the
# version is stored (and shown) a moment before the workflow hears it is (its PDF prints
# meanwhile); beyond this, the compiling is stuck and the approval is refused.
APPROVAL_WAITS_FOR_COMPILING = timedelta(minutes=2)


def rollup_workflow_id(cycle: str) -> str:
    return f"rollup-{cycle}"


@workflow.defn
class RollupWorkflow:
    @workflow.init
    def __init__(self, start: RollupInput) -> None:
        self.start = start
        self.state = start.state or RollupState()
        # The version being compiled now (0: none). Not carried: no compiling outlives a run.
        self.compiling = 0

    @workflow.run
    async def run(self, start: RollupInput) -> None:
        if not self.state.gathered:
            gathered = await workflow.execute_activity(
                stubs.gather_rollup, start.cycle, **ACTIVITY_OPTIONS
            )
            # Signals that came meanwhile stay: a publication gathered and signalled counts once.
            self.state.arrived = [*gathered, *self.state.arrived]
            self.state.gathered = True
            await self._compile()
        while True:
            await workflow.wait_condition(
                lambda: bool(self.state.arrived) or workflow.info().is_continue_as_new_suggested()
            )
            if self.state.arrived:
                await self._compile_news()
                continue
            await workflow.wait_condition(workflow.all_handlers_finished)
            workflow.continue_as_new(
                RollupInput(start.cycle, start.title, start.started_by, self.state)
            )

    @workflow.signal
    def regional_published(self, publication: RegionalPublication) -> None:
        self.state.arrived.append(publication)

    async def _compile_news(self) -> None:
        """A new version if what arrived holds a publication (or a newer version of one) not
        compiled yet; a publication heard twice makes none."""
        news = [
            p for p in self.state.arrived if p.version > self.state.included.get(p.review_id, 0)
        ]
        if news:
            await self._compile()
        else:
            self.state.arrived = []

    async def _compile(self) -> None:
        for publication in self.state.arrived:
            known = self.state.included.get(publication.review_id, 0)
            self.state.included[publication.review_id] = max(known, publication.version)
        self.state.arrived = []
        version = self.state.version + 1
        sources = [RegionalPublication(r, v) for r, v in sorted(self.state.included.items())]
        event = self._event(RollupEventType.ROLLUP_COMPILED, None)
        self.compiling = version
        await workflow.execute_activity(
            stubs.compile_rollup, CompileRollup(event, version, sources), **ACTIVITY_OPTIONS
        )
        self.state.version = version
        self.compiling = 0

    @workflow.update
    async def approve(self, approval: RollupApproval) -> ReportVersion:
        if self.state.version < approval.version:
            await self._compiled(approval.version)
        event = self._event(RollupEventType.ROLLUP_PUBLISHED, approval.actor_id)
        published: ReportVersion = await workflow.execute_activity(
            stubs.publish_rollup, PublishRollup(event, approval.version), **ACTIVITY_OPTIONS
        )
        self.state.published = max(self.state.published, approval.version)
        return published

    async def _compiled(self, version: int) -> None:
        """Wait, bounded, for the compiling of `version` (accepted by the validator) to end."""
        try:
            await workflow.wait_condition(
                lambda: self.state.version >= version, timeout=APPROVAL_WAITS_FOR_COMPILING
            )
        except TimeoutError:
            raise refused(
                Refusal(RefusalKind.WRONG_PHASE, f"Version {version} is still being compiled.")
            ) from None

    @approve.validator
    def validate_approve(self, approval: RollupApproval) -> None:
        if approval.version == self.compiling:
            return  # stored, or about to be: the approval waits for the workflow to know it
        if self.state.version == 0 or self.state.published >= self.state.version:
            raise refused(
                Refusal(RefusalKind.WRONG_PHASE, "No version of the roll-up awaits approval.")
            )
        if approval.version != self.state.version:
            raise refused(
                Refusal(
                    RefusalKind.WRONG_PHASE,
                    f"Version {self.state.version} awaits approval, not {approval.version}.",
                    "version",
                )
            )

    @workflow.query
    def status(self) -> RollupState:
        return self.state

    def _event(self, kind: RollupEventType, actor_id: str | None) -> RollupEvent:
        return RollupEvent(
            id=str(workflow.uuid4()),
            cycle=self.start.cycle,
            type=kind,
            at=workflow.now(),
            actor_id=actor_id,
        )
