"""Activities of the roll-up: gather the cycle's published regional reports, compile a
version (stored in its final bytes), publish one."""

from __future__ import annotations

import json
import uuid

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.common import heartbeating, precondition_failed
from db import rollups as rows
from domain.canonical import canonical_json
from reports.pdf import render_pdf_off_loop
from reports.rollup import (
    compile_rollup,
    latest_per_region,
    render_rollup_html,
    render_rollup_markdown,
)
from workflows import activity_stubs as stubs
from workflows.models import CompileRollup, PublishRollup, RegionalPublication, ReportVersion


class RollupActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @activity.defn(name=stubs.gather_rollup.__name__)
    async def gather_rollup(self, cycle: str) -> list[RegionalPublication]:
        """The regional reports of `cycle` published now."""
        published = await rows.published_regional(self.pool, cycle)
        return [RegionalPublication(r["review_id"], r["version"]) for r in published]

    @activity.defn(name=stubs.compile_rollup.__name__)
    async def compile_rollup(self, request: CompileRollup) -> ReportVersion:
        """Compile and store version `request.version`; a retry finds it stored already."""
        cycle = request.event.cycle
        async with heartbeating():
            async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
                stored = await rows.stored_hash(conn, cycle, request.version)
                if stored is None:
                    found = await rows.rollup(conn, cycle)
                    if found is None:
                        # Its row commits with the request that started the workflow: soon.
                        raise ApplicationError(f"roll-up {cycle} has no row yet")
                    published = []
                    for source in request.sources:
                        report = await rows.published_report(conn, source.review_id, source.version)
                        if report is None:
                            raise precondition_failed(
                                f"{source.review_id} has no published version {source.version}"
                            )
                        published.append((report["published_at"], json.loads(report["json"])))
                    reports = latest_per_region(published)
                    document = compile_rollup(cycle, found["title"], request.version, reports)
                    stored = document["content_hash"]
                    rendered = (
                        canonical_json(document),
                        render_rollup_html(document),
                        render_rollup_markdown(document),
                    )
                    await rows.insert_version(
                        conn, cycle, request.version, stored, document["reports"], rendered
                    )
                await rows.insert_event(
                    conn, request.event, version=request.version, content_hash=stored
                )
            # After the transaction, as a regional report's PDF is: printing takes a while.
            files = await rows.version_files(
                self.pool, cycle, request.version, published_only=False
            )
            assert files is not None  # stored above
            if files["pdf"] is None:
                pdf = await render_pdf_off_loop(files["html"])
                await rows.keep_pdf(self.pool, cycle, request.version, pdf)
        return ReportVersion(request.version, stored)

    @activity.defn(name=stubs.publish_rollup.__name__)
    async def publish_rollup(self, request: PublishRollup) -> ReportVersion:
        """Make the approved version the public one."""
        event = request.event
        async with self.pool.acquire() as conn, conn.transaction():
            stored = await rows.publish(
                conn,
                event.cycle,
                request.version,
                at=event.at,
                by=uuid.UUID(event.actor_id) if event.actor_id else None,
            )
            if stored is None:
                raise precondition_failed(f"roll-up {event.cycle} has no version {request.version}")
            await rows.insert_event(conn, event, version=request.version, content_hash=stored)
        return ReportVersion(request.version, stored)

    def all(self) -> list[object]:
        return [self.gather_rollup, self.compile_rollup, self.publish_rollup]
