"""The synthesis as it is read: stored in parts (`reports.synthesis_builder` builds them), shown in
pages, each with the synthesis' head and the parts on it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from domain.reference import load_reference

# The kinds of the stored parts: one objective's (or a share of its quoted inputs), and one
# consenting input's recommendations.
OBJECTIVE = "objective"
RECOMMENDATIONS = "recommendations"


def synthesis_page(
    head: dict[str, Any], parts: Iterable[tuple[str, dict[str, Any]]]
) -> dict[str, Any]:
    """One page of the synthesis as the API shows it: the head, the clusters with the
    objective parts of this page, and the recommendations of this page."""
    if "clusters" in head:
        return {**head, "recommendations": []}  # stored whole, before it was stored in parts
    by_cluster: dict[int, list[dict[str, Any]]] = defaultdict(list)
    recommendations = []
    for kind, content in parts:
        if kind == OBJECTIVE:
            by_cluster[content["cluster"]].append(content)
        else:
            recommendations.append(content)
    clusters = [
        {"number": c.number, "title": c.title, "objectives": by_cluster[c.number]}
        for c in load_reference().clusters
    ]
    return {**head, "clusters": clusters, "recommendations": recommendations}
