"""Bringing a document (or a draft of one) written against an older version of its schema up
to a newer version, as far as the change allows, and saying what is left to fix.

Each step takes a document of version N of a schema to version N + 1: what N + 1 kept is
carried over, what it renamed is renamed, and what it asks for anew is left for the person to
give. The steps never fail, whatever a draft holds (a draft need not be valid); what is still
wrong is the list of problems the newer schema finds, so a form can show them beside their
fields.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schemas import Problem, current_version, validate_document

__all__ = ["Migrated", "migrate"]

Step = Callable[[dict[str, Any]], dict[str, Any]]


def _carried(document: dict[str, Any]) -> dict[str, Any]:
    """Version 2 of the national report only adds fields: everything is carried over."""
    return document


# Version 1 of a stakeholder input said yes or no to publishing it, with its name; version 2
# asks whether to publish it with the name, without it, or not at all.
_PUBLICATION_OF_CONSENT = {True: "with_name", False: "do_not_publish"}


def _stakeholder_input_publication(document: dict[str, Any]) -> dict[str, Any]:
    consent = document.pop("consent_to_publish", None)
    # Only a yes or a no says something; anything else (a draft may hold anything) is
    # dropped, and the missing publication is named among the problems.
    if isinstance(consent, bool) and "publication" not in document:
        document["publication"] = _PUBLICATION_OF_CONSENT[consent]
    return document


# The step from each (schema, version) to the next version.
_STEPS: dict[tuple[str, int], Step] = {
    ("national_report", 1): _carried,
    ("stakeholder_input", 1): _stakeholder_input_publication,
}


@dataclass(frozen=True)
class Migrated:
    """A document brought to `version`, and what that version still finds wrong with it."""

    document: dict[str, Any]
    version: int
    problems: list[Problem]


def migrate(name: str, document: dict[str, Any], version: int, to: int | None = None) -> Migrated:
    """``document``, written against version ``version`` of the document schema ``name``,
    brought to version ``to`` (the current one when None), with the problems that version
    finds in it. The document given is not changed. A document already at ``to`` (or newer,
    which nothing brings back) is only checked. Raises KeyError for a schema or a version
    that does not exist."""
    target = current_version(name) if to is None else to
    migrated = copy.deepcopy(document)
    while version < target:
        migrated = _STEPS[(name, version)](migrated)
        version += 1
    return Migrated(migrated, version, validate_document(name, migrated, version))
