"""Whether a stakeholder input may be published, whichever version of its schema it follows.

Version 1 of the stakeholder input said yes or no (``consent_to_publish``: with the
organisation's name, or not at all); version 2 says ``publication``: "with_name",
"without_name" or "do_not_publish". Readers ask here rather than reading either field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

WITH_NAME = "with_name"
WITHOUT_NAME = "without_name"
DO_NOT_PUBLISH = "do_not_publish"
PUBLICATIONS = (WITH_NAME, WITHOUT_NAME, DO_NOT_PUBLISH)


def publication(content: Mapping[str, Any]) -> str:
    """How the input may be published; not at all when it does not say."""
    chosen = content.get("publication")
    if chosen in PUBLICATIONS:
        return str(chosen)
    return WITH_NAME if content.get("consent_to_publish") is True else DO_NOT_PUBLISH


def quoted_with_name(content: Mapping[str, Any]) -> bool:
    """Whether the input may be quoted under its organisation's name."""
    return publication(content) == WITH_NAME
