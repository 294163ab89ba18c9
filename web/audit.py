"""A review's audit trail, for those who run it: every event in plain words, filtered by type,
by who acted and by day (in the person's time zone), a page at a time. It reads the trail
through the API's own use cases (services.reviews.event_filter and event_page)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from api.keys import SERVICES
from domain.events import EventType
from domain.reference import load_reference
from services import reviews
from services.refusals import Kind, Refused
from web.format import deadline, zone
from web.render import page
from web.reviews import DEADLINES, shown_count
from web.sessions import require_person

routes = web.RouteTableDef()

PAGE = 50
# What each type of event is called in the filter, and the start of its description.
EVENT_TYPES = {
    EventType.REVIEW_CREATED: "Review created",
    EventType.STAKEHOLDERS_INVITED: "Stakeholders invited",
    EventType.PHASE_CHANGED: "Phase changed",
    EventType.REVIEW_CANCELLED: "Review cancelled",
    EventType.DEADLINE_EXTENDED: "Deadline extended",
    EventType.REMINDER_DUE: "Reminder sent",
    EventType.ESCALATION_ALERT: "Alert to the secretariat",
    EventType.SUBMISSION_ACCEPTED: "Submission accepted",
    EventType.SUBMISSION_REJECTED: "Submission refused",
    EventType.CONSULTATION_OPENED: "Consultation opened",
    EventType.CONSULTATION_CLOSED: "Consultation closed",
    EventType.TASK_COMPLETED: "Consultation task answered",
    EventType.TASK_DELEGATED: "Consultation task handed over",
    EventType.REPORT_READY: "Report version compiled",
    EventType.REPORT_CHANGES_REQUESTED: "Changes to the report requested",
    EventType.REPORT_PUBLISHED: "Report approved and published",
}
KINDS = {"national_report": "national report", "stakeholder_input": "stakeholder input"}
# The query's names for the filters, and the fields of the form that set them.
FILTERS = ("type", "actor", "from", "to")
DATE_PROBLEM = "Enter a real date, like 2020-10-27"


def _phase(value: Any) -> str:
    return str(value).replace("_", " ")


def _deadline_name(value: Any) -> str:
    named = {d.value: label for d, label in DEADLINES.items()}
    return named.get(value, str(value)).lower()


def _country(iso3: Any) -> str:
    return load_reference().country_name(str(iso3)) or str(iso3)


def _when(data: Mapping[str, Any], key: str, zone_name: str) -> str:
    text = data.get(key)
    return deadline(datetime.fromisoformat(text), zone_name) if isinstance(text, str) else ""


def _details(kind: str, data: Mapping[str, Any], zone_name: str) -> str:
    """What the event's data adds to its name, in words."""
    match kind:
        case EventType.REVIEW_CREATED:
            return f"“{data.get('title', '')}”"
        case EventType.STAKEHOLDERS_INVITED:
            count = len(data.get("stakeholders", []))
            return f"{count} stakeholder{'s' if count != 1 else ''}"
        case EventType.PHASE_CHANGED | EventType.REVIEW_CANCELLED:
            said = f"From {_phase(data.get('from'))} to {_phase(data.get('to'))}"
            return said + (f": {data['reason']}" if data.get("reason") else "")
        case EventType.DEADLINE_EXTENDED:
            scope = f" for {_country(data['country'])}" if data.get("country") else ""
            said = f"When {_deadline_name(data.get('deadline'))}{scope}: now {_when(data, 'until', zone_name)}"
            return said + (f". Reason: {data['reason']}" if data.get("reason") else "")
        case EventType.REMINDER_DUE | EventType.ESCALATION_ALERT:
            said = f"When {_deadline_name(data.get('deadline'))}"
            missing = data.get("missing")
            if isinstance(missing, list) and missing:
                said += ". Missing: " + ", ".join(_country(m) for m in missing)
            return said
        case EventType.SUBMISSION_ACCEPTED | EventType.SUBMISSION_REJECTED:
            what = KINDS.get(data.get("kind", ""), "submission")
            subject = data.get("subject", "")
            by = _country(subject) if what == "national report" else data.get("organisation", "")
            said = f"The {what}{f' of {by}' if by else ''}"
            said += " (late)" if data.get("late") else ""
            return said + (f": {data['reason']}" if data.get("reason") else "")
        case EventType.CONSULTATION_OPENED:
            return f"Answers due {_when(data, 'due_at', zone_name)}" if data.get("due_at") else ""
        case EventType.REPORT_CHANGES_REQUESTED:
            return f"To version {data.get('version')}: “{data.get('note', '')}”"
    return ""


