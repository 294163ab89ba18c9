"""What the pages show of annexes: the section of the submission form that lists the draft's
annexes and attaches another, and the list of those a version was sent with."""

from __future__ import annotations

from typing import Any

from aiohttp import web

import i18n
from api.keys import SERVICES
from domain.annexes import MAX_ANNEX_MB, MAX_ANNEXES, TYPE_NAME, AnnexType
from services import annexes
from services.submissions import Intake
from web.format import file_size

# The id of the field that takes a file, which the error summary links to.
ANNEX_FIELD = "annex-file"
# What the file field offers to pick: the types taken, by extension and media type.
ACCEPTED = ",".join([".pdf", ".docx", *(t.value for t in AnnexType)])


def annex_rows(sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each annex (as the API gives it) as a row of a table: its name (a link to the file),
    type, size and hash."""
    return [
        {
            "id": annex["id"],
            "name": annex["file_name"],
            "type": TYPE_NAME[AnnexType(annex["media_type"])],
            "size": file_size(annex["size"]),
            "sha256": annex["sha256"],
            "href": f"/annexes/{annex['id']}",
        }
        for annex in sent
    ]


async def annex_section(request: web.Request, intake: Intake, error: str | None) -> dict[str, Any]:
    """The form's annexes section: the draft's annexes, and where to attach another."""
    drafted = await annexes.drafted(request.app[SERVICES], intake)
    review_id = intake.review["id"]
    rows = [
        {**row, "remove": f"/reviews/{review_id}/annexes/{row['id']}/remove"}
        for row in annex_rows([annex.as_json() for annex in drafted])
    ]
    return {
        "rows": rows,
        "upload": f"/reviews/{review_id}/annexes",
        "full": len(drafted) >= MAX_ANNEXES,
        "hint": i18n.gettext(
            "A PDF or Word (DOCX) file of at most %(size)s MB. You can attach up to"
            " %(count)s files; they are sent with your next version."
        )
        % {"size": MAX_ANNEX_MB, "count": MAX_ANNEXES},
        "error": error,
        "field": ANNEX_FIELD,
        "accept": ACCEPTED,
    }
