"""JSON Schemas of the API's own request bodies (the documents themselves live in `schemas/`).

The OpenAPI description is built from these same dicts, so what is documented is what is checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.events import EventType
from i18n import LANGUAGES
from schemas import COMMON_ID

REVIEW_ID_PATTERN = "^[a-z0-9][a-z0-9-]{2,62}$"
# Instants are parsed by the API (which also wants a UTC offset and a future date), so every
# faulty date is named in one answer together with the other problems of the body.
INSTANT: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 40,
    "description": "An instant with its UTC offset, e.g. 2020-10-26T23:59:59Z.",
}
DEADLINES = ["call_opens_at", "inputs_due_at", "consultation_due_at", "report_due_at"]
REASON: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 2000}
TITLE: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 300}
DESCRIPTION: dict[str, Any] = {
    "type": "string",
    "maxLength": 5000,
    "description": "What the review is about, for those invited to it.",
}

REPORT_LANGUAGES: dict[str, Any] = {
    "type": "array",
    "items": {"enum": list(LANGUAGES)},
    "minItems": 1,
    "maxItems": 2,
    "uniqueItems": True,
    "default": ["en"],
    "description": "The languages the report is written in, one or two of the six UN"
    " languages (ar, zh, en, fr, ru, es): each version is compiled in each, the first"
    " giving the report's own files. Changeable until a version of the report is compiled.",
}


def member_states(description: str) -> dict[str, Any]:
    """A list of member States (ISO 3166-1 alpha-3), each once."""
    return {
        "type": "array",
        "items": {"$ref": f"{COMMON_ID}#/$defs/iso3"},
        "minItems": 1,
        "maxItems": 100,
        "uniqueItems": True,
        "description": description,
    }


def closed(
    properties: dict[str, Any], required: Sequence[str] = (), **extra: Any
) -> dict[str, Any]:
    """An object that refuses any field it does not name, so a misspelt field is an error
    rather than silently ignored."""
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return {**schema, "properties": properties, **extra}


APPROVERS: dict[str, Any] = {
    "type": "array",
    "items": closed(
        {
            "actor_id": {"type": "string", "format": "uuid"},
            "title": {**TITLE, "examples": ["Executive Secretary, UNECE"]},
        },
        ["actor_id", "title"],
    ),
    "minItems": 1,
    "maxItems": 10,
    "description": "Who approves the report, in order, each under its title: active accounts of"
    " the review's region, secretariat or approver. The last approval publishes the report;"
    " changes asked by any of them need every approval again, from the first. Left out: the"
    " secretariat approves the report once.",
}

NEW_REVIEW = closed(
    {
        "id": {
            "type": "string",
            "pattern": REVIEW_ID_PATTERN,
            # Named in the 422 ("must be written like ..."), where a pattern would say nothing.
            "examples": ["ece-2020", "escap-2021-consultation"],
            "description": (
                "A slug of your choosing that begins with the region's code, e.g. ece-2020;"
                " generated when absent."
            ),
        },
        "region": {"$ref": f"{COMMON_ID}#/$defs/region_code"},
        "title": TITLE,
        "description": DESCRIPTION,
        "report_languages": REPORT_LANGUAGES,
        "cycle": {
            "type": "string",
            "maxLength": 9,
            "examples": ["2020-2021"],
            "description": "The round of regional reviews the review belongs to; defaults to"
            " the round its call for inputs opens in (2020-2021, 2024-2025, ...).",
        },
        "member_states": member_states("Defaults to the region's member States."),
        "timeline": closed({name: INSTANT for name in DEADLINES}, DEADLINES),
        "reminder_days": {
            "type": "array",
            "items": {"type": "integer", "minimum": 1, "maximum": 365},
            "maxItems": 10,
            "uniqueItems": True,
            "description": "Days before each deadline at which reminders go out; default [14, 7, 1].",
        },
        "late_submissions": {"enum": ["reject", "accept_flagged"], "default": "accept_flagged"},
        "reminders_optional": {
            "type": "boolean",
            "default": False,
            "description": "Let those who chose essential notifications only skip reminders too.",
        },
        "consult_focal_points": {
            "type": "boolean",
            "default": False,
            "description": "Give the member States' focal points a consultation task too.",
        },
        "escalation": closed(
            {
                "share": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                "days": {"type": "integer", "minimum": 1, "maximum": 365},
            },
            ["share", "days"],
            description="Alert the secretariat when, `days` before the inputs or consultation"
            " deadline, less than `share` of member States have reported (or of consultees have"
            " answered).",
        ),
        "approvers": APPROVERS,
        "stakeholders": {
            "oneOf": [
                {"const": "open", "description": "Any stakeholder of the region may submit."},
                {
                    "type": "array",
                    "items": {"type": "string", "format": "uuid"},
                    "maxItems": 20000,
                    "uniqueItems": True,
                    "description": "The stakeholder actors invited.",
                },
            ],
            "default": "open",
        },
    },
    ["region", "title", "timeline"],
)

REVIEW_TEXT = closed(
    {
        "title": TITLE,
        "description": DESCRIPTION,
        "report_languages": REPORT_LANGUAGES,
        "approvers": {
            **APPROVERS,
            "minItems": 0,
            "description": "Who approves the report from now on, in order, until its approval"
            " begins (an empty list: the secretariat approves it once). Each: an active account"
            " of the review's region, secretariat or approver.",
        },
    },
    minProperties=1,
)

EXTENSION = closed(
    {
        "deadline": {"enum": DEADLINES},
        "until": INSTANT,
        "reason": REASON,
        "country": {
            "$ref": f"{COMMON_ID}#/$defs/iso3",
            "description": "Extend inputs_due_at for this member State only.",
        },
    },
    ["deadline", "until", "reason"],
)

ADVANCE = closed({"reason": REASON})

CANCEL = closed({"reason": REASON}, ["reason"])

INVITATIONS = closed(
    {
        "stakeholders": {
            "type": "array",
            "items": {"type": "string", "format": "uuid"},
            "minItems": 1,
            "maxItems": 1000,
            "uniqueItems": True,
            "description": "Stakeholder accounts of the review's region to invite.",
        },
        "member_states": member_states(
            "Member States to add to the review, until its call for inputs closes; their focal"
            " points are invited."
        ),
    },
    minProperties=1,
)

SUBMISSION = closed(
    {
        "kind": {"enum": ["national_report", "stakeholder_input"]},
        "content": {
            "type": "object",
            "description": "The document, checked against /v1/schemas/{kind}.",
        },
    },
    ["kind", "content"],
)

TASK_COMPLETION = closed(
    {
        "response": {
            "type": "object",
            "description": "The answer, checked against /v1/schemas/consultation_response.",
        }
    },
    ["response"],
)

TASK_DELEGATION = closed(
    {
        "to": {
            "type": "string",
            "format": "uuid",
            "description": "A colleague: an account of the same organisation.",
        },
        "note": REASON,
    },
    ["to"],
)

NEW_WEBHOOK = {
    **closed(
        {
            "url": {"type": "string", "minLength": 1, "maxLength": 2048},
            "events": {
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": {"enum": ["*", *(e.value for e in EventType)]},
                "description": 'Event types to receive; ["*"] for all.',
            },
            "secret": {
                "type": "string",
                "minLength": 16,
                "maxLength": 200,
                "description": "Shared secret for the HMAC-SHA256 signature of every delivery.",
            },
            "review_id": {"type": "string", "pattern": REVIEW_ID_PATTERN},
            "regions": {
                "type": "array",
                "items": {"$ref": f"{COMMON_ID}#/$defs/region_code"},
                "minItems": 1,
                "uniqueItems": True,
            },
        },
        ["url", "events", "secret"],
    ),
    # A subscription names one review or regions, never both.
    "not": {"required": ["review_id", "regions"]},
}

PREFERENCES = closed(
    {
        "language": {
            "enum": list(LANGUAGES),
            "description": "One of the six UN languages (ISO 639-1), for pages and mail."
            " Until it is set, pages follow Accept-Language and mail is in English.",
        },
        "notifications": {
            "enum": ["all", "essential"],
            "description": "essential: only what asks you to act (reminders, tasks, alerts).",
        },
        "time_zone": {
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
            "description": "An IANA time zone, such as Europe/Zurich: the pages write times in"
            " it, with UTC beside deadlines.",
        },
    },
    minProperties=1,
)

APPROVAL = closed({"note": REASON})

CHANGE_REQUEST = closed(
    {
        "note": REASON,
        "editorial": {
            "type": "object",
            "description": "Editorial text per section: overview, coverage, cluster-1..4,"
            " objective-1..23, guiding-principles, gaps, consultation, annex. It stays in later"
            " versions until a later request gives the same section a new text.",
            "maxProperties": 40,
            "propertyNames": {
                "pattern": "^(overview|coverage|cluster-[1-4]|objective-([1-9]|1[0-9]|2[0-3])"
                "|guiding-principles|gaps|consultation|annex)$"
            },
            "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 20000},
        },
    },
    ["note"],
)

REMINDERS = closed({})

ANNOUNCEMENT = closed(
    {
        "audience": {
            "enum": ["participants", "member_states_missing", "stakeholders_missing"],
            "description": "participants: everyone taking part (the member States' focal"
            " points, the invited stakeholders, the consultation's assignees);"
            " member_states_missing / stakeholders_missing: those a reminder sent now would"
            " name.",
        },
        "subject": {"type": "string", "minLength": 1, "maxLength": 200},
        "body": {
            "type": "string",
            "minLength": 1,
            "maxLength": 10000,
            "description": "Plain text, sent as written.",
        },
    },
    ["audience", "subject", "body"],
)
