"""Activities of the report: compile a version (stored in its final bytes), publish one."""

from __future__ import annotations

import uuid

import asyncpg
from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.common import heartbeating, precondition_failed
from db import reports as report_rows
from db.events import insert_event
from db.pool import Connection
from db.reviews import cycle_of
from domain.canonical import canonical_json
from reports.compile import compile_report
from reports.pdf import render_pdf_off_loop
from reports.render import render_html, render_markdown
from workflows import activity_stubs as stubs
from workflows.models import (
    CompileReport,
    PublishReport,
    RegionalPublication,
    ReportVersion,
)
from workflows.rollup import RollupWorkflow, rollup_workflow_id


async def _editorial(conn: Connection, change_request: uuid.UUID | None) -> dict[str, str]:
    """The editorial text of every accepted change request up to `change_request`, which the
    workflow accepts now: a section keeps its text in later versions until a later request
    gives it a new one. A request the API stored but the workflow never took is left out."""
    if change_request is None:
        return {}
    await report_rows.accept_change_request(conn, change_request)
    merged: dict[str, str] = {}
    for editorial in await report_rows.accepted_editorials(conn, change_request):
        merged.update(editorial)
    return merged


class ReportActivities:
    def __init__(self, pool: asyncpg.Pool, client: Client) -> None:
        self.pool = pool
        self.client = client

    @activity.defn(name=stubs.compile_report.__name__)
    async def compile_report(self, request: CompileReport) -> ReportVersion:
        """Compile and store version `request.version`; a retry finds it stored already."""
        review_id = request.event.review_id
        change_request = uuid.UUID(request.change_request_id) if request.change_request_id else None
        async with heartbeating():
            async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
                stored = await report_rows.stored_hash(conn, review_id, request.version)
                if stored is None:
                    review = await report_rows.review_to_compile(conn, review_id)
                    if review is None:
                        raise precondition_failed(f"review {review_id} has no row to compile from")
                    report = await compile_report(
                        conn, review, request.version, await _editorial(conn, change_request)
                    )
                    stored = report["content_hash"]
                    # In each of the review's languages: the first in the version's row (with
                    # the JSON, the same in all), any other beside it.
                    first, *others = review["report_languages"]
                    rendered = (
                        canonical_json(report),
                        render_html(report, first),
                        render_markdown(report, first),
                    )
                    await report_rows.insert_report(
                        conn, review_id, request.version, stored, rendered, change_request, first
                    )
                    for language in others:
                        await report_rows.insert_rendering(
                            conn,
                            review_id,
                            request.version,
                            language,
                            render_html(report, language),
                            render_markdown(report, language),
                        )
                await insert_event(
                    conn, request.event, version=request.version, content_hash=stored
                )
            # After the transaction: a large report's PDF takes minutes, which no transaction
            # should stay open for. A retry finds the row stored and prints what is missing.
            await self._print(review_id, request.version)
        return ReportVersion(request.version, stored)

    async def _print(self, review_id: str, version: int) -> None:
        """Store the version's PDF in each of its languages, rendered from its stored HTML in
        that language, unless it has one."""
        row = await report_rows.report(self.pool, review_id, version=version, published_only=False)
        assert row is not None  # stored above
        # CPU work, in a process of its own: the worker's loop keeps heartbeating.
        if await report_rows.stored_pdf(self.pool, review_id, version) is None:
            pdf = await render_pdf_off_loop(row["html"], row["language"])
            await report_rows.keep_pdf(self.pool, review_id, version, pdf)
        for language in row["languages"][1:]:
            if await report_rows.stored_rendering_pdf(self.pool, review_id, version, language):
                continue
            written = await report_rows.rendering(self.pool, review_id, version, language)
            assert written is not None  # stored with the version
            pdf = await render_pdf_off_loop(written["html"], language)
            await report_rows.keep_rendering_pdf(self.pool, review_id, version, language, pdf)

    @activity.defn(name=stubs.publish_report.__name__)
    async def publish_report(self, request: PublishReport) -> ReportVersion:
        """Freeze the approved version: it is the one every later read of the report returns."""
        review_id = request.event.review_id
        async with self.pool.acquire() as conn, conn.transaction():
            stored = await report_rows.publish(
                conn,
                review_id,
                request.version,
                at=request.event.at,
                by=uuid.UUID(request.event.actor_id) if request.event.actor_id else None,
                note=request.note,
            )
            await insert_event(conn, request.event, version=request.version, content_hash=stored)
        await self._tell_rollup(review_id, request.version)
        return ReportVersion(request.version, stored)

    async def _tell_rollup(self, review_id: str, version: int) -> None:
        """Signal the roll-up of the review's cycle, once the publication is committed. With
        no roll-up running there is nobody to tell: one started later gathers the report at
        its start (it reads what is committed), so no publication is missed."""
        cycle = await cycle_of(self.pool, review_id)
        handle = self.client.get_workflow_handle(rollup_workflow_id(cycle))
        try:
            await handle.signal(
                RollupWorkflow.regional_published, RegionalPublication(review_id, version)
            )
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise

    def all(self) -> list[object]:
        return [self.compile_report, self.publish_report]
