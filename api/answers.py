"""The schemas of what the API answers with: the components the `@operation` declarations
beside the routes name in their responses. Enumerations come from the code that produces the
values (roles, phases, task statuses, event types), so they cannot drift from it; the test
suite checks every answer it receives against these schemas.
"""

from __future__ import annotations

import copy
from typing import Any

import i18n
import schemas
from api import requests as request_schemas
from api.operations import (
    COUNT,
    PHASE,
    REPORT_STATUS,
    REVIEW_ID,
    TEXT,
    UUID,
    VERSION,
    array_of,
    common,
    component,
    nullable,
    object_of,
)
from api.reviews import TASK_STATUSES
from domain.access import ROLES
from domain.annexes import AnnexType
from domain.cycles import CYCLE_PATTERN
from domain.events import EventType
from notifications.webhooks import DELIVERY_HEADER, MAX_ATTEMPTS
from reports.compile import GENERAL_COMMENTS, QUOTE_CHARS, QUOTES_PER_OBJECTIVE
from reports.synthesis_builder import EXCERPT_CHARS
from services.synthesis import ADDENDUM_LIMIT


def _list_of(name: str, **more: Any) -> dict[str, Any]:
    return object_of({"items": array_of(component(name)), **more})


SUBMISSION_KIND = {"enum": request_schemas.SUBMISSION["properties"]["kind"]["enum"]}
CLUSTER = {"type": "integer", "minimum": 1, "maximum": 4}
SHARE = {"type": "number", "minimum": 0, "maximum": 1}

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


# ---- pieces several answers share -----------------------------------------------------------

