"""Exporting a review's data as a spreadsheet (reports.exports), for those who run it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from domain.access import Actor
from reports import exports
from services.engine import Deps
from services.refusals import not_found
from services.reviews import run_by


@dataclass(frozen=True)
class Export:
    filename: str
    media_type: str
    # The file's bytes, a chunk at a time, read on a connection of its own while they are sent.
    chunks: Callable[[], AsyncIterator[bytes]]


async def export(
    deps: Deps, actor: Actor, review_id: str, dataset: str, file_format: str
) -> Export:
    """The review's `dataset` (submissions, answers, participants) as `file_format` (csv,
    xlsx), for its secretariat."""
    review = await run_by(deps, actor, review_id, "exports its data")
    if dataset not in exports.DATASETS or file_format not in exports.MEDIA_TYPES:
        raise not_found(
            f"There is no export {dataset}.{file_format}: choose one of"
            f" {', '.join(exports.DATASETS)}, as {' or '.join(exports.MEDIA_TYPES)}."
        )

    async def chunks() -> AsyncIterator[bytes]:
        async with deps.pool.acquire() as conn:
            async for chunk in exports.chunks(conn, dataset, file_format, review["id"]):
                yield chunk

    return Export(
        f"{review['id']}-{dataset}.{file_format}", exports.MEDIA_TYPES[file_format], chunks
    )
