"""The OpenAPI 3.1 description of the API (`GET /openapi.json`) and a page to read it (`GET /docs`).

Request bodies are described by the very dicts the handlers check them with (`api.requests`,
`reviewflow.accounts`) and documents by the files in `schemas/`, so what is documented is what
is checked. Those schemas refer to each other by absolute `$id`; here each file becomes a
component and every `$ref` is rewritten to point inside this document, which therefore needs
nothing from the network.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from functools import cache
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urldefrag, urljoin

from aiohttp import web

import schemas
from activities.notify import WEBHOOK_TIMEOUT
from activities.synthesis import EXCERPT_CHARS
from api import requests as request_schemas
from api.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.idempotency import MAX_KEY_LENGTH
from api.problems import PROBLEM_TYPE
from api.reports import FORMATS as REPORT_FORMATS
from api.reviews import TASK_STATUSES
from api.webhooks import WEBHOOKS_PER_OWNER
from domain.access import ROLES
from domain.events import EventType
from domain.review import Phase
from notifications.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    MAX_ATTEMPTS,
    RETRY_BASE_S,
    RETRY_CAP_S,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
)
from reports.compile import GENERAL_COMMENTS, QUOTE_CHARS, QUOTES_PER_OBJECTIVE
from reviewflow.accounts import NEW_ACTOR_SCHEMA

routes = web.RouteTableDef()

JSON = "application/json"
SCHEMA_BASE = schemas.COMMON_ID.rsplit("/", 1)[0] + "/"
COMPONENT_SCHEMAS = "#/components/schemas/"


def _checked_as(schema: dict[str, Any], field: str, document: str) -> dict[str, Any]:
    """`schema`, whose `field` the handler goes on to check against the document schema
    `document`, with that check written into it: the two checks as one schema."""
    described = copy.deepcopy(schema)
    described["properties"][field] = {
        "$ref": f"{SCHEMA_BASE}{document}.json",
        **described["properties"][field],
    }
    return described


# Component name of each request-body schema, and where it comes from.
REQUEST_SCHEMAS: dict[str, dict[str, Any]] = {
    "NewActor": NEW_ACTOR_SCHEMA,
    "NewReview": request_schemas.NEW_REVIEW,
    "Extension": request_schemas.EXTENSION,
    "Advance": request_schemas.ADVANCE,
    "Cancel": request_schemas.CANCEL,
    "NewSubmission": request_schemas.SUBMISSION,
    "TaskCompletion": _checked_as(
        request_schemas.TASK_COMPLETION, "response", "consultation_response"
    ),
    "TaskDelegation": request_schemas.TASK_DELEGATION,
    "NewWebhook": request_schemas.NEW_WEBHOOK,
    "Preferences": request_schemas.PREFERENCES,
    "Approval": request_schemas.APPROVAL,
    "ChangeRequest": request_schemas.CHANGE_REQUEST,
}

# ---- JSON Schemas as components ------------------------------------------------------------

# Keywords whose value is a map of names to subschemas: the names are not keywords.
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})
# Keywords whose value is data, not schema: copied as they are.
_DATA = frozenset({"const", "enum", "default", "examples"})


def _component_ref(ref: str, base: str) -> str:
    """`ref`, resolved against `base`, as a pointer into this document's components."""
    target, fragment = urldefrag(urljoin(base, ref))
    name = target.removeprefix(SCHEMA_BASE).removesuffix(".json")
    if target != f"{SCHEMA_BASE}{name}.json" or name not in schemas.schema_names():
        raise ValueError(f"$ref {ref!r} (base {base!r}) names no schema of this service")
    return f"{COMPONENT_SCHEMAS}{name}{fragment}"


def _rebased(node: Any, base: str = "") -> Any:
    """A copy of the schema `node` with every `$ref` rewritten by `_component_ref`.

    `$id` and `$schema` are left out: inside the document an `$id` would change the base the
    rewritten references resolve against, and the document's `jsonSchemaDialect` says 2020-12.
    """
    if isinstance(node, list):
        return [_rebased(item, base) for item in node]
    if not isinstance(node, dict):
        return node
    base = urljoin(base, node.get("$id", ""))
    copied: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("$id", "$schema"):
            continue
        if key == "$ref":
            copied[key] = _component_ref(value, base)
        elif key in _DATA:
            copied[key] = copy.deepcopy(value)
        elif key in _SCHEMA_MAPS:
            copied[key] = {name: _rebased(sub, base) for name, sub in value.items()}
        else:
            copied[key] = _rebased(value, base)
    return copied


def _schema(name: str) -> dict[str, str]:
    return {"$ref": COMPONENT_SCHEMAS + name}


def _common(definition: str) -> dict[str, str]:
    return {"$ref": f"{COMPONENT_SCHEMAS}common/$defs/{definition}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(
    properties: dict[str, Any], optional: tuple[str, ...] = (), **extra: Any
) -> dict[str, Any]:
    """An object whose fields are present in every answer (null where they have no value),
    except the `optional` ones."""
    required = [name for name in properties if name not in optional]
    return {"type": "object", "required": required, "properties": properties, **extra}


def _array(items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "array", "items": items, **extra}


def _list_of(name: str, **more: Any) -> dict[str, Any]:
    return _object({"items": _array(_schema(name)), **more})


UUID = {"type": "string", "format": "uuid"}
TEXT = {"type": "string"}
COUNT = {"type": "integer", "minimum": 0}
VERSION = {"type": "integer", "minimum": 1}
SUBMISSION_KIND = {"enum": request_schemas.SUBMISSION["properties"]["kind"]["enum"]}
REVIEW_ID = {"type": "string", "pattern": request_schemas.REVIEW_ID_PATTERN}
PHASE = {"enum": [phase.value for phase in Phase]}
CLUSTER = {"type": "integer", "minimum": 1, "maximum": 4}
SHARE = {"type": "number", "minimum": 0, "maximum": 1}
# The `status` of a report version (the reports table's CHECK).
REPORT_STATUS = {
    "enum": ["draft", "published"],
    "description": "draft: before the secretariat's approval; published: approved, and from"
    " then on frozen.",
}
REPORT_HASH = {
    "type": "string",
    "pattern": "^[0-9a-f]{64}$",
    "description": "SHA-256 (hex) of the report's JSON without content_hash, with sorted keys,"
    " no whitespace, UTF-8.",
}
# The `status` of a webhook delivery (the deliveries table's CHECK), and what each means.
DELIVERY_STATUSES = {
    "pending": "waiting for its next attempt (`next_attempt_at`)",
    "sending": "an attempt is under way",
    "sent": "the receiver answered 2xx",
    "failed": "given up (an answer that is not retried, the URL now refused, or"
    f" {MAX_ATTEMPTS} attempts)",
}


