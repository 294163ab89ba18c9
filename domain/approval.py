"""Approval of the report by several parties in turn: whose turn it is, who may decide, and
each step's status.

A review that names approvers has its report approved by each in order; the last approval
publishes it. Changes asked by the approver whose turn it is send the report back to
compilation, and the next version needs every approval again from the first. A review that
names none is approved once by its secretariat.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.refusal import Refusal, RefusalKind
from domain.review import Approver, Phase
from domain.text import N_

MAX_APPROVERS = 10


class StepStatus(StrEnum):
    APPROVED = "approved"
    PENDING = "pending"
    WAITING = "waiting"


@dataclass(frozen=True)
class Step:
    """One approver's place in the chain for the current version."""

    number: int
    approver: Approver
    status: StepStatus


def pending_approver(approvers: list[Approver], approvals: list[str]) -> Approver | None:
    """The first approver, in order, who has not approved the current version; None when
    every one has."""
    given = set(approvals)
    return next((a for a in approvers if a.actor_id not in given), None)


def step_number(approvers: list[Approver], actor_id: str) -> int:
    """The 1-based place of `actor_id` in the chain."""
    return next(i for i, a in enumerate(approvers, start=1) if a.actor_id == actor_id)


def chain(approvers: list[Approver], approvals: list[str], *, awaiting: bool) -> list[Step]:
    """Each approver's step for the current version: approved, pending (its turn, while the
    report `awaiting` a decision) or waiting."""
    pending = pending_approver(approvers, approvals) if awaiting else None
    given = set(approvals)
    return [
        Step(
            number,
            approver,
            StepStatus.APPROVED
            if approver.actor_id in given
            else StepStatus.PENDING
            if approver == pending
            else StepStatus.WAITING,
        )
        for number, approver in enumerate(approvers, start=1)
    ]


def decision_refusal(
    approvers: list[Approver] | None, approvals: list[str], actor_id: str
) -> Refusal | None:
    """Why `actor_id` may not approve the current version or ask for changes now, if so.
    Without approvers the secretariat decides (checked before the review is asked); with them,
    only the approver whose turn it is: the secretariat follows the chain, it does not decide
    in its place."""
    if not approvers:
        return None
    pending = pending_approver(approvers, approvals)
    if pending is not None and pending.actor_id == actor_id:
        return None
    if all(a.actor_id != actor_id for a in approvers):
        return Refusal(
            RefusalKind.NOT_IN_SCOPE,
            N_("The report is decided by its approvers, in order; you are not one of them."),
        )
    if actor_id in approvals:
        return Refusal(
            RefusalKind.WRONG_PHASE,
            N_("You have approved this version already; it now awaits the next approver."),
        )
    return Refusal(
        RefusalKind.WRONG_PHASE,
        N_("It is not your turn: step {step} must approve first.").format(
            step=step_number(approvers, pending.actor_id) if pending else len(approvers)
        ),
    )


def chain_problems(approvers: list[Approver]) -> list[tuple[str, str]]:
    """What is wrong with the list itself (JSON Pointer, message): each account named once."""
    seen: set[str] = set()
    problems = []
    for i, approver in enumerate(approvers):
        if approver.actor_id in seen:
            problems.append((f"/approvers/{i}/actor_id", N_("names an approver already named")))
        seen.add(approver.actor_id)
    return problems


def change_refusal(phase: Phase, report_version: int) -> Refusal | None:
    """Why the approvers may not change now, if so: only until the approval begins (once a
    version of the report is compiled, its approvers are those it was put to)."""
    if report_version == 0 and phase not in (Phase.APPROVAL, Phase.PUBLISHED, Phase.CANCELLED):
        return None
    return Refusal(
        RefusalKind.WRONG_PHASE,
        N_("The approvers can no longer change: the approval of the report has begun."),
    )