def _events(
    items: list[dict[str, Any]], names: Mapping[str, str], zone_name: str
) -> list[dict[str, str]]:
    return [
        {
            "when": deadline(datetime.fromisoformat(item["at"]), zone_name),
            "what": EVENT_TYPES.get(item["type"], item["type"]),
            "details": _details(item["type"], item["data"], zone_name),
            "who": names.get(item["actor_id"] or "", "Someone no longer listed")
            if item["actor_id"]
            else "reviewflow, by itself",
        }
        for item in items
    ]


def _day(text: str, field: str, errors: list[dict[str, str]]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append({"field_id": field, "message": DATE_PROBLEM})
        return None


def _asked(query: Mapping[str, str], zone_name: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The use case's filter from the form's: a day `from` starts at its midnight in the
    person's zone, a day `to` ends at the next."""
    errors: list[dict[str, str]] = []
    first, last = (_day(query.get(name, ""), name, errors) for name in ("from", "to"))
    if first and last and first > last:
        errors.append({"field_id": "to", "message": "The end date must be on or after the start"})
    local = zone(zone_name)
    asked = {name: query.get(name, "") for name in ("type", "actor")}
    if first:
        asked["from"] = datetime.combine(first, time(), local).isoformat()
    if last:
        asked["to"] = datetime.combine(last + timedelta(days=1), time(), local).isoformat()
    return asked, errors


def _link(review_id: str, place: Mapping[str, str], after: int | None = None) -> str:
    query = {k: v for k, v in place.items() if v}
    if after:
        query["after"] = str(after)
    return f"/reviews/{review_id}/audit" + (f"?{urlencode(query)}" if query else "")


# The use case's problems with a filter the page's form could not have sent (a changed address).
PROBLEM_FIELDS = {"/type": "type", "/actor": "actor"}
CHOOSE = {"type": "Choose a type of event from the list", "actor": "Choose a person from the list"}


@routes.get("/reviews/{id}/audit")
async def audit_page(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    deps = request.app[SERVICES]
    review = await reviews.run_or_unseen(deps, person, request.match_info["id"])
    shown = {name: request.query.get(name, "").strip() for name in FILTERS}
    asked, errors = _asked(shown, person.time_zone)
    only = reviews.event_filter({})
    if not errors:
        try:
            only = reviews.event_filter(asked)
        except Refused as refused:
            if refused.kind is not Kind.INVALID:
                raise
            errors = [
                {"field_id": PROBLEM_FIELDS[p], "message": CHOOSE[PROBLEM_FIELDS[p]]}
                for p, _ in refused.problems
                if p in PROBLEM_FIELDS
            ]
    # A filter not understood lists the trail unfiltered, from its start.
    after = 0 if errors else shown_count(request.query, "after") or 0
    found = await reviews.event_page(deps, review, after, PAGE, only)
    actors = await reviews.event_actors(deps, review)
    names = {str(a["id"]): a["name"] for a in actors}
    context = {
        "review": review,
        "events": _events(found["items"], names, person.time_zone),
        "types": [(t.value, label) for t, label in EVENT_TYPES.items()],
        "actors": list(names.items()),
        "shown": shown,
        "filtered": any(shown.values()),
        "cleared": _link(review["id"], {}),
        "more": found["next_after"] and _link(review["id"], shown, found["next_after"]),
        "first": after and _link(review["id"], shown),
        "errors": errors,
        "error_of": {e["field_id"]: e["message"] for e in errors},
        "zone": zone(person.time_zone).key,
        "back": f"/reviews/{review['id']}",
    }
    return page(request, "reviews/audit.html", context, status=422 if errors else 200)