_ACTOR_FIELDS = {
    "id": UUID,
    "name": TEXT,
    "email": {"type": ["string", "null"]},
    "role": {"enum": list(ROLES)},
    "regions": array_of(common("region_code")),
    "country": nullable(common("iso3")),
    "organisation": {"type": ["string", "null"]},
    "organisation_id": {
        **nullable(UUID),
        "description": "A stakeholder's organisation: accounts with the same id act for"
        " the same organisation (the name alone says nothing).",
    },
    "stakeholder_category": nullable(common("stakeholder_category")),
    # None until the person chooses a language.
    "language": {"enum": [*i18n.LANGUAGES, None]},
    **{
        name: copy.deepcopy(request_schemas.PREFERENCES["properties"][name])
        for name in ("notifications", "time_zone")
    },
}
_COUNTRY = object_of({"iso3": common("iso3"), "name": TEXT})
_REGION_FIELDS = {"code": common("region_code"), "commission": TEXT, "region": TEXT}
_TITLED = object_of({"id": TEXT, "title": TEXT})
_TIMELINE = object_of({name: component("Instant") for name in request_schemas.DEADLINES})
_ESCALATION = request_schemas.NEW_REVIEW["properties"]["escalation"]
_PROVENANCE = {
    "submission_id": {**UUID, "description": "The submission it comes from."},
    "version": {**VERSION, "description": "The version of that submission."},
}
# A consultation meeting held, with its summary and the summary's provenance: as the
# synthesis and the report show it (`reports.meetings.held_summaries`).
_HELD_MEETINGS = array_of(
    object_of(
        {
            "session_id": UUID,
            "title": TEXT,
            "session_kind": {"enum": ["stakeholder_consultation", "review_meeting", "round_table"]},
            "mode": {"enum": ["online", "in_person", "hybrid"]},
            "starts_at": component("Instant"),
            "ends_at": component("Instant"),
            "clusters": array_of(CLUSTER, description="Of its agenda (a round table's own)."),
            "registered": {**COUNT, "description": "People with a place."},
            "attended": {**COUNT, "description": "People recorded as present."},
            "summary": object_of(
                {
                    "kind": {"enum": ["rapporteur_summary", "chair_summary"]},
                    "text": TEXT,
                    "written_by_role": TEXT,
                    "written_at": component("Instant"),
                    "text_sha256": {
                        "type": "string",
                        "pattern": "^[0-9a-f]{64}$",
                        "description": "SHA-256 (hex) of the text's UTF-8 bytes.",
                    },
                }
            ),
        }
    ),
    description="The meetings held (not cancelled) that have a summary, in the order they started.",
)
_REPORTED = object_of(
    {"text": TEXT, "country": common("iso3"), **_PROVENANCE},
    description="One entry of a national report, with where it comes from.",
)
_QUOTE = {
    "type": "string",
    "maxLength": QUOTE_CHARS,
    "description": f"The text's first {QUOTE_CHARS} characters.",
}
_CONSULTED_CATEGORY = {
    "anyOf": [common("stakeholder_category"), {"const": "focal_point"}],
    "description": "The stakeholder category of those consulted; focal_point for member"
    " States' focal points.",
}
# Who a published stakeholder input is by (`domain.publication`).
_PUBLISHED_BY = {
    "organisation": {
        "type": ["string", "null"],
        "description": "The organisation (the lead one of a joint input); null when the input"
        " is published without its name.",
    },
    "joint_organisations": array_of(
        TEXT,
        description="The other organisations of a joint input published with its name; empty"
        " otherwise.",
    ),
}
_ADDRESSED = object_of(
    {
        "principles": array_of(
            object_of(
                {
                    "id": common("guiding_principle"),
                    "title": TEXT,
                    "national_reports": COUNT,
                    "stakeholder_inputs": COUNT,
                }
            ),
            description="All ten guiding principles, with how many national reports and"
            " stakeholder inputs (published or not) address each.",
        ),
        "clusters": array_of(
            object_of(
                {
                    "number": CLUSTER,
                    "title": TEXT,
                    "national_reports": COUNT,
                    "stakeholder_inputs": COUNT,
                }
            ),
            description="The four clusters: a report addresses those of the objectives it"
            " reports on, an input those of its objectives and those it names.",
        ),
        "languages": array_of(
            object_of(
                {
                    "language": {
                        "type": ["string", "null"],
                        "description": "The input's language; null for inputs that do not"
                        " say it (schema version 1).",
                    },
                    "count": COUNT,
                }
            ),
            description="Stakeholder inputs per language, in order of language.",
        ),
    }
)
_RECOMMENDATIONS = object_of(
    {
        "objective": common("objective_number"),
        "title": TEXT,
        "inputs": {**COUNT, "description": "Inputs on it with recommendations."},
        "unpublished": {
            **COUNT,
            "description": "Of those, the ones not to be published: counted, not quoted.",
        },
        "quotes": array_of(
            object_of(
                {
                    **_PUBLISHED_BY,
                    "category": common("stakeholder_category"),
                    "recommendations": array_of(_QUOTE),
                    **_PROVENANCE,
                }
            ),
            maxItems=QUOTES_PER_OBJECTIVE,
            description=f"At most {QUOTES_PER_OBJECTIVE} published inputs, named ones first.",
        ),
    }
)
_TEXT_OR_NULL = {"type": ["string", "null"]}
_STATE_REPORT = object_of(
    {
        **_PROVENANCE,
        "accepted_at": {**nullable(component("Instant")), "description": "When it was accepted."},
        "submitted_by": {**TEXT, "description": "The role of who submitted it (never a name)."},
        "late": {"type": "boolean"},
        "schema_version": {
            "type": ["integer", "null"],
            "description": "The schema version it was checked against; null where not recorded.",
        },
        "published": {
            "type": "boolean",
            "description": "False when the State did not consent to publication: then only"
            " the fields above are given.",
        },
        "reporting_period": object_of({"start": TEXT, "end": TEXT}),
        "preparation": object_of(
            {
                "whole_of_government": {"type": "boolean"},
                "whole_of_society": {"type": "boolean"},
                "methodology": TEXT,
                "consulted": array_of(
                    object_of({"category": common("stakeholder_category"), "description": TEXT})
                ),
                "government_entities": array_of(TEXT),
            }
        ),
        "policy_environment": nullable(object_of({"overview": TEXT, "frameworks": array_of(TEXT)})),
        "objectives": array_of(
            object_of(
                {
                    "number": common("objective_number"),
                    "status": common("objective_status"),
                    "prioritised": {"type": "boolean"},
                    "measures": array_of(TEXT),
                    "challenges": array_of(TEXT),
                    "good_practices": array_of(TEXT),
                    "sdg_targets": array_of(TEXT),
                }
            ),
            description="In order of number.",
        ),
        "means_of_implementation": nullable(
            object_of(
                {
                    "overview": TEXT,
                    "partnerships": array_of(TEXT),
                    "support_needed": _TEXT_OR_NULL,
                }
            )
        ),
        "regional_cooperation": nullable(
            object_of({"overview": TEXT, "initiatives": array_of(TEXT)})
        ),
        "covid19_measures": _TEXT_OR_NULL,
        "next_steps": _TEXT_OR_NULL,
    },
    optional=(
        "reporting_period",
        "preparation",
        "policy_environment",
        "objectives",
        "means_of_implementation",
        "regional_cooperation",
        "covid19_measures",
        "next_steps",
    ),
)
_STATE_SECTION = object_of(
    {
        "iso3": common("iso3"),
        "name": TEXT,
        "report": {
            **nullable(_STATE_REPORT),
            "description": "The State's latest accepted national report with its provenance;"
            " null when none was received.",
        },
    }
)
_CONSULTED_QUOTE = object_of(
    {
        "category": _CONSULTED_CATEGORY,
        "organisation": {
            "type": "string",
            "description": "The organisation consulted, or the ISO3 code of a focal point's"
            " member State.",
        },
        "text": _QUOTE,
        "task_id": {**UUID, "description": "The consultation task it answers."},
    }
)
_CONSULTATION_RESPONSE = schemas.schema_document("consultation_response")
assert _CONSULTATION_RESPONSE is not None
_ENDORSEMENTS = _CONSULTATION_RESPONSE["properties"]["endorsement"]["enum"]
_EDITORIAL = request_schemas.CHANGE_REQUEST["properties"]["editorial"]
# The cursor of a list paged by the id of its last item (tasks, deliveries).
_NEXT_AFTER_ID = {
    "type": ["string", "null"],
    "format": "uuid",
    "description": "Pass as `after` for the next page; null when this page is not full.",
}


def _clusters_of(objective: str) -> dict[str, Any]:
    """The four clusters of a synthesis or a report, each with its `objective` components."""
    return array_of(
        object_of({"number": CLUSTER, "title": TEXT, "objectives": array_of(component(objective))}),
        description="The four clusters, each with its objectives.",
    )


# What a synthesis, and its addendum, hold: the counts, the clusters, the principles and the
# recommendations.
_SYNTHESIS_CONTENT = {
    "review_id": REVIEW_ID,
    "sources": object_of(
        {"national_reports": COUNT, "stakeholder_inputs": COUNT},
        description="How many submissions it was built from.",
    ),
    "clusters": _clusters_of("SynthesisObjective"),
    "guiding_principles": array_of(
        object_of(
            {
                "id": common("guiding_principle"),
                "title": TEXT,
                "applied_by": array_of(object_of({"country": common("iso3"), **_PROVENANCE})),
            }
        )
    ),
    "recommendations": array_of(
        object_of(
            {**_PUBLISHED_BY, "recommendations": array_of(TEXT), **_PROVENANCE},
            optional=("joint_organisations",),
        ),
        description="The recommendations of the consenting inputs on this page, once per input.",
    ),
}


