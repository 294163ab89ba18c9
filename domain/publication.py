"""What a submission's authors agreed may be published, and how it is then shown.

A stakeholder input of schema version 2 says it in `publication`: "with_name" (quoted, its
organisations named), "without_name" (quoted, no organisation named) or "do_not_publish"
(counted, never quoted). Version 1 said it in `consent_to_publish`: true is "with_name",
false (or missing) "do_not_publish". (`db.report_inputs.PUBLICATION` says the same in SQL,
for the report's queries over tens of thousands of inputs.)

A national report of schema version 2 says in `consent_to_publish` whether it may be
published with the review's documents; version 1 had no such field and was always quoted.
"""

from __future__ import annotations

from typing import Any, Final

WITH_NAME: Final = "with_name"
WITHOUT_NAME: Final = "without_name"
DO_NOT_PUBLISH: Final = "do_not_publish"


def input_publication(content: dict[str, Any]) -> str:
    """How a stakeholder input may be published: one of WITH_NAME, WITHOUT_NAME,
    DO_NOT_PUBLISH."""
    publication = content.get("publication")
    if publication in (WITH_NAME, WITHOUT_NAME, DO_NOT_PUBLISH):
        return str(publication)
    return WITH_NAME if content.get("consent_to_publish") is True else DO_NOT_PUBLISH


def joint_organisation_names(content: dict[str, Any]) -> list[str]:
    """The names of the other organisations of a joint input, in the order it gives them."""
    return [str(o["name"]) for o in content.get("joint_organisations") or [] if "name" in o]


def report_may_be_published(content: dict[str, Any]) -> bool:
    """Whether a national report may be quoted in what is published: unless its State said
    no (`consent_to_publish` false, schema version 2)."""
    return content.get("consent_to_publish") is not False


def may_be_quoted(content: dict[str, Any]) -> bool:
    """Whether a stakeholder input may be quoted at all, with its name or without."""
    return input_publication(content) != DO_NOT_PUBLISH


def quoted_with_name(content: dict[str, Any]) -> bool:
    """Whether a stakeholder input may be quoted under its organisations' names."""
    return input_publication(content) == WITH_NAME
