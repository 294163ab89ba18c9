"""Reviews whose workflow and row disagree, found and settled when a worker starts.

A review's workflow writes its own row, so a workflow started since then is never without
one for long. Workflows started by earlier versions, whose row was written by the API in a
transaction that then failed, can be: they retry their first activity for ever. They are
terminated, with the reason, since nothing but their creator's failed request knows what they
were for. A review row whose workflow is gone cannot be repaired here; it is reported.
"""

from __future__ import annotations

import logging

import asyncpg
from temporalio.client import Client

from api.engine import CREATION_MEMO
from db.reviews import phases
from workflows.review import workflow_id

log = logging.getLogger("reviewflow.orphans")

ORPHAN_REASON = "The review's row was never committed: its creation failed and was answered so."


async def settle_orphans(client: Client, pool: asyncpg.Pool) -> list[str]:
    """Terminate running review workflows without a row or a creation mark; report rows of
    unfinished reviews without a running workflow. Returns the ids of the workflows ended."""
    running: dict[str, bool] = {}
    query = 'WorkflowType = "RegionalReviewWorkflow" AND ExecutionStatus = "Running"'
    async for execution in client.list_workflows(query):
        running[execution.id] = CREATION_MEMO in (await execution.memo())
    rows = await phases(pool)
    with_row = {workflow_id(row["id"]) for row in rows}
    ended = []
    for found, marked in running.items():
        if found not in with_row and not marked:
            await client.get_workflow_handle(found).terminate(reason=ORPHAN_REASON)
            log.warning("terminated review workflow %s: %s", found, ORPHAN_REASON)
            ended.append(found)
    for row in rows:
        if row["phase"] not in ("published", "cancelled") and workflow_id(row["id"]) not in running:
            log.error("review %s is %s but has no running workflow", row["id"], row["phase"])
    return ended