# The service's own answers and the problem document every error is.
_ROLLUP_REGIONS = object_of(
    {
        "published": array_of(common("region_code")),
        "missing": array_of(common("region_code")),
    },
    description="The five regions, with or without a published report in the version.",
)

SERVICE: dict[str, dict[str, Any]] = {
    "Problem": {
        "type": "object",
        "description": "An error, as RFC 9457 problem details.",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string", "examples": ["about:blank"]},
            "title": {"type": "string", "description": "The HTTP status phrase."},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string", "description": "What went wrong, for a person."},
            "errors": array_of(
                object_of(
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
    "Health": object_of({"status": {"const": "ok"}}),
    "Readiness": object_of(
        {
            "status": {"enum": ["ready", "unavailable"]},
            "checks": object_of(
                {
                    "database": {"enum": ["up", "down"]},
                    "temporal": {"enum": ["up", "down"]},
                }
            ),
        }
    ),
}

# The GCM, the regions and the schemas.
REFERENCE: dict[str, dict[str, Any]] = {
    "Gcm": object_of(
        {
            "objectives": array_of(
                object_of(
                    {
                        "number": common("objective_number"),
                        "title": TEXT,
                        "cluster": CLUSTER,
                    }
                )
            ),
            "clusters": array_of(
                object_of(
                    {
                        "number": CLUSTER,
                        "title": TEXT,
                        "objectives": array_of(common("objective_number")),
                    }
                ),
                description="The four round-table clusters of the International Migration"
                " Review Forum.",
            ),
            "guiding_principles": array_of(
                object_of(
                    {
                        "id": common("guiding_principle"),
                        "title": TEXT,
                        "paragraph": {"type": "string", "examples": ["15(a)"]},
                    }
                )
            ),
            "stakeholder_categories": array_of(_TITLED),
            "objective_statuses": array_of(_TITLED),
        }
    ),
    "Country": _COUNTRY,
    "RegionSummary": object_of(_REGION_FIELDS),
    "RegionList": _list_of("RegionSummary"),
    "Region": object_of(
        {
            **_REGION_FIELDS,
            "members": array_of(component("Country")),
            "default_scope": array_of(
                common("iso3"),
                description="The member States a review covers unless told otherwise.",
            ),
            "non_regional_members": array_of(common("iso3")),
            "associate_members": array_of(component("Country")),
        }
    ),
    "SchemaList": object_of(
        {
            "items": array_of(
                object_of(
                    {
                        "name": {"enum": schemas.schema_names()},
                        "href": {**TEXT, "description": "The current version."},
                        "version": {**VERSION, "description": "The current version's number."},
                        "versions": array_of(
                            object_of({"version": VERSION, "href": TEXT}),
                            description="Every version, oldest first; each stays served.",
                        ),
                    }
                )
            )
        }
    ),
}

# The version of each document schema a review collects; what a submission is checked against.
SCHEMA_VERSIONS = object_of(
    {
        name: {"type": "integer", "enum": list(schemas.schema_versions(name))}
        for name in schemas.DOCUMENT_SCHEMAS
    },
    additionalProperties=False,
    description="The version of each document schema the review collects"
    " (GET /v1/schemas/{name}?version=N): a new review collects the current versions.",
)
SCHEMA_VERSION = {
    **VERSION,
    "description": "The version of the schema named by `kind` the document was checked against.",
}

# Accounts.
ACCOUNTS: dict[str, dict[str, Any]] = {
    "Actor": object_of(_ACTOR_FIELDS),
    "ExportedAccount": object_of(
        {
            **_ACTOR_FIELDS,
            "created_at": component("Instant"),
            "disabled_at": {
                **nullable(component("Instant")),
                "description": "When the account was deactivated; null while active.",
            },
        }
    ),
    "NewActorAnswer": object_of(
        {
            **_ACTOR_FIELDS,
            "token": {
                "type": ["string", "null"],
                "description": "The new account's bearer token, shown in this answer only;"
                " null when a retry with the same Idempotency-Key replays it.",
            },
        }
    ),
}

# People: the accounts an admin or a secretariat manages, and importing them from CSV.
_IMPORT_STATUS = {
    "enum": ["new", "unchanged", "updated", "error"],
    "description": "new: an account is (or would be) created; unchanged: the account of the"
    " address is as the row says; updated: its name, organisation or category change;"
    " error: the row is not imported (see `errors`).",
}
PEOPLE: dict[str, dict[str, Any]] = {
    "Person": object_of(
        {**_ACTOR_FIELDS, "active": {"type": "boolean", "description": "false once deactivated."}}
    ),
    "PeopleList": _list_of(
        "Person",
        next_cursor={
            "type": ["string", "null"],
            "description": "Pass as `cursor` for the next page; null on the last page.",
        },
    ),
    "ImportOutcome": object_of(
        {
            "applied": {
                "type": "boolean",
                "description": "false for a preview (`dry_run=true`): nothing was written.",
            },
            "counts": object_of({name: COUNT for name in _IMPORT_STATUS["enum"]}),
            "rows": array_of(
                object_of(
                    {
                        "row": {
                            "type": "integer",
                            "minimum": 2,
                            "description": "As a spreadsheet numbers it: the header is row 1.",
                        },
                        "email": TEXT,
                        "name": TEXT,
                        "status": _IMPORT_STATUS,
                        "changes": array_of(TEXT),
                        "errors": array_of(object_of({"column": TEXT, "message": TEXT})),
                    }
                )
            ),
        }
    ),
}

# Reviews, their progress and their audit trail.
REVIEWS: dict[str, dict[str, Any]] = {
    "InvitationsSent": object_of(
        {
            "invited": array_of(UUID, description="Added to the review and mailed an invitation."),
            "already_invited": array_of(
                UUID, description="Invited before: left as they were, mailed nothing."
            ),
            "member_states_invited": array_of(
                common("iso3"), description="Added to the review; their focal points invited."
            ),
            "member_states_already_invited": array_of(
                common("iso3"), description="Member States already: left as they were."
            ),
        },
        # Present when the request named member States.
        optional=("member_states_invited", "member_states_already_invited"),
    ),
    "Timeline": _TIMELINE,
    "Progress": object_of(
        {
            "member_states_total": COUNT,
            "national_reports": COUNT,
            "missing": array_of(
                common("iso3"), description="Member States without a national report."
            ),
            "stakeholder_inputs": COUNT,
            "late": {**COUNT, "description": "Submissions accepted after their deadline."},
            "tasks": {
                **component("TaskProgress"),
                "description": "The consultation's tasks; all zero before it opens.",
            },
        }
    ),
    "TaskProgress": object_of(
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
                    "anyOf": [common("stakeholder_category"), {"const": "focal_point"}]
                },
                "additionalProperties": object_of(
                    {"total": COUNT, "completed": COUNT, "response_rate": SHARE}
                ),
                "description": "Per stakeholder category (focal points under"
                " `focal_point`); only categories that have tasks. response_rate is"
                " completed / total, to four decimals.",
            },
        }
    ),
    "Rollup": object_of(
        {
            "id": {"type": "string", "pattern": CYCLE_PATTERN, "description": "Its cycle."},
            "cycle": {"type": "string", "pattern": CYCLE_PATTERN},
            "imrf_year": {"type": "integer", "description": "The forum the cycle feeds."},
            "title": TEXT,
            "status": {
                "enum": ["compiling", "awaiting_approval", "published"],
                "description": "compiling: no version yet; awaiting_approval: the latest"
                " version is a draft (an earlier one may be published); published: the latest"
                " version is the public one.",
            },
            "version": nullable(VERSION),
            "published_version": nullable(VERSION),
            "regions": _ROLLUP_REGIONS,
            "versions": array_of(
                object_of(
                    {
                        "version": VERSION,
                        "status": {"enum": ["draft", "published", "superseded"]},
                        "content_hash": REPORT_HASH,
                        "compiled_at": {"type": "string", "format": "date-time"},
                        "published_at": nullable({"type": "string", "format": "date-time"}),
                        "regional_reports": array_of(
                            object_of(
                                {
                                    "region": common("region_code"),
                                    "review_id": REVIEW_ID,
                                    "report_version": VERSION,
                                    "content_hash": REPORT_HASH,
                                }
                            )
                        ),
                        "regions": _ROLLUP_REGIONS,
                    }
                )
            ),
            "created_at": {"type": "string", "format": "date-time"},
        }
    ),
    "Review": object_of(
        {
            "id": REVIEW_ID,
            "region": common("region_code"),
            "title": TEXT,
            "description": {"type": "string", "description": "Empty when none was given."},
            "report_languages": {
                **array_of(
                    {"enum": request_schemas.REPORT_LANGUAGES["items"]["enum"]},
                    minItems=1,
                    maxItems=2,
                ),
                "description": "The languages the report is written in, the first giving its"
                " own files; each version is compiled in each.",
            },
            "cycle": {
                "type": "string",
                "pattern": CYCLE_PATTERN,
                "description": "The round of regional reviews it belongs to, e.g. 2020-2021.",
            },
            "phase": PHASE,
            "member_states": array_of(common("iso3")),
            "timeline": {**component("Timeline"), "description": "As given at creation."},
            "deadlines": {
                **component("Timeline"),
                "description": "The deadlines now, extensions included.",
            },
            "country_extensions": {
                "type": "object",
                "propertyNames": common("iso3"),
                "additionalProperties": component("Instant"),
                "description": "inputs_due_at of the member States given more time.",
            },
            "reminder_days": array_of({"type": "integer", "minimum": 1}),
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
            "schema_versions": SCHEMA_VERSIONS,
            "escalation": {
                **nullable(object_of(copy.deepcopy(_ESCALATION["properties"]))),
                "description": _ESCALATION["description"] + " Null: no alerts.",
            },
            "stakeholders": {
                "oneOf": [
                    {"const": "open", "description": "Any stakeholder may submit."},
                    {
                        "const": "invited",
                        "description": "Only invited stakeholders (whom, the secretariat sees).",
                    },
                    array_of(UUID, description="The stakeholder actors invited."),
                ]
            },
            "progress": {
                **component("Progress"),
                "description": "Only for the review's secretariat, and not in lists.",
            },
            "created_at": component("Instant"),
            "updated_at": component("Instant"),
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
    "Event": object_of(
        {
            "seq": {"type": "integer", "minimum": 1, "description": "Order in the trail."},
            "id": UUID,
            "type": {"enum": [event.value for event in EventType]},
            "actor_id": {**nullable(UUID), "description": "Null for the system's own acts."},
            "at": component("Instant"),
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
}

# Submissions and their versions.
SUBMISSIONS: dict[str, dict[str, Any]] = {
    "SubmissionReceipt": object_of(
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
            "schema_version": SCHEMA_VERSION,
            "late": {"type": "boolean"},
            "status": {"const": "accepted"},
        }
    ),
    "SubmissionSummary": object_of(
        {
            "id": UUID,
            "kind": SUBMISSION_KIND,
            "subject": TEXT,
            "latest_version": VERSION,
            "late": {"type": "boolean"},
            "updated_at": component("Instant"),
        }
    ),
    "SubmissionList": _list_of("SubmissionSummary"),
    "Annex": object_of(
        {
            "id": UUID,
            "file_name": {
                "type": "string",
                "description": "The name the file was sent under, as shown (no folder, no"
                " control characters).",
            },
            "media_type": {"enum": [t.value for t in AnnexType]},
            "size": {**COUNT, "description": "In bytes."},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "uploaded_at": component("Instant"),
        },
        description="A file attached to a submission; `GET /v1/annexes/{id}` reads it.",
    ),
    "AnnexList": _list_of("Annex"),
    "SubmissionVersion": object_of(
        {
            "version": VERSION,
            "schema_version": SCHEMA_VERSION,
            "late": {"type": "boolean"},
            "received_at": component("Instant"),
        }
    ),
    "Submission": object_of(
        {
            "id": UUID,
            "review_id": REVIEW_ID,
            "kind": SUBMISSION_KIND,
            "subject": TEXT,
            "version": VERSION,
            "schema_version": SCHEMA_VERSION,
            "late": {"type": "boolean"},
            "received_at": component("Instant"),
            "submitted_by": UUID,
            "content": {
                "type": "object",
                "description": "The document, valid against the schema named by `kind` at"
                " `schema_version`.",
            },
            "versions": array_of(
                component("SubmissionVersion"),
                description="Every accepted version, oldest first.",
            ),
            "annexes": array_of(
                component("Annex"), description="The annexes this version was sent with."
            ),
        }
    ),
}

# Consultation tasks and the synthesis they answer.
CONSULTATION: dict[str, dict[str, Any]] = {
    "Delegation": object_of(
        {
            "from": UUID,
            "to": UUID,
            "note": {"type": ["string", "null"]},
            "at": component("Instant"),
        }
    ),
    "Task": object_of(
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
                "description": "Who answers it now: the invitee, or a colleague it was handed to.",
            },
            "invitee": {**UUID, "description": "Who was consulted."},
            "organisation": {"type": ["string", "null"]},
            "stakeholder_category": {
                **nullable(common("stakeholder_category")),
                "description": "Null for a member State's focal point.",
            },
            "country": nullable(common("iso3")),
            "due_at": component("Instant"),
            "status": {"enum": list(TASK_STATUSES)},
            "response": {
                **nullable(component("consultation_response")),
                "description": "The answer; null until the task is completed.",
            },
            "completed_at": nullable(component("Instant")),
            "reminders_sent": COUNT,
            "delegations": array_of(
                component("Delegation"), description="Every hand-over, oldest first."
            ),
            "created_at": component("Instant"),
        }
    ),
    "TaskList": _list_of(
        "Task",
        next_after=_NEXT_AFTER_ID,
    ),
    "SynthesisObjective": object_of(
        {
            "number": common("objective_number"),
            "title": TEXT,
            "cluster": CLUSTER,
            "statuses": {
                "type": "object",
                "propertyNames": common("objective_status"),
                "additionalProperties": array_of(common("iso3")),
                "description": "The member States that reported each status.",
            },
            "measures": array_of(_REPORTED),
            "challenges": array_of(_REPORTED),
            "good_practices": array_of(_REPORTED),
            "stakeholder_inputs": array_of(
                object_of(
                    {
                        **_PUBLISHED_BY,
                        "category": common("stakeholder_category"),
                        "excerpt": {
                            "type": "string",
                            "maxLength": EXCERPT_CHARS,
                            "description": "The input's text, cut short (ending in …) if"
                            f" longer than {EXCERPT_CHARS} characters.",
                        },
                        **_PROVENANCE,
                    },
                    optional=("joint_organisations",),
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
    "Synthesis": object_of(
        {
            **_SYNTHESIS_CONTENT,
            "content_hash": {
                "type": "string",
                "pattern": "^[0-9a-f]{64}$",
                "description": "SHA-256 (hex) of the whole synthesis (every page), the same"
                " on every page: it changes only if the synthesis does.",
            },
            "created_at": {**component("Instant"), "description": "When it was compiled."},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` for the next page; null on the last.",
            },
            "consultation_meetings": {
                **_HELD_MEETINGS,
                "description": "On the first page: the consultation meetings held and their"
                " summaries, as they stand now (not part of `content_hash`).",
            },
        },
        optional=("recommendations", "next_cursor", "consultation_meetings"),
    ),
    "SynthesisAddendum": object_of(
        {
            **_SYNTHESIS_CONTENT,
            "submissions": array_of(
                object_of(
                    {
                        **_PROVENANCE,
                        "kind": SUBMISSION_KIND,
                        "subject": {
                            **nullable(common("iso3")),
                            "description": "A national report's member State; null for a"
                            " stakeholder input.",
                        },
                        "organisation": {
                            "type": ["string", "null"],
                            "description": "A stakeholder input's organisation, if it agreed"
                            " to be named; null otherwise and for a national report.",
                        },
                        "accepted_at": component("Instant"),
                        "late": {
                            "type": "boolean",
                            "description": "Accepted after its inputs deadline (flagged late).",
                        },
                        "under_extension": {
                            "type": "boolean",
                            "description": "A national report of a member State whose own"
                            " inputs deadline the secretariat extended.",
                        },
                    }
                ),
                description="Each submission whose latest accepted version came after the"
                " synthesis was made, in the order they were accepted (at most"
                f" {ADDENDUM_LIMIT}); an input whose organisation asked that it not be"
                " published is only counted in `total`.",
            ),
            "total": {**COUNT, "description": "How many submissions the addendum holds."},
        }
    ),
}

# The review's report.
REPORT: dict[str, dict[str, Any]] = {
    "ApprovalChain": object_of(
        {
            "review_id": TEXT,
            "version": {
                **VERSION,
                "minimum": 0,
                "description": "The current report version (0: none compiled yet).",
            },
            "phase": PHASE,
            "approvers": array_of(
                object_of(
                    {
                        "step": {"type": "integer", "minimum": 1, "maximum": 10},
                        "actor_id": UUID,
                        "name": TEXT,
                        "title": TEXT,
                        "status": {
                            "enum": ["approved", "pending", "waiting"],
                            "description": "pending: it is this approver's turn.",
                        },
                        "decided_at": nullable(component("Instant")),
                        "note": nullable(TEXT),
                    }
                ),
                description="In order; empty when the secretariat approves the report alone.",
            ),
        }
    ),
    "ReportObjective": object_of(
        {
            "number": common("objective_number"),
            "title": TEXT,
            "statuses": array_of(
                object_of(
                    {
                        "country": common("iso3"),
                        "status": common("objective_status"),
                        **_PROVENANCE,
                    }
                ),
                description="The status each member State reported, in order of country"
                " (the States that did not consent to publication left out).",
            ),
            "unpublished_reports": {
                **COUNT,
                "description": "National reports on this objective whose State did not"
                " consent to publication: counted, not quoted. Not in versions compiled"
                " before it was added.",
            },
            "measures": array_of(_REPORTED),
            "challenges": array_of(_REPORTED),
            "good_practices": array_of(_REPORTED),
            "stakeholder_views": object_of(
                {
                    "count": {
                        **COUNT,
                        "description": "Stakeholder inputs on this objective, quoted or not.",
                    },
                    "by_category": array_of(
                        object_of({"category": common("stakeholder_category"), "count": COUNT}),
                        description="Those inputs per stakeholder category, in order of category.",
                    ),
                    "quotes": array_of(
                        object_of(
                            {
                                **_PUBLISHED_BY,
                                "category": common("stakeholder_category"),
                                "text": _QUOTE,
                                **_PROVENANCE,
                            },
                            optional=("joint_organisations",),
                        ),
                        maxItems=QUOTES_PER_OBJECTIVE,
                        description="Inputs whose organisation consented to publication, at"
                        f" most {QUOTES_PER_OBJECTIVE}, in order of organisation.",
                    ),
                }
            ),
            "consultation_comments": object_of(
                {
                    "count": {
                        **COUNT,
                        "description": "Comments on this objective in the consultation's answers.",
                    },
                    "quotes": array_of(
                        _CONSULTED_QUOTE,
                        maxItems=QUOTES_PER_OBJECTIVE,
                        description=f"At most {QUOTES_PER_OBJECTIVE}, in order of organisation.",
                    ),
                }
            ),
        },
        optional=("unpublished_reports",),
    ),
    "Report": object_of(
        {
            "review": object_of(
                {
                    "id": REVIEW_ID,
                    "title": TEXT,
                    "region": common("region_code"),
                    "commission": TEXT,
                    "member_states": array_of(component("Country")),
                }
            ),
            "version": VERSION,
            "overview": object_of(
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
                    "consultation": object_of(
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
                            "by_category": array_of(
                                object_of(
                                    {
                                        "category": _CONSULTED_CATEGORY,
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
            "clusters": _clusters_of("ReportObjective"),
            "guiding_principles": array_of(
                object_of(
                    {
                        "id": common("guiding_principle"),
                        "title": TEXT,
                        "reported_by": array_of(
                            object_of({"country": common("iso3"), "text": TEXT, **_PROVENANCE}),
                            description="How member States applied it, in order of country.",
                        ),
                    }
                ),
                description="All ten guiding principles.",
            ),
            "addressed": _ADDRESSED,
            "recommendations": array_of(
                _RECOMMENDATIONS,
                description="The stakeholders' recommendations per objective their input"
                " addresses, for the objectives some input with recommendations addresses.",
            ),
            "states": array_of(
                _STATE_SECTION,
                description="One per member State of the review, in its order.",
            ),
            "gaps": object_of(
                {
                    "objectives_without_reports": array_of(
                        common("objective_number"),
                        description="Objectives no national report gave a status.",
                    ),
                    "states_without_report": array_of(component("Country")),
                }
            ),
            "coverage": object_of(
                {
                    "objectives": array_of(
                        common("objective_number"), description="The columns, in order."
                    ),
                    "statuses": array_of(
                        common("objective_status"), description="Every status, in order."
                    ),
                    "rows": array_of(
                        object_of(
                            {
                                "iso3": common("iso3"),
                                "name": TEXT,
                                "cells": array_of(
                                    nullable(common("objective_status")),
                                    description="The status reported for each objective of"
                                    " `objectives`, in that order; null where none was.",
                                ),
                                "withheld": {
                                    "type": "boolean",
                                    "description": "True when the State sent a report but"
                                    " did not consent to its publication: every cell null.",
                                },
                            },
                            optional=("withheld",),
                        ),
                        description="One per member State of the review, in its order.",
                    ),
                },
                description="Member States by objectives: the heatmap.",
            ),
            "consultation": object_of(
                {
                    "endorsements": object_of(
                        {name: COUNT for name in _ENDORSEMENTS},
                        description="Completed consultation tasks per endorsement.",
                    ),
                    "general_comments": array_of(
                        _CONSULTED_QUOTE,
                        maxItems=GENERAL_COMMENTS,
                        description=f"At most {GENERAL_COMMENTS}, in order of organisation.",
                    ),
                }
            ),
            "editorial": array_of(
                object_of(
                    {
                        "section": {
                            "type": "string",
                            "pattern": _EDITORIAL["propertyNames"]["pattern"],
                        },
                        "text": TEXT,
                    }
                ),
                description="The editorial text of the change request this version was"
                " compiled for (none for version 1), in order of section.",
            ),
            "annex": object_of(
                {
                    "after_compilation": array_of(
                        object_of(
                            {
                                "kind": SUBMISSION_KIND,
                                "subject": TEXT,
                                "received_at": component("Instant"),
                            }
                        ),
                        description="Submissions refused because compilation had started,"
                        " in order of receipt.",
                    )
                }
            ),
            "synthesis_addendum": object_of(
                {
                    "submissions": array_of(
                        object_of(
                            {
                                **_PROVENANCE,
                                "kind": SUBMISSION_KIND,
                                "subject": {
                                    **nullable(common("iso3")),
                                    "description": "A national report's member State; null"
                                    " for a stakeholder input.",
                                },
                                "organisation": {
                                    "type": ["string", "null"],
                                    "description": "A stakeholder input's organisation, if it"
                                    " agreed to be named.",
                                },
                                "accepted_at": component("Instant"),
                                "late": {"type": "boolean"},
                                "under_extension": {"type": "boolean"},
                            }
                        ),
                        description="In the order they were accepted.",
                    )
                },
                description="Present only when inputs were received after the consultation"
                " opened: they were shown to the consultees in an addendum to the synthesis,"
                " and what the report quotes of them is marked.",
            ),
            "consultation_meetings": {
                **_HELD_MEETINGS,
                "description": "Present only when consultation meetings were held and"
                " summarised: each with its summary and the summary's provenance.",
            },
            "annexes": array_of(
                object_of(
                    {
                        "kind": SUBMISSION_KIND,
                        "country": nullable(common("iso3")),
                        "organisation": {
                            "type": ["string", "null"],
                            "description": "Null unless the input may be published with the"
                            " organisation's name.",
                        },
                        "category": nullable(common("stakeholder_category")),
                        "file_name": {
                            "type": ["string", "null"],
                            "description": "Null where the organisation is not named.",
                        },
                        "media_type": {"enum": [t.value for t in AnnexType]},
                        "size": {**COUNT, "description": "In bytes."},
                        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                        **_PROVENANCE,
                    }
                ),
                description="The files sent with the versions the report is compiled from,"
                " by kind and submitter. Absent from reports compiled before files were"
                " listed.",
            ),
            "content_hash": REPORT_HASH,
        },
        # Versions compiled before these sections were added have none of them; the addendum
        # is there only when inputs were received after the consultation opened.
        optional=(
            "addressed",
            "annexes",
            "recommendations",
            "states",
            "synthesis_addendum",
            "consultation_meetings",
        ),
        description="A version of the review's report, compiled from the latest version of"
        " every submission and the consultation's answers. Served as stored: the same"
        " bytes on every read.",
    ),
    "ReportVersion": object_of(
        {"version": VERSION, "content_hash": REPORT_HASH, "status": REPORT_STATUS}
    ),
}

# Webhooks and their deliveries.
NOTIFICATIONS: dict[str, dict[str, Any]] = {
    "Webhook": object_of(
        {
            "id": UUID,
            "url": TEXT,
            "events": {
                **copy.deepcopy(request_schemas.NEW_WEBHOOK["properties"]["events"]),
                "description": 'The event types delivered; ["*"] for all.',
            },
            "review_id": {
                **nullable(REVIEW_ID),
                "description": "The one review it covers; null when it covers regions.",
            },
            "regions": array_of(
                common("region_code"),
                description="Every review of these regions; empty when it covers one review.",
            ),
            "created_at": component("Instant"),
        },
        description="A webhook subscription. Its secret is never shown.",
    ),
    "WebhookList": _list_of("Webhook"),
    "DeliveryAttempt": object_of(
        {
            "attempt": {"type": "integer", "minimum": 1},
            "at": {**component("Instant"), "description": "When it was recorded."},
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
    "Delivery": object_of(
        {
            "id": {
                **UUID,
                "description": f"The delivery id: `{DELIVERY_HEADER}` and `id` in the"
                " body, the same on every attempt.",
            },
            "event_id": {**UUID, "description": "The event, in the review's audit trail."},
            "event_type": {"enum": [event.value for event in EventType]},
            "status": {
                "enum": list(DELIVERY_STATUSES),
                "description": "; ".join(f"{k}: {v}" for k, v in DELIVERY_STATUSES.items()) + ".",
            },
            "attempts": COUNT,
            "next_attempt_at": {
                **nullable(component("Instant")),
                "description": "When it is attempted next; null unless pending.",
            },
            "sent_at": nullable(component("Instant")),
            "last_error": {
                "type": ["string", "null"],
                "description": "The error of the last attempt; null once sent.",
            },
            "created_at": component("Instant"),
            "attempt_log": array_of(
                component("DeliveryAttempt"), description="Every attempt, oldest first."
            ),
        }
    ),
    "DeliveryList": _list_of(
        "Delivery",
        next_after=_NEXT_AFTER_ID,
    ),
}

# A review's notifications as its secretariat sees them (those that failed for good above all).
REVIEW_DELIVERIES: dict[str, dict[str, Any]] = {
    "ReviewDelivery": object_of(
        {
            "id": UUID,
            "channel": {"enum": ["email", "webhook"]},
            "status": {
                "enum": list(DELIVERY_STATUSES),
                "description": "; ".join(f"{k}: {v}" for k, v in DELIVERY_STATUSES.items()) + ".",
            },
            "template": {**TEXT, "description": "What was sent: the message's template."},
            "event_type": {"enum": [event.value for event in EventType]},
            "event_at": component("Instant"),
            "created_at": component("Instant"),
            "sent_at": nullable(component("Instant")),
            "attempts": {
                **COUNT,
                "description": "Attempts since it was created, or last put back.",
            },
            "error": {
                "type": ["string", "null"],
                "description": "Why the last attempt did not succeed; null once sent.",
            },
            "recipient": object_of(
                {
                    "name": {
                        "type": ["string", "null"],
                        "description": "The account's name; null for a webhook.",
                    },
                    "address": {
                        **TEXT,
                        "description": "The account's email address, or the webhook's host.",
                    },
                }
            ),
        }
    ),
    "ReviewDeliveryList": object_of(
        {"items": array_of(component("ReviewDelivery"), description="Newest first; 200 at most.")}
    ),
}

# What the secretariat's reminders sent now and announcements did.
OUTREACH: dict[str, dict[str, Any]] = {
    "RemindersSent": object_of(
        {
            "event_id": {
                **nullable(UUID),
                "description": "The reminder's event in the audit trail; null when nobody"
                " was left to remind (nothing was sent or recorded).",
            },
            "at": nullable(component("Instant")),
            "member_states": array_of(
                common("iso3"), description="Member States whose focal points were reminded."
            ),
            "stakeholders": array_of(UUID, description="Stakeholder accounts reminded."),
            "next_at": {
                **nullable(component("Instant")),
                "description": "From when reminders can be sent again (once an hour).",
            },
        }
    ),
    "AnnouncementSent": object_of(
        {
            "event_id": {**UUID, "description": "The announcement's event in the audit trail."},
            "at": component("Instant"),
            "audience": request_schemas.ANNOUNCEMENT["properties"]["audience"],
            "subject": TEXT,
            "count": {**COUNT, "description": "How many people it was sent to by email."},
        }
    ),
}

_SOMEONE = object_of({"id": UUID, "name": TEXT})
_TEAM_MEMBER = object_of({"id": UUID, "name": TEXT, "email": nullable(TEXT)})
_DRAFT_REVISION = {
    "number": {**VERSION, "description": "The revision's number, from 1 for the first save."},
    "content_hash": {**TEXT, "description": "SHA-256 of the content's canonical JSON."},
    "saved_at": component("Instant"),
    "saved_by": _SOMEONE,
    "clearance_requested_at": nullable(component("Instant")),
    "cleared_at": nullable(component("Instant")),
    "cleared_by": nullable(_SOMEONE),
}

# A member State's team for its national report, and the history of its draft.
CLEARANCE: dict[str, dict[str, Any]] = {
    "Drafter": _TEAM_MEMBER,
    "Team": object_of(
        {
            "review_id": TEXT,
            "country": TEXT,
            "drafters": array_of(_TEAM_MEMBER),
            "clearing_officer": nullable(_TEAM_MEMBER),
            "clearance_required": {
                "type": "boolean",
                "description": "true when the country has drafters or a clearing officer: only"
                " a cleared revision is then sent.",
            },
            "status": {
                "enum": ["not_asked", "requested", "cleared", "voided", "sent"],
                "description": "Of the latest revision; voided: an earlier one was cleared and"
                " the draft changed since; sent: it is the version sent last.",
            },
            "latest": nullable(object_of(_DRAFT_REVISION)),
            "you": object_of({"manage_team": {"type": "boolean"}, "clear": {"type": "boolean"}}),
        }
    ),
    "DraftRevisionList": object_of({"items": array_of(object_of(_DRAFT_REVISION))}),
    "DraftRevision": object_of({**_DRAFT_REVISION, "content": {"type": "object"}}),
}

# Consultation meetings, their registrations and summaries.
_REGISTRATION = object_of(
    {
        "id": UUID,
        "session_id": UUID,
        "party": {"type": "string", "description": "organisation:<id> or country:<ISO3>"},
        "registered_by": UUID,
        "people": {"type": "array"},
        "headcount": COUNT,
        "status": {"enum": ["registered", "waitlisted"]},
        "attended": {"type": ["boolean", "null"]},
        "attended_people": {"type": ["array", "null"], "items": COUNT},
    }
)
_OWN_REGISTRATION = object_of(
    {
        **_REGISTRATION["properties"],
        "waiting_place": {
            "anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}],
            "description": "On the waiting list: its place there (1 is next); else null.",
        },
    }
)
_SESSION = {
    "id": UUID,
    "review_id": TEXT,
    "kind": {"enum": ["stakeholder_consultation", "review_meeting", "round_table"]},
    "title": TEXT,
    "meeting_id": nullable(UUID),
    "cluster": nullable(CLUSTER),
    "mode": {"enum": ["online", "in_person", "hybrid"]},
    "link": {"type": ["string", "null"]},
    "place": {"type": ["string", "null"]},
    "starts_at": component("Instant"),
    "ends_at": component("Instant"),
    "agenda": {"type": "array"},
    "capacity": {"type": ["integer", "null"]},
    "audience": {"enum": ["stakeholders", "member_states", "both"]},
    "status": {"enum": ["scheduled", "cancelled"]},
    "cancel_reason": {"type": ["string", "null"]},
    "registered_people": COUNT,
    "waiting": COUNT,
}
SESSIONS: dict[str, dict[str, Any]] = {
    "Session": object_of(_SESSION),
    "SessionList": object_of(
        {"items": array_of(object_of({**_SESSION, "mine": nullable(_OWN_REGISTRATION)}))}
    ),
    "SessionRegistration": _REGISTRATION,
    "SessionRegistrations": object_of(
        {"registered": array_of(_REGISTRATION), "waiting_list": array_of(_REGISTRATION)}
    ),
    "SessionSummary": object_of(
        {
            "session_id": UUID,
            "kind": {"enum": ["rapporteur_summary", "chair_summary"]},
            "text": TEXT,
            "text_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "written_by_role": TEXT,
            "written_at": component("Instant"),
        }
    ),
}

# Every answer schema, by component name.
ANSWERS: dict[str, dict[str, Any]] = {
    **CLEARANCE,
    **SESSIONS,
    **SERVICE,
    **REFERENCE,
    **ACCOUNTS,
    **REVIEWS,
    **SUBMISSIONS,
    **CONSULTATION,
    **REPORT,
    **NOTIFICATIONS,
    **REVIEW_DELIVERIES,
    **PEOPLE,
    **OUTREACH,
}