def _answer_schemas() -> dict[str, dict[str, Any]]:
    """What the API answers with."""
    actor_fields = {
        "id": UUID,
        "name": TEXT,
        "email": {"type": ["string", "null"]},
        "role": {"enum": list(ROLES)},
        "regions": _array(_common("region_code")),
        "country": _nullable(_common("iso3")),
        "organisation": {"type": ["string", "null"]},
        "organisation_id": {
            **_nullable(UUID),
            "description": "A stakeholder's organisation: accounts with the same id act for"
            " the same organisation (the name alone says nothing).",
        },
        "stakeholder_category": _nullable(_common("stakeholder_category")),
        **{
            name: copy.deepcopy(request_schemas.PREFERENCES["properties"][name])
            for name in ("language", "notifications")
        },
    }
    country = _object({"iso3": _common("iso3"), "name": TEXT})
    region_fields = {"code": _common("region_code"), "commission": TEXT, "region": TEXT}
    titled = _object({"id": TEXT, "title": TEXT})
    timeline = _object({name: _schema("Instant") for name in request_schemas.DEADLINES})
    escalation = request_schemas.NEW_REVIEW["properties"]["escalation"]
    provenance = {
        "submission_id": {**UUID, "description": "The submission it comes from."},
        "version": {**VERSION, "description": "The version of that submission."},
    }
    reported = _object(
        {"text": TEXT, "country": _common("iso3"), **provenance},
        description="One entry of a national report, with where it comes from.",
    )
    quote = {
        "type": "string",
        "maxLength": QUOTE_CHARS,
        "description": f"The text's first {QUOTE_CHARS} characters.",
    }
    consulted_category = {
        "anyOf": [_common("stakeholder_category"), {"const": "focal_point"}],
        "description": "The stakeholder category of those consulted; focal_point for member"
        " States' focal points.",
    }
    consulted_quote = _object(
        {
            "category": consulted_category,
            "organisation": {
                "type": "string",
                "description": "The organisation consulted, or the ISO3 code of a focal point's"
                " member State.",
            },
            "text": quote,
            "task_id": {**UUID, "description": "The consultation task it answers."},
        }
    )
    consultation_response = schemas.schema_document("consultation_response")
    assert consultation_response is not None
    endorsements = consultation_response["properties"]["endorsement"]["enum"]
    editorial = request_schemas.CHANGE_REQUEST["properties"]["editorial"]
    return {
        "Problem": {
            "type": "object",
            "description": "An error, as RFC 9457 problem details.",
            "required": ["type", "title", "status"],
            "properties": {
                "type": {"type": "string", "examples": ["about:blank"]},
                "title": {"type": "string", "description": "The HTTP status phrase."},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": {"type": "string", "description": "What went wrong, for a person."},
                "errors": _array(
                    _object(
                        {
                            "pointer": {
                                "type": "string",
                                "description": "RFC 6901 JSON Pointer into the request body"
                                ' ("" for the body itself); for a missing field, where it'
                                " belongs.",
                            },
                            "message": {"type": "string"},
                        }
                    ),
                    description="Every problem of an invalid request (422), one per field.",
                ),
            },
        },
        "Instant": {
            "type": "string",
            "format": "date-time",
            "description": "An instant with its UTC offset, e.g. 2020-10-26T23:59:59+00:00.",
        },
        "Health": _object({"status": {"const": "ok"}}),
        "Readiness": _object(
            {
                "status": {"enum": ["ready", "unavailable"]},
                "checks": _object(
                    {
                        "database": {"enum": ["up", "down"]},
                        "temporal": {"enum": ["up", "down"]},
                    }
                ),
            }
        ),
        "Gcm": _object(
            {
                "objectives": _array(
                    _object(
                        {
                            "number": _common("objective_number"),
                            "title": TEXT,
                            "cluster": CLUSTER,
                        }
                    )
                ),
                "clusters": _array(
                    _object(
                        {
                            "number": CLUSTER,
                            "title": TEXT,
                            "objectives": _array(_common("objective_number")),
                        }
                    ),
                    description="The four round-table clusters of the International Migration"
                    " Review Forum.",
                ),
                "guiding_principles": _array(
                    _object(
                        {
                            "id": _common("guiding_principle"),
                            "title": TEXT,
                            "paragraph": {"type": "string", "examples": ["15(a)"]},
                        }
                    )
                ),
                "stakeholder_categories": _array(titled),
                "objective_statuses": _array(titled),
            }
        ),
        "Country": country,
        "RegionSummary": _object(region_fields),
        "RegionList": _list_of("RegionSummary"),
        "Region": _object(
            {
                **region_fields,
                "members": _array(_schema("Country")),
                "default_scope": _array(
                    _common("iso3"),
                    description="The member States a review covers unless told otherwise.",
                ),
                "non_regional_members": _array(_common("iso3")),
                "associate_members": _array(_schema("Country")),
            }
        ),
        "Actor": _object(actor_fields),
        "NewActorAnswer": _object(
            {
                **actor_fields,
                "token": {
                    "type": ["string", "null"],
                    "description": "The new account's bearer token, shown in this answer only;"
                    " null when a retry with the same Idempotency-Key replays it.",
                },
            }
        ),
        "Timeline": timeline,
        "Progress": _object(
            {
                "member_states_total": COUNT,
                "national_reports": COUNT,
                "missing": _array(
                    _common("iso3"), description="Member States without a national report."
                ),
                "stakeholder_inputs": COUNT,
                "late": {**COUNT, "description": "Submissions accepted after their deadline."},
                "tasks": {
                    **_schema("TaskProgress"),
                    "description": "The consultation's tasks; all zero before it opens.",
                },
            }
        ),
        "TaskProgress": _object(
            {
                **{status: COUNT for status in TASK_STATUSES},
                "total": COUNT,
                "response_rate": {
                    "type": ["number", "null"],
                    "minimum": 0,
                    "maximum": 1,
                    "description": "completed / total, to four decimals; null without tasks.",
                },
                "by_category": {
                    "type": "object",
                    "propertyNames": {
                        "anyOf": [_common("stakeholder_category"), {"const": "focal_point"}]
                    },
                    "additionalProperties": _object(
                        {"total": COUNT, "completed": COUNT, "response_rate": SHARE}
                    ),
                    "description": "Per stakeholder category (focal points under"
                    " `focal_point`); only categories that have tasks. response_rate is"
                    " completed / total, to four decimals.",
                },
            }
        ),
        "Review": _object(
            {
                "id": REVIEW_ID,
                "region": _common("region_code"),
                "title": TEXT,
                "phase": PHASE,
                "member_states": _array(_common("iso3")),
                "timeline": {**_schema("Timeline"), "description": "As given at creation."},
                "deadlines": {
                    **_schema("Timeline"),
                    "description": "The deadlines now, extensions included.",
                },
                "country_extensions": {
                    "type": "object",
                    "propertyNames": _common("iso3"),
                    "additionalProperties": _schema("Instant"),
                    "description": "inputs_due_at of the member States given more time.",
                },
                "reminder_days": _array({"type": "integer", "minimum": 1}),
                "late_submissions": {
                    "enum": request_schemas.NEW_REVIEW["properties"]["late_submissions"]["enum"]
                },
                "consult_focal_points": {
                    "type": "boolean",
                    "description": "Whether the member States' focal points get a consultation"
                    " task too.",
                },
                "reminders_optional": {
                    "type": "boolean",
                    "description": request_schemas.NEW_REVIEW["properties"]["reminders_optional"][
                        "description"
                    ],
                },
                "escalation": {
                    **_nullable(_object(copy.deepcopy(escalation["properties"]))),
                    "description": escalation["description"] + " Null: no alerts.",
                },
                "stakeholders": {
                    "oneOf": [
                        {"const": "open", "description": "Any stakeholder may submit."},
                        {
                            "const": "invited",
                            "description": "Only invited stakeholders (whom, the secretariat sees).",
                        },
                        _array(UUID, description="The stakeholder actors invited."),
                    ]
                },
                "progress": {
                    **_schema("Progress"),
                    "description": "Only for the review's secretariat, and not in lists.",
                },
                "created_at": _schema("Instant"),
                "updated_at": _schema("Instant"),
            },
            optional=("progress",),
        ),
        "ReviewList": _list_of(
            "Review",
            next_cursor={
                "type": ["string", "null"],
                "description": "Pass as `cursor` for the next page; null on the last page.",
            },
        ),
        "SubmissionReceipt": _object(
            {
                "id": UUID,
                "review_id": REVIEW_ID,
                "kind": SUBMISSION_KIND,
                "subject": {
                    "type": "string",
                    "description": "The ISO3 country of a national report, or the"
                    " organisation id of a stakeholder input.",
                },
                "version": VERSION,
                "late": {"type": "boolean"},
                "status": {"const": "accepted"},
            }
        ),
        "SubmissionSummary": _object(
            {
                "id": UUID,
                "kind": SUBMISSION_KIND,
                "subject": TEXT,
                "latest_version": VERSION,
                "late": {"type": "boolean"},
                "updated_at": _schema("Instant"),
            }
        ),
        "SubmissionList": _list_of("SubmissionSummary"),
        "SubmissionVersion": _object(
            {"version": VERSION, "late": {"type": "boolean"}, "received_at": _schema("Instant")}
        ),
        "Submission": _object(
            {
                "id": UUID,
                "review_id": REVIEW_ID,
                "kind": SUBMISSION_KIND,
                "subject": TEXT,
                "version": VERSION,
                "late": {"type": "boolean"},
                "received_at": _schema("Instant"),
                "submitted_by": UUID,
                "content": {
                    "type": "object",
                    "description": "The document, valid against the schema named by `kind`.",
                },
                "versions": _array(
                    _schema("SubmissionVersion"),
                    description="Every accepted version, oldest first.",
                ),
            }
        ),
        "Event": _object(
            {
                "seq": {"type": "integer", "minimum": 1, "description": "Order in the trail."},
                "id": UUID,
                "type": {
                    "type": "string",
                    "examples": [
                        "review.created",
                        "phase.changed",
                        "submission.accepted",
                        "task.completed",
                    ],
                },
                "actor_id": {**_nullable(UUID), "description": "Null for the system's own acts."},
                "at": _schema("Instant"),
                "data": {"type": "object"},
            }
        ),
        "EventList": _list_of(
            "Event",
            next_after={
                "type": ["integer", "null"],
                "description": "Pass as `after` for the next page; null when there is none yet.",
            },
        ),
        "Delegation": _object(
            {
                "from": UUID,
                "to": UUID,
                "note": {"type": ["string", "null"]},
                "at": _schema("Instant"),
            }
        ),
        "Task": _object(
            {
                "id": UUID,
                "review_id": REVIEW_ID,
                "kind": {
                    "enum": ["consultation"],
                    "description": "What the task asks for: an answer to the consultation on"
                    " the review's synthesis.",
                },
                "assignee": {
                    **UUID,
                    "description": "Who answers it now: the invitee, or a colleague it was"
                    " handed to.",
                },
                "invitee": {**UUID, "description": "Who was consulted."},
                "organisation": {"type": ["string", "null"]},
                "stakeholder_category": {
                    **_nullable(_common("stakeholder_category")),
                    "description": "Null for a member State's focal point.",
                },
                "country": _nullable(_common("iso3")),
                "due_at": _schema("Instant"),
                "status": {"enum": list(TASK_STATUSES)},
                "response": {
                    **_nullable(_schema("consultation_response")),
                    "description": "The answer; null until the task is completed.",
                },
                "completed_at": _nullable(_schema("Instant")),
                "reminders_sent": COUNT,
                "delegations": _array(
                    _schema("Delegation"), description="Every hand-over, oldest first."
                ),
                "created_at": _schema("Instant"),
            }
        ),
        "TaskList": _list_of(
            "Task",
            next_after={
                "type": ["string", "null"],
                "format": "uuid",
                "description": "Pass as `after` for the next page; null when this page is not"
                " full.",
            },
        ),
        "SynthesisObjective": _object(
            {
                "number": _common("objective_number"),
                "title": TEXT,
                "cluster": CLUSTER,
                "statuses": {
                    "type": "object",
                    "propertyNames": _common("objective_status"),
                    "additionalProperties": _array(_common("iso3")),
                    "description": "The member States that reported each status.",
                },
                "measures": _array(reported),
                "challenges": _array(reported),
                "good_practices": _array(reported),
                "stakeholder_inputs": _array(
                    _object(
                        {
                            "organisation": TEXT,
                            "category": _common("stakeholder_category"),
                            "excerpt": {
                                "type": "string",
                                "maxLength": EXCERPT_CHARS,
                                "description": "The input's text, cut short (ending in …) if"
                                f" longer than {EXCERPT_CHARS} characters.",
                            },
                            **provenance,
                        }
                    ),
                    description="The inputs on this objective whose organisation consented"
                    " to publication (their recommendations are in the synthesis'"
                    " `recommendations`, once per input). An objective with many may come in"
                    " several parts, on one page or more: merge them by `number`.",
                ),
                "unpublished_stakeholder_inputs": {
                    **COUNT,
                    "description": "Inputs on this objective without consent to publish:"
                    " counted, not quoted.",
                },
            }
        ),
        "Synthesis": _object(
            {
                "review_id": REVIEW_ID,
                "sources": _object(
                    {"national_reports": COUNT, "stakeholder_inputs": COUNT},
                    description="How many submissions it was built from.",
                ),
                "clusters": _array(
                    _object(
                        {
                            "number": CLUSTER,
                            "title": TEXT,
                            "objectives": _array(_schema("SynthesisObjective")),
                        }
                    ),
                    description="The four clusters, each with its objectives.",
                ),
                "guiding_principles": _array(
                    _object(
                        {
                            "id": _common("guiding_principle"),
                            "title": TEXT,
                            "applied_by": _array(
                                _object({"country": _common("iso3"), **provenance})
                            ),
                        }
                    )
                ),
                "recommendations": _array(
                    _object({"organisation": TEXT, "recommendations": _array(TEXT), **provenance}),
                    description="The recommendations of the consenting inputs on this page,"
                    " once per input.",
                ),
                "content_hash": {
                    "type": "string",
                    "pattern": "^[0-9a-f]{64}$",
                    "description": "SHA-256 (hex) of the whole synthesis (every page), the same"
                    " on every page: it changes only if the synthesis does.",
                },
                "created_at": {**_schema("Instant"), "description": "When it was compiled."},
                "next_cursor": {
                    "type": ["string", "null"],
                    "description": "Pass as `cursor` for the next page; null on the last.",
                },
            },
            optional=("recommendations", "next_cursor"),
        ),
        "ReportObjective": _object(
            {
                "number": _common("objective_number"),
                "title": TEXT,
                "statuses": _array(
                    _object(
                        {
                            "country": _common("iso3"),
                            "status": _common("objective_status"),
                            **provenance,
                        }
                    ),
                    description="The status each member State reported, in order of country.",
                ),
                "measures": _array(reported),
                "challenges": _array(reported),
                "good_practices": _array(reported),
                "stakeholder_views": _object(
                    {
                        "count": {
                            **COUNT,
                            "description": "Stakeholder inputs on this objective, quoted or not.",
                        },
                        "by_category": _array(
                            _object({"category": _common("stakeholder_category"), "count": COUNT}),
                            description="Those inputs per stakeholder category, in order of"
                            " category.",
                        ),
                        "quotes": _array(
                            _object(
                                {
                                    "organisation": TEXT,
                                    "category": _common("stakeholder_category"),
                                    "text": quote,
                                    **provenance,
                                }
                            ),
                            maxItems=QUOTES_PER_OBJECTIVE,
                            description="Inputs whose organisation consented to publication, at"
                            f" most {QUOTES_PER_OBJECTIVE}, in order of organisation.",
                        ),
                    }
                ),
                "consultation_comments": _object(
                    {
                        "count": {
                            **COUNT,
                            "description": "Comments on this objective in the consultation's"
                            " answers.",
                        },
                        "quotes": _array(
                            consulted_quote,
                            maxItems=QUOTES_PER_OBJECTIVE,
                            description=f"At most {QUOTES_PER_OBJECTIVE}, in order of"
                            " organisation.",
                        ),
                    }
                ),
            }
        ),
        "Report": _object(
            {
                "review": _object(
                    {
                        "id": REVIEW_ID,
                        "title": TEXT,
                        "region": _common("region_code"),
                        "commission": TEXT,
                        "member_states": _array(_schema("Country")),
                    }
                ),
                "version": VERSION,
                "overview": _object(
                    {
                        "member_states": COUNT,
                        "reports_received": {
                            **COUNT,
                            "description": "Member States with a national report.",
                        },
                        "late_reports": {
                            **COUNT,
                            "description": "National reports whose latest version came late.",
                        },
                        "stakeholder_inputs": COUNT,
                        "consultation": _object(
                            {
                                "tasks": COUNT,
                                "completed": COUNT,
                                "response_rate": {
                                    "type": ["number", "null"],
                                    "minimum": 0,
                                    "maximum": 1,
                                    "description": "completed / tasks, to four decimals; null"
                                    " without tasks.",
                                },
                                "by_category": _array(
                                    _object(
                                        {
                                            "category": consulted_category,
                                            "title": TEXT,
                                            "consulted": COUNT,
                                            "responded": COUNT,
                                        }
                                    ),
                                    description="In order of category.",
                                ),
                            }
                        ),
                    }
                ),
                "clusters": _array(
                    _object(
                        {
                            "number": CLUSTER,
                            "title": TEXT,
                            "objectives": _array(_schema("ReportObjective")),
                        }
                    ),
                    description="The four clusters, each with its objectives.",
                ),
                "guiding_principles": _array(
                    _object(
                        {
                            "id": _common("guiding_principle"),
                            "title": TEXT,
                            "reported_by": _array(
                                _object({"country": _common("iso3"), "text": TEXT, **provenance}),
                                description="How member States applied it, in order of country.",
                            ),
                        }
                    ),
                    description="All ten guiding principles.",
                ),
                "gaps": _object(
                    {
                        "objectives_without_reports": _array(
                            _common("objective_number"),
                            description="Objectives no national report gave a status.",
                        ),
                        "states_without_report": _array(_schema("Country")),
                    }
                ),
                "coverage": _object(
                    {
                        "objectives": _array(
                            _common("objective_number"), description="The columns, in order."
                        ),
                        "statuses": _array(
                            _common("objective_status"), description="Every status, in order."
                        ),
                        "rows": _array(
                            _object(
                                {
                                    "iso3": _common("iso3"),
                                    "name": TEXT,
                                    "cells": _array(
                                        _nullable(_common("objective_status")),
                                        description="The status reported for each objective of"
                                        " `objectives`, in that order; null where none was.",
                                    ),
                                }
                            ),
                            description="One per member State of the review, in its order.",
                        ),
                    },
                    description="Member States by objectives: the heatmap.",
                ),
                "consultation": _object(
                    {
                        "endorsements": _object(
                            {name: COUNT for name in endorsements},
                            description="Completed consultation tasks per endorsement.",
                        ),
                        "general_comments": _array(
                            consulted_quote,
                            maxItems=GENERAL_COMMENTS,
                            description=f"At most {GENERAL_COMMENTS}, in order of organisation.",
                        ),
                    }
                ),
                "editorial": _array(
                    _object(
                        {
                            "section": {
                                "type": "string",
                                "pattern": editorial["propertyNames"]["pattern"],
                            },
                            "text": TEXT,
                        }
                    ),
                    description="The editorial text of the change request this version was"
                    " compiled for (none for version 1), in order of section.",
                ),
                "annex": _object(
                    {
                        "after_compilation": _array(
                            _object(
                                {
                                    "kind": SUBMISSION_KIND,
                                    "subject": TEXT,
                                    "received_at": _schema("Instant"),
                                }
                            ),
                            description="Submissions refused because compilation had started,"
                            " in order of receipt.",
                        )
                    }
                ),
                "content_hash": REPORT_HASH,
            },
            description="A version of the review's report, compiled from the latest version of"
            " every submission and the consultation's answers. Served as stored: the same"
            " bytes on every read.",
        ),
        "ReportVersion": _object(
            {"version": VERSION, "content_hash": REPORT_HASH, "status": REPORT_STATUS}
        ),
        "SchemaList": _object(
            {"items": _array(_object({"name": {"enum": schemas.schema_names()}, "href": TEXT}))}
        ),
        "Webhook": _object(
            {
                "id": UUID,
                "url": TEXT,
                "events": {
                    **copy.deepcopy(request_schemas.NEW_WEBHOOK["properties"]["events"]),
                    "description": 'The event types delivered; ["*"] for all.',
                },
                "review_id": {
                    **_nullable(REVIEW_ID),
                    "description": "The one review it covers; null when it covers regions.",
                },
                "regions": _array(
                    _common("region_code"),
                    description="Every review of these regions; empty when it covers one review.",
                ),
                "created_at": _schema("Instant"),
            },
            description="A webhook subscription. Its secret is never shown.",
        ),
        "WebhookList": _list_of("Webhook"),
        "DeliveryAttempt": _object(
            {
                "attempt": {"type": "integer", "minimum": 1},
                "at": {**_schema("Instant"), "description": "When it was recorded."},
                "status_code": {
                    "type": ["integer", "null"],
                    "description": "The receiver's HTTP status; null when there was none"
                    " (connection error, timeout, URL refused).",
                },
                "error": {
                    "type": ["string", "null"],
                    "description": "The class of why it did not succeed (http_3xx, http_4xx,"
                    " http_5xx, timeout, connection_refused, connection_error, dns, tls,"
                    " refused_by_policy), never the host, port or error text; null when it was"
                    " sent.",
                },
            }
        ),
        "Delivery": _object(
            {
                "id": {
                    **UUID,
                    "description": f"The delivery id: `{DELIVERY_HEADER}` and `id` in the"
                    " body, the same on every attempt.",
                },
                "event_id": {**UUID, "description": "The event, in the review's audit trail."},
                "event_type": {"enum": [e.value for e in EventType]},
                "status": {
                    "enum": list(DELIVERY_STATUSES),
                    "description": "; ".join(f"{k}: {v}" for k, v in DELIVERY_STATUSES.items())
                    + ".",
                },
                "attempts": COUNT,
                "next_attempt_at": {
                    **_nullable(_schema("Instant")),
                    "description": "When it is attempted next; null unless pending.",
                },
                "sent_at": _nullable(_schema("Instant")),
                "last_error": {
                    "type": ["string", "null"],
                    "description": "The error of the last attempt; null once sent.",
                },
                "created_at": _schema("Instant"),
                "attempt_log": _array(
                    _schema("DeliveryAttempt"), description="Every attempt, oldest first."
                ),
            }
        ),
        "DeliveryList": _list_of(
            "Delivery",
            next_after={
                "type": ["string", "null"],
                "format": "uuid",
                "description": "Pass as `after` for the next page; null when this page is not"
                " full.",
            },
        ),
    }


