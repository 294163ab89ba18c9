"""What the use cases need of the engine that runs reviews (Temporal workflows), as a port:
the adapter layer implements it, so services never import the workflows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import asyncpg

from domain.review import Approver, Extension, ReviewConfig, SubmissionAccepted, SubmissionRef


class ReviewEngine(Protocol):
    """Each command runs once per `update_id` however often it is sent; each raises
    `services.refusals.Refused` when the review refuses it or cannot answer in time."""

    async def start(self, config: ReviewConfig, creation: str) -> str | None:
        """Start the review's workflow unless it exists; the creation mark of the request
        that started it (None for a review started before marks were kept, or whose
        workflow is gone)."""
        ...

    async def submit(self, review_id: str, ref: SubmissionRef) -> SubmissionAccepted:
        """Offer a submission stored as pending to the review: the version it was accepted as
        (a request offered again keeps it), or Refused with the review's reason."""
        ...

    async def extend(self, review_id: str, extension: Extension, *, update_id: str) -> None: ...

    async def advance(
        self, review_id: str, *, actor_id: str, reason: str | None, update_id: str
    ) -> None: ...

    async def cancel(
        self, review_id: str, *, actor_id: str, reason: str | None, update_id: str
    ) -> None: ...

    async def remind_now(self, review_id: str, *, actor_id: str, update_id: str) -> str:
        """Remind at once those who have not acted: the id of the audit event that records it
        (none is recorded when nobody was left to remind)."""
        ...

    async def add_member_states(
        self, review_id: str, countries: list[str], *, update_id: str
    ) -> list[str]:
        """Add member States to the review; its member States afterwards."""
        ...

    async def change_approvers(
        self, review_id: str, approvers: list[Approver], *, update_id: str
    ) -> list[Approver]:
        """Name who approves the report from now on (empty: the secretariat, once); its
        approvers afterwards."""
        ...

    async def approve(
        self, review_id: str, *, actor_id: str, note: str | None, update_id: str
    ) -> int:
        """Publish the report awaiting a decision; the version published."""
        ...

    async def request_changes(
        self,
        review_id: str,
        *,
        actor_id: str,
        note: str,
        change_request_id: str,
        update_id: str,
        compiled: bool = True,
    ) -> int | None:
        """Compile the report again with the stored change request; the new version. With
        `compiled` false, None as soon as the review has taken the request (it compiles the
        new version after)."""
        ...

    async def schedule_session(
        self, review_id: str, session_id: str, starts_at: datetime, *, update_id: str
    ) -> None:
        """Remind a meeting's registrants before it starts (again, for a meeting moved)."""
        ...

    async def cancel_session(self, review_id: str, session_id: str, *, update_id: str) -> None:
        """Remind nobody of a meeting cancelled."""
        ...


@dataclass(frozen=True)
class Deps:
    """What every use case runs on: the database and the review engine."""

    pool: asyncpg.Pool
    reviews: ReviewEngine
