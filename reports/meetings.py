"""The consultation meetings held, with their summaries, as the synthesis and the report show
them (`db.sessions.summaries_of`): each with its provenance, so a reader can tell who wrote
what and check that the text is the one recorded."""

from __future__ import annotations

from typing import Any

import asyncpg

from i18n import N_

# The words the report and the pages give a meeting's kind, mode and summary kind.
SESSION_KINDS = {
    "stakeholder_consultation": N_("Stakeholder consultation"),
    "review_meeting": N_("Regional review meeting"),
    "round_table": N_("Round table"),
}
MODES = {"online": N_("Online"), "in_person": N_("In person"), "hybrid": N_("Hybrid")}
SUMMARY_KINDS = {
    "rapporteur_summary": N_("Rapporteur's summary"),
    "chair_summary": N_("Chair's summary"),
}


def _clusters(row: asyncpg.Record) -> list[int]:
    """The clusters the meeting was about: its agenda items' and, for a round table, its own."""
    named = {item["cluster"] for item in row["agenda"] if item.get("cluster")}
    return sorted(named | ({row["cluster"]} if row["cluster"] else set()))


def held_summaries(rows: list[asyncpg.Record]) -> list[dict[str, Any]]:
    """The summaries of meetings held, as the synthesis and the report show them, each with
    its provenance."""
    return [
        {
            "session_id": str(r["session_id"]),
            "title": r["title"],
            "session_kind": r["session_kind"],
            "mode": r["mode"],
            "starts_at": r["starts_at"].isoformat(),
            "ends_at": r["ends_at"].isoformat(),
            "clusters": _clusters(r),
            "registered": r["registered"],
            "attended": r["attended"],
            "summary": {
                "kind": r["kind"],
                "text": r["text"],
                "written_by_role": r["written_by_role"],
                "written_at": r["written_at"].isoformat(),
                "text_sha256": r["text_sha256"],
            },
        }
        for r in rows
    ]