# ---- parameters and responses ---------------------------------------------------------------


def _path_parameter(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


PARAMETERS: dict[str, dict[str, Any]] = {
    "ReviewId": _path_parameter("id", REVIEW_ID, "The review's id, such as ece-2020."),
    "SubmissionId": _path_parameter("id", UUID, "The submission's id."),
    "TaskId": _path_parameter("id", UUID, "The task's id."),
    "WebhookId": _path_parameter("id", UUID, "The webhook's id."),
    "ActorId": _path_parameter("id", UUID, "The account's id."),
    "RegionCode": _path_parameter(
        "code", {"type": "string"}, "A region code (ECE, ECA, ECLAC, ESCAP, ESCWA), any case."
    ),
    "SchemaName": _path_parameter("name", {"enum": schemas.schema_names()}, "The schema's name."),
    "IdempotencyKey": {
        "name": IDEMPOTENCY_HEADER,
        "in": "header",
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
        "description": "Any unique string of yours. A retry with the same key and body returns"
        " the first answer and creates nothing twice; the same key with another body is a 422.",
    },
}


def _json(
    description: str, schema: dict[str, Any], media_type: str = JSON, **headers: str
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {media_type: {"schema": schema}},
    }
    if headers:
        response["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return response


def _header(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "schema": schema}


def _problem(description: str, **headers: str) -> dict[str, Any]:
    return _json(description, _schema("Problem"), PROBLEM_TYPE, **headers)


RESPONSES: dict[str, dict[str, Any]] = {
    "BadRequest": _problem("The body is not JSON, or the Idempotency-Key header is malformed."),
    "Unauthorized": _problem(
        "No bearer token, or one that is not valid.",
        **{"WWW-Authenticate": 'Bearer realm="reviewflow"'},
    ),
    "Forbidden": _problem("The token's actor may not do this."),
    "NotFound": _problem("There is no such resource, or the actor may not see it."),
    "Conflict": _problem("The request conflicts with the resource's current state."),
    "PayloadTooLarge": _problem("The body is larger than the API accepts."),
    "UnsupportedMediaType": _problem("The body is not sent as application/json."),
    "Unprocessable": _problem(
        "The body (or a query parameter) is not valid: `errors` lists every problem, each with"
        " a JSON Pointer (`/name` for a query parameter)."
    ),
    "Unavailable": _problem(
        "A service the request needs is unavailable; retry shortly.",
        **{"Retry-After": "Seconds to wait before retrying."},
    ),
    "TooManyRequests": _problem(
        "This client (its bearer token, or its address without one) sent more requests than"
        " the API takes per second; retry after `Retry-After` seconds.",
        **{"Retry-After": "Seconds to wait before retrying."},
    ),
    "Error": _problem("An unexpected error (logged on the server)."),
}


def _response(name: str, description: str | None = None) -> dict[str, Any]:
    reference: dict[str, Any] = {"$ref": f"#/components/responses/{name}"}
    if description:
        reference["description"] = description
    return reference


# ---- operations -----------------------------------------------------------------------------


def _operation(
    tag: str,
    operation_id: str,
    summary: str,
    responses: dict[str, Any],
    *,
    description: str | None = None,
    parameters: tuple[str | dict[str, Any], ...] = (),
    body: str | None = None,
    public: bool = False,
) -> dict[str, Any]:
    """One operation; errors every endpoint of its kind may answer are added here."""
    operation: dict[str, Any] = {"tags": [tag], "operationId": operation_id, "summary": summary}
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = [
            {"$ref": f"#/components/parameters/{p}"} if isinstance(p, str) else p
            for p in parameters
        ]
    answers = dict(responses)
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": _schema(body)}},
        }
        for status, name in (
            ("400", "BadRequest"),
            ("413", "PayloadTooLarge"),
            ("415", "UnsupportedMediaType"),
            ("422", "Unprocessable"),
        ):
            answers.setdefault(status, _response(name))
    if public:
        operation["security"] = []
    else:
        operation["security"] = [{"bearerAuth": []}]
        answers.setdefault("401", _response("Unauthorized"))
        answers.setdefault("429", _response("TooManyRequests"))
    answers["default"] = _response("Error")
    operation["responses"] = dict(sorted(answers.items()))
    return operation


SIGNATURE = (
    'Every delivery is a POST of UTF-8 JSON, `{"id": <delivery id>, "event": {id, type,'
    " review_id, at, actor_id, data}}` (the event as in the review's audit trail), with the"
    f" headers `{DELIVERY_HEADER}` (the delivery id, the same on every attempt),"
    f" `{EVENT_HEADER}` (the event type), `{TIMESTAMP_HEADER}` (Unix seconds, new on every"
    f" attempt) and `{SIGNATURE_HEADER}: sha256=<hex>`.\n\n"
    "To verify a delivery: take the raw body bytes as received (before any JSON parsing);"
    f" compute HMAC-SHA256 keyed with the secret over the `{TIMESTAMP_HEADER}` value, a dot and"
    ' the body, `"<timestamp>." + body` (not over the body alone); write it in lowercase hex'
    f" after `sha256=` and compare it with `{SIGNATURE_HEADER}` in constant time; refuse a"
    " timestamp more than 5 minutes from your clock (a replay). Deduplicate on the delivery id:"
    " a delivery may arrive more than once.\n\n"
    f"Answer 2xx within {WEBHOOK_TIMEOUT.total:g} s. No answer, 408, 429 and 5xx are retried"
    f" (at most {MAX_ATTEMPTS} attempts, waiting from {RETRY_BASE_S:g} s, doubling, up to"
    f" {RETRY_CAP_S / 3600:g} h, jittered); 3xx (redirects are not followed) and other 4xx fail"
    " the delivery. See docs/webhooks.md."
)


def _paths() -> dict[str, dict[str, Any]]:
    review = _json("The review, as it is now.", _schema("Review"))
    forbidden = _response("Forbidden", "Only the review's secretariat.")
    not_found = _response("NotFound")
    unavailable = _response("Unavailable")
    runs_reviews = _response("Forbidden", "Only secretariats and admins.")
    not_yours = _response(
        "NotFound", "No such webhook of the actor's (an admin's: of anyone's), or it was deleted."
    )
    awaiting = _response(
        "Conflict",
        "No report awaits a decision: the review is not in approval, or has ended.",
    )
    report_bodies = {
        "json": _schema("Report"),
        "html": {
            "type": "string",
            "description": "A standalone printable page: no script, nothing loaded from elsewhere.",
        },
        "md": {"type": "string", "description": "The report as Markdown."},
    }
    return {
        "/healthz": {
            "get": _operation(
                "Service",
                "healthz",
                "Liveness",
                {"200": _json("The process is up.", _schema("Health"))},
                public=True,
            )
        },
        "/readyz": {
            "get": _operation(
                "Service",
                "readyz",
                "Readiness: the database and Temporal are reachable",
                {
                    "200": _json("Ready.", _schema("Readiness")),
                    "503": _json(
                        "Not ready; `checks` says what is down.",
                        _schema("Readiness"),
                        **{"Retry-After": "Seconds to wait before asking again."},
                    ),
                },
                public=True,
            )
        },
        "/openapi.json": {
            "get": _operation(
                "Service",
                "openapi",
                "This description of the API (OpenAPI 3.1)",
                {"200": _json("The OpenAPI document.", {"type": "object"})},
                public=True,
            )
        },
        "/docs": {
            "get": _operation(
                "Service",
                "docs",
                "A page to read this description",
                {
                    "200": {
                        "description": "An HTML page rendering /openapi.json.",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    }
                },
                public=True,
            )
        },
        "/v1/gcm": {
            "get": _operation(
                "Reference",
                "getGcm",
                "GCM objectives, clusters, guiding principles, stakeholder categories",
                {"200": _json("The GCM reference data.", _schema("Gcm"))},
            )
        },
        "/v1/regions": {
            "get": _operation(
                "Reference",
                "listRegions",
                "The five regions",
                {"200": _json("The regions, without their members.", _schema("RegionList"))},
            )
        },
        "/v1/regions/{code}": {
            "get": _operation(
                "Reference",
                "getRegion",
                "A region and its member States",
                {"200": _json("The region.", _schema("Region")), "404": not_found},
                parameters=("RegionCode",),
            )
        },
        "/v1/actors": {
            "post": _operation(
                "Accounts",
                "createActor",
                "Create an account",
                {
                    "201": _json(
                        "The account, with its token (shown this once).",
                        _schema("NewActorAnswer"),
                    ),
                    "403": _response("Forbidden", "The actor may not create this account."),
                },
                description="An admin may create any account; a secretariat may create focal"
                " points, stakeholders and observers of its own regions.\n\n"
                "A focal point acts for its `country` in the reviews of its `regions` only."
                " Made by a secretariat, it gets those of the secretariat's regions (or of the"
                " `regions` named) that count the State; made by an admin without `regions`, the"
                " regions whose regional membership lists the State (both, for a State of two"
                " commissions). Each region named must count the State (else 422).\n\n"
                "A stakeholder names a new organisation with `organisation` and"
                " `stakeholder_category`: a new organisation is created, even if another has the"
                " same name. To add an account to an existing organisation, send its"
                " `organisation_id` instead: the name and category are the organisation's. A"
                " secretariat may join only organisations whose regions are all its own; any"
                " other id gets the same 422 as an unknown one.",
                parameters=("IdempotencyKey",),
                body="NewActor",
            )
        },
        "/v1/actors/me/export": {
            "get": _operation(
                "Accounts",
                "exportMe",
                "Export my personal data",
                {
                    "200": _json(
                        "Everything stored that is the account's own: the account, every"
                        " version it submitted (refused ones too), the tasks it was given or"
                        " answered, its webhooks (never their secrets) and the audit trail of"
                        " the account.",
                        _object(
                            {
                                "account": _schema("Actor"),
                                "submissions": _array({"type": "object"}),
                                "tasks": _array({"type": "object"}),
                                "webhooks": _array({"type": "object"}),
                                "account_events": _array(
                                    _object(
                                        {
                                            "type": TEXT,
                                            "by": _nullable(UUID),
                                            "at": TEXT,
                                            "data": {"type": "object"},
                                        }
                                    )
                                ),
                            }
                        ),
                    )
                },
            )
        },
        "/v1/actors/{id}/erase": {
            "post": _operation(
                "Accounts",
                "eraseActor",
                "Erase a person's data",
                {
                    "204": {
                        "description": "Erased: the person is pseudonymised, the account"
                        " deactivated."
                    },
                    "403": _response(
                        "Forbidden", "Only an admin erases, and never its own account."
                    ),
                    "404": _response("NotFound", "There is no such account."),
                },
                description="By an admin. The account's name becomes `Erased account` and the"
                " start of its id, its email is removed, and it is deactivated. Wherever the"
                " name or email was stored as a value (review events, the contact of its"
                " submissions, the stored answer to the request that created it, its email"
                " deliveries), it is replaced; rows stay, so the audit trail keeps its shape."
                " An organisation's name is not personal data and stays.",
                parameters=("ActorId",),
            )
        },
        "/v1/actors/me": {
            "get": _operation(
                "Accounts",
                "getMe",
                "Who am I",
                {"200": _json("The token's actor.", _schema("Actor"))},
            ),
            "patch": _operation(
                "Accounts",
                "setPreferences",
                "Set my notification preferences",
                {"200": _json("The token's actor, as it is now.", _schema("Actor"))},
                description="Send only what changes, at least one field. `language`: the"
                " language of the mail sent to you. `notifications`: `essential` leaves out"
                " mail that does not ask you to act; reminders too when the review's"
                " `reminders_optional` is true.",
                body="Preferences",
            ),
        },
        "/v1/actors/{id}/tokens": {
            "post": _operation(
                "Accounts",
                "issueToken",
                "Issue a new token for an account",
                {
                    "201": _json(
                        "The new token, shown only in this answer; the previous one stops working.",
                        {
                            "type": "object",
                            "required": ["id", "token"],
                            "additionalProperties": False,
                            "properties": {"id": UUID, "token": {"type": "string"}},
                        },
                    ),
                    "403": _response(
                        "Forbidden",
                        "A secretariat may revoke, not issue, the token of an account it created:"
                        " only the account itself or an admin issues one.",
                    ),
                    "404": _response(
                        "NotFound",
                        "Not an account you manage (yourself; any, for an admin;"
                        " those it created, for a secretariat).",
                    ),
                },
                description="Every issue and revocation is recorded (who, whose, when; never"
                " the token) in the account's audit trail. A deactivated account stays"
                " deactivated: a token issued for it does not sign in.",
                parameters=("ActorId",),
            ),
            "delete": _operation(
                "Accounts",
                "revokeToken",
                "Revoke an account's token",
                {
                    "204": {"description": "Revoked: the token no longer works."},
                    "404": _response(
                        "NotFound",
                        "Not an account you manage (yourself; any, for an admin;"
                        " those it created, for a secretariat).",
                    ),
                },
                parameters=("ActorId",),
            ),
        },
        "/v1/actors/{id}/deactivate": {
            "post": _operation(
                "Accounts",
                "deactivateActor",
                "Deactivate an account",
                {
                    "204": {
                        "description": "Deactivated (or it already was): its token no longer"
                        " works, it is sent no mail, and its webhooks stop."
                    },
                    "403": _response("Forbidden", "Nobody deactivates their own account."),
                    "404": _response(
                        "NotFound",
                        "Not an account you manage (any, for an admin; those it created, for a"
                        " secretariat).",
                    ),
                },
                description="By an admin, or by the secretariat that created the account. The"
                " account, its submissions and its audit trail stay; it is not consulted in"
                " consultations opening after. Recorded in the account's audit trail.",
                parameters=("ActorId",),
            )
        },
        "/v1/reviews": {
            "post": _operation(
                "Reviews",
                "createReview",
                "Create a review (starts its workflow)",
                {
                    "201": _json("The review, as created.", _schema("Review")),
                    "403": _response("Forbidden", "Only a secretariat of the review's region."),
                    "409": _response("Conflict", "A review with this id already exists."),
                    "503": unavailable,
                },
                parameters=("IdempotencyKey",),
                body="NewReview",
            ),
            "get": _operation(
                "Reviews",
                "listReviews",
                "The reviews the actor may see",
                {
                    "200": _json("A page of reviews, oldest first.", _schema("ReviewList")),
                    "422": _response("Unprocessable", "A query parameter is not valid."),
                },
                description="An admin sees every review; a secretariat those of its regions; a"
                " focal point those of its regions with its country as a member State; a"
                " stakeholder those it is consulted on; an observer published reviews only (of"
                " its regions, or of every region if it has none).",
                parameters=(
                    _query("region", _common("region_code"), "Only reviews of this region."),
                    _query("phase", PHASE, "Only reviews in this phase."),
                    _query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
                        "At most this many reviews.",
                    ),
                    _query("cursor", TEXT, "`next_cursor` of the previous page."),
                ),
            ),
        },
        "/v1/reviews/{id}": {
            "get": _operation(
                "Reviews",
                "getReview",
                "A review: phase, deadlines, progress",
                {"200": review, "404": not_found},
                parameters=("ReviewId",),
            )
        },
        "/v1/reviews/{id}/extensions": {
            "post": _operation(
                "Reviews",
                "extendDeadline",
                "Extend a deadline, for the review or for one member State",
                {
                    "200": review,
                    "403": forbidden,
                    "404": not_found,
                    "409": _response(
                        "Conflict", "The deadline can no longer move, or the review has ended."
                    ),
                    "503": unavailable,
                },
                parameters=("ReviewId", "IdempotencyKey"),
                body="Extension",
            )
        },
        "/v1/reviews/{id}/advance": {
            "post": _operation(
                "Reviews",
                "advanceReview",
                "Close the current phase now",
                {
                    "200": review,
                    "403": forbidden,
                    "404": not_found,
                    "409": _response(
                        "Conflict",
                        "The current phase cannot be closed early, or the review has ended.",
                    ),
                    "503": unavailable,
                },
                description="Send {} to give no reason.",
                parameters=("ReviewId", "IdempotencyKey"),
                body="Advance",
            )
        },
        "/v1/reviews/{id}/cancel": {
            "post": _operation(
                "Reviews",
                "cancelReview",
                "Cancel the review",
                {
                    "200": review,
                    "403": forbidden,
                    "404": not_found,
                    "409": _response("Conflict", "The review has already ended."),
                    "503": unavailable,
                },
                parameters=("ReviewId", "IdempotencyKey"),
                body="Cancel",
            )
        },
        "/v1/reviews/{id}/submissions": {
            "post": _operation(
                "Submissions",
                "submit",
                "Submit a national report or a stakeholder input",
                {
                    "201": _json(
                        "Accepted; a resubmission is a new version.", _schema("SubmissionReceipt")
                    ),
                    "403": _response(
                        "Forbidden",
                        "Only focal points (national_report) and stakeholders"
                        " (stakeholder_input) submit, each for its own country or organisation,"
                        " to reviews it takes part in.",
                    ),
                    "404": not_found,
                    "409": _response(
                        "Conflict", "The review's phase does not take this submission (now)."
                    ),
                    "422": _response(
                        "Unprocessable",
                        "The body or the document is not valid: `errors` lists every problem,"
                        " each with a JSON Pointer into the request body.",
                    ),
                    "503": unavailable,
                },
                description="`content` is checked against the schema named by `kind`"
                " (GET /v1/schemas/{name}). A focal point submits for its own country, a"
                " stakeholder for its own organisation.",
                parameters=("ReviewId", "IdempotencyKey"),
                body="NewSubmission",
            ),
            "get": _operation(
                "Submissions",
                "listSubmissions",
                "The review's submissions the actor may see",
                {
                    "200": _json(
                        "The secretariat sees all; a submitter sees its own.",
                        _schema("SubmissionList"),
                    ),
                    "403": _response("Forbidden", "Only the secretariat and the submitters."),
                    "404": not_found,
                },
                parameters=("ReviewId",),
            ),
        },
        "/v1/submissions/{id}": {
            "get": _operation(
                "Submissions",
                "getSubmission",
                "A submission: the latest version or the one asked for",
                {"200": _json("The submission.", _schema("Submission")), "404": not_found},
                parameters=(
                    "SubmissionId",
                    _query("version", VERSION, "An earlier version; the latest when absent."),
                ),
            )
        },
        "/v1/tasks": {
            "get": _operation(
                "Consultation",
                "listTasks",
                "The tasks assigned to the actor",
                {
                    "200": _json("A page of tasks, in order of id.", _schema("TaskList")),
                    "422": _response("Unprocessable", "A query parameter is not valid."),
                },
                parameters=(
                    _query("status", {"enum": list(TASK_STATUSES)}, "Only tasks in this status."),
                    _query("review", REVIEW_ID, "Only tasks of this review."),
                    _query("after", UUID, "Only tasks after this id (`next_after`)."),
                    _query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                        "At most this many tasks.",
                    ),
                ),
            )
        },
        "/v1/tasks/{id}": {
            "get": _operation(
                "Consultation",
                "getTask",
                "A task",
                {"200": _json("The task.", _schema("Task")), "404": not_found},
                description="For its assignee and for the review's secretariat.",
                parameters=("TaskId",),
            )
        },
        "/v1/tasks/{id}/complete": {
            "post": _operation(
                "Consultation",
                "completeTask",
                "Answer a task",
                {
                    "200": _json(
                        "The completed task; the same response sent again answers the same.",
                        _schema("Task"),
                    ),
                    "403": _response("Forbidden", "Only the task's assignee answers it."),
                    "404": not_found,
                    "409": _response(
                        "Conflict",
                        "The task takes no answer: it is past its due date, expired or"
                        " cancelled, or was already completed with a different response.",
                    ),
                    "422": _response(
                        "Unprocessable",
                        "The body or the response is not valid: `errors` lists the problems,"
                        " each with a JSON Pointer into the request body (/response/... for"
                        " the response).",
                    ),
                },
                description="`response` is checked against the consultation_response schema"
                " (GET /v1/schemas/consultation_response). Open tasks take an answer until"
                " `due_at`.",
                parameters=("TaskId",),
                body="TaskCompletion",
            )
        },
        "/v1/tasks/{id}/delegate": {
            "post": _operation(
                "Consultation",
                "delegateTask",
                "Hand a task to a colleague",
                {
                    "200": _json("The task, now assigned to the colleague.", _schema("Task")),
                    "403": _response("Forbidden", "Only the task's assignee hands it over."),
                    "404": not_found,
                    "409": _response("Conflict", "The task is no longer open."),
                    "422": _response(
                        "Unprocessable",
                        "The body is not valid, or `to` is not another active account of the"
                        " actor's organisation (same organisation id; for a focal point, the same"
                        " country and a region of the review), or it holds a task of the review.",
                    ),
                },
                parameters=("TaskId",),
                body="TaskDelegation",
            )
        },
        "/v1/reviews/{id}/synthesis": {
            "get": _operation(
                "Consultation",
                "getSynthesis",
                "The synthesis of the review's inputs that the consultation is about",
                {
                    "200": _json("The synthesis.", _schema("Synthesis")),
                    "403": _response("Forbidden", "Not for observers."),
                    "404": _response(
                        "NotFound",
                        "No such review the actor may see, or the consultation has not opened yet.",
                    ),
                },
                description="Compiled once, when the consultation opens, from the latest"
                " accepted version of every submission; every item names the submission and"
                " version it comes from. Inputs whose organisation did not consent to"
                " publication are counted, not quoted. Read in pages of at most 50 parts"
                " (an objective, or up to 100 of its quoted inputs, or one input's"
                " recommendations): each page has the counts, the guiding principles and"
                " the four clusters with the objective parts on it; the first page of a"
                " synthesis with fewer parts is all of it.",
                parameters=(
                    "ReviewId",
                    _query("cursor", TEXT, "`next_cursor` of the previous page."),
                    _query(
                        "limit", {"type": "integer", "minimum": 1, "maximum": 50}, "Parts per page."
                    ),
                ),
            )
        },
        "/v1/reviews/{id}/report": {
            "get": _operation(
                "Report",
                "getReport",
                "The review's report, as JSON, a printable HTML page or Markdown",
                {
                    "200": {
                        "description": "The report, in the format asked for (`format`).",
                        "headers": {
                            "ETag": _header(
                                "The version's content_hash and the format, in quotes: send it"
                                " back in If-None-Match for a 304 when nothing changed.",
                                {"type": "string", "pattern": '^"[0-9a-f]{64}-(json|html|md)"$'},
                            ),
                            "X-Report-Version": _header("The version served.", VERSION),
                            "X-Report-Status": _header("The version's status.", REPORT_STATUS),
                            "Content-Security-Policy": _header(
                                "The report loads nothing from elsewhere and runs no script:"
                                " inline styles and data: images only.",
                                TEXT,
                            ),
                        },
                        "content": {
                            media_type: {"schema": report_bodies[name]}
                            for name, (_, media_type) in REPORT_FORMATS.items()
                        },
                    },
                    "404": _response(
                        "NotFound",
                        "No such review the actor may see, or no report of it the actor may"
                        " read: none compiled yet, no such version, or (for all but the"
                        " review's secretariat) none published.",
                    ),
                    "422": _response("Unprocessable", "`format` or `version` is not valid."),
                },
                description="Drafts are for the review's secretariat (and admins) only; everyone"
                " else who may see the review reads the published version, once there is one."
                " Without `version`: the published version if there is one, else (for the"
                " secretariat) the latest draft.",
                parameters=(
                    "ReviewId",
                    _query(
                        "format",
                        {"enum": list(REPORT_FORMATS), "default": "json"},
                        "json (the Report object), html (a standalone printable page) or md"
                        " (Markdown).",
                    ),
                    _query(
                        "version",
                        {"type": "integer", "minimum": 1, "maximum": 1_000_000},
                        "This version rather than the published (or latest) one.",
                    ),
                ),
            )
        },
        "/v1/reviews/{id}/report/approve": {
            "post": _operation(
                "Report",
                "approveReport",
                "Approve the report awaiting a decision: it is published and the review ends",
                {
                    "200": _json(
                        "The version published.",
                        {**_schema("ReportVersion"), "description": "status is published."},
                    ),
                    "403": _response("Forbidden", "Only the review's secretariat decides."),
                    "404": not_found,
                    "409": awaiting,
                    "503": unavailable,
                },
                description="The published version is frozen: every later read of the report"
                " returns its bytes. Send {} to give no note. Once approved, the review has"
                " ended: approving again answers 409.",
                parameters=("ReviewId",),
                body="Approval",
            )
        },
        "/v1/reviews/{id}/report/request-changes": {
            "post": _operation(
                "Report",
                "requestReportChanges",
                "Send the report back: a new version is compiled, with editorial text",
                {
                    "200": _json(
                        "The new version, now awaiting a decision.",
                        {**_schema("ReportVersion"), "description": "status is draft."},
                    ),
                    "403": _response("Forbidden", "Only the review's secretariat decides."),
                    "404": not_found,
                    "409": awaiting,
                    "422": _response(
                        "Unprocessable",
                        "The body is not valid (for instance an `editorial` section that is"
                        " not one of the report's): `errors` lists every problem.",
                    ),
                    "503": unavailable,
                },
                description="The change request is stored and the report compiled again from"
                " what came in, its `editorial` texts shown in the sections they name; the"
                " new version awaits approval. Each request is a new change request: sent"
                " again, it asks for changes to the version compiled for the first.",
                parameters=("ReviewId",),
                body="ChangeRequest",
            )
        },
        "/v1/reviews/{id}/events": {
            "get": _operation(
                "Audit",
                "listEvents",
                "The review's audit trail, in order",
                {
                    "200": _json("A page of events.", _schema("EventList")),
                    "403": _response("Forbidden", "Only the review's secretariat."),
                    "404": not_found,
                    "422": _response("Unprocessable", "A query parameter is not valid."),
                },
                parameters=(
                    "ReviewId",
                    _query(
                        "after",
                        {"type": "integer", "minimum": 0, "default": 0},
                        "Only events after this `seq` (`next_after` of the previous page).",
                    ),
                    _query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                        "At most this many events.",
                    ),
                ),
            )
        },
        "/v1/webhooks": {
            "post": _operation(
                "Notifications",
                "createWebhook",
                "Subscribe a URL to the events of reviews you run",
                {
                    "201": _json(
                        "The subscription, as created (without its secret).", _schema("Webhook")
                    ),
                    "403": runs_reviews,
                    "409": _response(
                        "Conflict",
                        f"The actor already has {WEBHOOKS_PER_OWNER} live subscriptions, the"
                        " most one account may have.",
                    ),
                    "422": _response(
                        "Unprocessable",
                        "The body is not valid; or the URL is refused by the URL policy (one"
                        " error per reason at /url, e.g. `must use http or https`, or its host"
                        " resolves to a link-local, metadata or other refused address, or does"
                        " not resolve); or `review_id` is not a review the actor runs"
                        " (/review_id); or `regions` are not all the actor's own, or are absent"
                        " and the actor has none (/regions).",
                    ),
                },
                description='`events`: event types, or ["*"] for all. `secret`: 16 to 200'
                " characters, the key every delivery is signed with; keep it, it is never"
                " shown again. Scope: either `review_id` (one review the actor runs) or"
                " `regions` (every review of these regions, the actor's own; default: all the"
                " actor's regions), not both.\n\n" + SIGNATURE,
                parameters=("IdempotencyKey",),
                body="NewWebhook",
            ),
            "get": _operation(
                "Notifications",
                "listWebhooks",
                "Your webhook subscriptions",
                {
                    "200": _json(
                        "The actor's subscriptions (an admin's: everyone's), oldest first;"
                        " without their secrets.",
                        _schema("WebhookList"),
                    ),
                    "403": runs_reviews,
                },
            ),
        },
        "/v1/webhooks/{id}": {
            "delete": _operation(
                "Notifications",
                "deleteWebhook",
                "End a subscription",
                {
                    "204": {"description": "Ended: no event from now on is delivered to it."},
                    "403": runs_reviews,
                    "404": not_yours,
                },
                description="Its delivery log can no longer be read. Its deliveries waiting for"
                " an attempt (retries included) are failed; only an attempt already under way"
                " may still be made.",
                parameters=("WebhookId",),
            )
        },
        "/v1/webhooks/{id}/deliveries": {
            "get": _operation(
                "Notifications",
                "listWebhookDeliveries",
                "A subscription's deliveries, each with every attempt",
                {
                    "200": _json("A page of deliveries, newest first.", _schema("DeliveryList")),
                    "403": runs_reviews,
                    "404": not_yours,
                    "422": _response("Unprocessable", "A query parameter is not valid."),
                },
                parameters=(
                    "WebhookId",
                    _query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
                        "At most this many deliveries.",
                    ),
                    _query(
                        "after",
                        UUID,
                        "Only deliveries older than this one (`next_after` of the previous page).",
                    ),
                ),
            )
        },
        "/v1/schemas": {
            "get": _operation(
                "Schemas",
                "listSchemas",
                "The JSON Schemas documents are checked against",
                {"200": _json("The schemas.", _schema("SchemaList"))},
            )
        },
        "/v1/schemas/{name}": {
            "get": _operation(
                "Schemas",
                "getSchema",
                "One JSON Schema (draft 2020-12), as stored",
                {
                    "200": _json(
                        "The schema; its `$ref`s use absolute `$id`s under"
                        f" {SCHEMA_BASE}, all served here.",
                        {"type": "object"},
                        "application/schema+json",
                    ),
                    "404": not_found,
                },
                parameters=("SchemaName",),
            )
        },
    }


