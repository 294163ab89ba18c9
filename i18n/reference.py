"""The GCM's reference data in the language in use: the titles of its objectives, clusters,
guiding principles, stakeholder categories and objective statuses, and the regions' commission
and region names, as the "reference" catalogue translates them (the official wording of the
Global Compact, General Assembly resolution 73/195, in each of the six languages), and the
member States named by CLDR.

`domain.reference` stays English and free of languages (workflows read it); what is shown or
answered goes through here. In English everything reads exactly as the data has it, States
included: the data names them as the UN does.
"""

from __future__ import annotations

from typing import Any

import i18n
from domain.reference import Region, gcm_document, region_document

JsonObject = dict[str, Any]

# The lists of the GCM document whose entries carry a `title` to translate.
_TITLED = (
    "objectives",
    "clusters",
    "guiding_principles",
    "stakeholder_categories",
    "objective_statuses",
)


def title(english: str) -> str:
    """A title of the reference data (or a commission's or region's name) in the language in
    use; the English itself where the catalogue has no translation."""
    return i18n.gettext(english)


def gcm() -> JsonObject:
    """Body of ``GET /v1/gcm`` in the language in use."""
    document = gcm_document()
    for key in _TITLED:
        for item in document[key]:
            item["title"] = title(item["title"])
    return document


def region(found: Region, with_members: bool) -> JsonObject:
    """A region for the API in the language in use: its commission and region named as the
    catalogue translates them, its States as CLDR names them."""
    document = region_document(found, with_members)
    document["commission"] = title(document["commission"])
    document["region"] = title(document["region"])
    if with_members:
        for country in (*document["members"], *document["associate_members"]):
            country["name"] = i18n.country_name(country["iso3"], country["name"])
    return document