TAGS = [
    {"name": "Service", "description": "Health, readiness and this description; no token."},
    {"name": "Reference", "description": "The GCM and the five regions."},
    {"name": "Accounts", "description": "Accounts and their bearer tokens."},
    {"name": "Reviews", "description": "Regional reviews and their deadlines."},
    {"name": "Submissions", "description": "National reports and stakeholder inputs."},
    {
        "name": "Consultation",
        "description": "The synthesis of a review's inputs and the tasks that ask participants"
        " to answer it.",
    },
    {
        "name": "Report",
        "description": "The review's report: compiled when the consultation closes, approved or"
        " sent back with editorial text by its secretariat, then published and frozen.",
    },
    {"name": "Audit", "description": "Every state change of a review, in order."},
    {
        "name": "Notifications",
        "description": "Webhooks: a review's events POSTed to your URL, signed with HMAC-SHA256"
        ' over "<timestamp>." + body.',
    },
    {"name": "Schemas", "description": "The JSON Schemas documents are checked against."},
]


def _version() -> str:
    try:
        return version("reviewflow")
    except PackageNotFoundError:
        return "0.0.0"


@cache
def _document() -> dict[str, Any]:
    components = {
        **{name: _rebased(schemas.schema_document(name)) for name in schemas.schema_names()},
        **{name: _rebased(schema) for name, schema in REQUEST_SCHEMAS.items()},
        **_answer_schemas(),
    }
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "reviewflow",
            "version": _version(),
            "summary": "Regional reviews of the Global Compact for Safe, Orderly and Regular"
            " Migration.",
            "description": "Calls for inputs, consultations and reports of the regional reviews"
            " the UN regional commissions run. Every `/v1` request needs a bearer token; every"
            " error is `application/problem+json`.",
        },
        "tags": TAGS,
        "paths": _paths(),
        "components": {
            "schemas": components,
            "parameters": PARAMETERS,
            "responses": RESPONSES,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The token shown once when the account was created.",
                }
            },
        },
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document; built once, a fresh copy for each caller."""
    return copy.deepcopy(_document())


@cache
def _document_json() -> str:
    return json.dumps(_document(), ensure_ascii=False)


# ---- routes ---------------------------------------------------------------------------------


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


@cache
def _docs_page() -> tuple[str, dict[str, str]]:
    """The page and its headers: only its own inline script and style may run."""
    page = (resources.files("api") / "static" / "docs.html").read_text(encoding="utf-8")
    scripts = " ".join(map(_csp_hash, re.findall(r"<script>(.*?)</script>", page, re.S)))
    styles = " ".join(map(_csp_hash, re.findall(r"<style>(.*?)</style>", page, re.S)))
    policy = (
        f"default-src 'none'; script-src {scripts}; style-src {styles}; connect-src 'self';"
        " base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return page, {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


@routes.get("/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    return web.Response(text=_document_json(), content_type=JSON)


@routes.get("/docs")
async def docs(request: web.Request) -> web.Response:
    page, headers = _docs_page()
    return web.Response(text=page, content_type="text/html", headers=headers)
