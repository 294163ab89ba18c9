"""A review's audit trail, for those who run it: every event in plain words, filtered by type,
by who acted and by day (in the person's time zone), a page at a time. It reads the trail
through the API's own use cases (services.reviews.event_filter and event_page)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

import i18n
from api.keys import SERVICES
from domain.annexes import TYPE_NAME
from domain.events import EventType
from domain.review import Phase
from i18n import country_name
from services import reviews
from services.refusals import Kind, Refused
from web.console import PHASE_NAMES
from web.format import deadline, file_size, zone
from web.render import page
from web.reviews import DEADLINES, shown_count
from web.sessions import require_person

routes = web.RouteTableDef()

PAGE = 50
# What each type of event is called in the filter, and the start of its description
# (translated where shown).
EVENT_TYPES = {
    EventType.REVIEW_CREATED: i18n.N_("Review created"),
    EventType.STAKEHOLDERS_INVITED: i18n.N_("Stakeholders invited"),
    EventType.PHASE_CHANGED: i18n.N_("Phase changed"),
    EventType.REVIEW_CANCELLED: i18n.N_("Review cancelled"),
    EventType.DEADLINE_EXTENDED: i18n.N_("Deadline extended"),
    EventType.REMINDER_DUE: i18n.N_("Reminder sent"),
    EventType.ESCALATION_ALERT: i18n.N_("Alert to the secretariat"),
    EventType.SUBMISSION_ACCEPTED: i18n.N_("Submission accepted"),
    EventType.SUBMISSION_REJECTED: i18n.N_("Submission refused"),
    EventType.CONSULTATION_OPENED: i18n.N_("Consultation opened"),
    EventType.CONSULTATION_CLOSED: i18n.N_("Consultation closed"),
    EventType.SYNTHESIS_ADDENDUM: i18n.N_("Inputs added to the synthesis"),
    EventType.TASK_COMPLETED: i18n.N_("Consultation task answered"),
    EventType.TASK_DELEGATED: i18n.N_("Consultation task handed over"),
    EventType.REPORT_READY: i18n.N_("Report version compiled"),
    EventType.REPORT_APPROVAL_GIVEN: i18n.N_("Report approved by one of its approvers"),
    EventType.REPORT_APPROVAL_PENDING: i18n.N_("Report awaiting the next approver"),
    EventType.REVIEW_APPROVERS_CHANGED: i18n.N_("Approvers of the report changed"),
    EventType.REPORT_CHANGES_REQUESTED: i18n.N_("Changes to the report requested"),
    EventType.REPORT_PUBLISHED: i18n.N_("Report approved and published"),
    EventType.DELIVERY_RETRIED: i18n.N_("Failed message sent again"),
    EventType.CLEARANCE_REQUESTED: i18n.N_("National report sent for clearance"),
    EventType.DRAFT_CLEARED: i18n.N_("National report cleared"),
    EventType.SCHEMA_VERSIONS_MOVED: i18n.N_("Forms moved to their current version"),
    EventType.ANNEX_ATTACHED: i18n.N_("Annex attached to a draft"),
    EventType.ANNEX_REMOVED: i18n.N_("Annex removed from a draft"),
    EventType.SESSION_SCHEDULED: i18n.N_("Meeting scheduled"),
    EventType.SESSION_RESCHEDULED: i18n.N_("Meeting changed"),
    EventType.SESSION_CANCELLED: i18n.N_("Meeting cancelled"),
    EventType.SESSION_REGISTERED: i18n.N_("Registered for a meeting"),
    EventType.SESSION_WAITLISTED: i18n.N_("On a meeting's waiting list"),
    EventType.SESSION_ATTENDANCE_RECORDED: i18n.N_("Meeting attendance recorded"),
    EventType.SESSION_SUMMARY_WRITTEN: i18n.N_("Meeting summary written"),
    EventType.SESSION_REMINDER_DUE: i18n.N_("Meeting reminder sent"),
}
# A submission's event, by its kind: without and with who sent it.
KINDS = {
    "national_report": (i18n.N_("The national report"), i18n.N_("The national report of %(by)s")),
    "stakeholder_input": (
        i18n.N_("The stakeholder input"),
        i18n.N_("The stakeholder input of %(by)s"),
    ),
}
SUBMISSION = (i18n.N_("The submission"), i18n.N_("The submission of %(by)s"))
TYPE_NAMES = {media_type.value: name for media_type, name in TYPE_NAME.items()}
# The query's names for the filters, and the fields of the form that set them.
FILTERS = ("type", "actor", "from", "to")
DATE_PROBLEM = i18n.N_("Enter a real date, like 2020-10-27")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _phase(value: Any) -> str:
    try:
        return _lower_first(i18n.gettext(PHASE_NAMES[Phase(value)]))
    except ValueError:
        return str(value).replace("_", " ")


def _deadline_name(value: Any) -> str:
    named = {d.value: label for d, label in DEADLINES.items()}
    if value in named:
        return _lower_first(i18n.gettext(named[value]))
    return str(value).lower()


def _country(iso3: Any) -> str:
    return country_name(str(iso3))


def _reason(data: Mapping[str, Any], said: str) -> str:
    """`said`, then the reason someone wrote, if any (never translated)."""
    if not data.get("reason"):
        return said
    return i18n.gettext("%(event)s: %(reason)s") % {"event": said, "reason": data["reason"]}


def _when(data: Mapping[str, Any], key: str, zone_name: str) -> str:
    text = data.get(key)
    return deadline(datetime.fromisoformat(text), zone_name) if isinstance(text, str) else ""


def _submission(data: Mapping[str, Any]) -> str:
    """The submission an event is about: a State's report, or an input by its organisation
    when the event names it."""
    kind = data.get("kind", "")
    alone, of = KINDS.get(kind, SUBMISSION)
    subject = data.get("subject", "")
    by = _country(subject) if kind == "national_report" else data.get("organisation", "")
    return i18n.gettext(of) % {"by": by} if by else i18n.gettext(alone)


def _annex(data: Mapping[str, Any]) -> str:
    """An annex by its submission, type, size and hash (its events never hold its name)."""
    media_type = str(data.get("media_type", ""))
    size = data.get("size")
    return i18n.gettext("%(submission)s: %(type)s, %(size)s, SHA-256 %(sha256)s") % {
        "submission": _submission(data),
        "type": TYPE_NAMES.get(media_type, media_type),
        "size": file_size(size) if isinstance(size, int) else "",
        "sha256": data.get("sha256", ""),
    }


def _details(kind: str, data: Mapping[str, Any], zone_name: str) -> str:
    """What the event's data adds to its name, in words."""
    match kind:
        case EventType.REVIEW_CREATED:
            return i18n.gettext("“%(title)s”") % {"title": data.get("title", "")}
        case EventType.STAKEHOLDERS_INVITED:
            count = len(data.get("stakeholders", []))
            return i18n.ngettext("%(count)s stakeholder", "%(count)s stakeholders", count) % {
                "count": count
            }
        case EventType.PHASE_CHANGED | EventType.REVIEW_CANCELLED:
            said = i18n.gettext("From %(from)s to %(to)s") % {
                "from": _phase(data.get("from")),
                "to": _phase(data.get("to")),
            }
            return _reason(data, said)
        case EventType.DEADLINE_EXTENDED:
            named = {
                "deadline": _deadline_name(data.get("deadline")),
                "until": _when(data, "until", zone_name),
            }
            if data.get("country"):
                said = i18n.gettext("When %(deadline)s for %(country)s: now %(until)s") % {
                    **named,
                    "country": _country(data["country"]),
                }
            else:
                said = i18n.gettext("When %(deadline)s: now %(until)s") % named
            if data.get("reason"):
                said += ". " + i18n.gettext("Reason: %(reason)s") % {"reason": data["reason"]}
            return said
        case EventType.REMINDER_DUE | EventType.ESCALATION_ALERT:
            said = i18n.gettext("When %(deadline)s") % {
                "deadline": _deadline_name(data.get("deadline"))
            }
            missing = data.get("missing")
            if isinstance(missing, list) and missing:
                states = ", ".join(_country(m) for m in missing)
                said += ". " + i18n.gettext("Missing: %(states)s") % {"states": states}
            return said
        case EventType.SUBMISSION_ACCEPTED | EventType.SUBMISSION_REJECTED:
            said = _submission(data)
            said += " " + i18n.gettext("(late)") if data.get("late") else ""
            return _reason(data, said)
        case EventType.ANNEX_ATTACHED | EventType.ANNEX_REMOVED:
            return _annex(data)
        case EventType.CONSULTATION_OPENED:
            if not data.get("due_at"):
                return ""
            return i18n.gettext("Answers due %(when)s") % {"when": _when(data, "due_at", zone_name)}
        case EventType.CLEARANCE_REQUESTED | EventType.DRAFT_CLEARED:
            _, of = KINDS["national_report"]
            report = i18n.gettext(of) % {"by": _country(data.get("country", ""))}
            return i18n.gettext("%(report)s, revision %(number)s") % {
                "report": report,
                "number": data.get("revision"),
            }
        case EventType.REPORT_CHANGES_REQUESTED:
            said = i18n.gettext("To version %(version)s: “%(note)s”") % {
                "version": data.get("version"),
                "note": data.get("note", ""),
            }
            return _step(data, said)
        case EventType.REPORT_APPROVAL_GIVEN | EventType.REPORT_APPROVAL_PENDING:
            said = i18n.gettext("Version %(version)s") % {"version": data.get("version")}
            return _step(data, said)
    return ""


def _step(data: Mapping[str, Any], said: str) -> str:
    """`said`, with the step of the approval chain the event is at, if it is at one."""
    if "step" not in data:
        return said
    return (
        said
        + ". "
        + i18n.gettext("Step %(step)s of %(of)s")
        % {
            "step": data["step"],
            "of": data.get("of"),
        }
    )


def _events(
    items: list[dict[str, Any]], names: Mapping[str, str], zone_name: str
) -> list[dict[str, str]]:
    return [
        {
            "when": deadline(datetime.fromisoformat(item["at"]), zone_name),
            "what": i18n.gettext(EVENT_TYPES[item["type"]])
            if item["type"] in EVENT_TYPES
            else item["type"],
            "details": _details(item["type"], item["data"], zone_name),
            "who": names.get(item["actor_id"] or "", i18n.gettext("Someone no longer listed"))
            if item["actor_id"]
            else i18n.gettext("reviewflow, by itself"),
        }
        for item in items
    ]


def _day(text: str, field: str, errors: list[dict[str, str]]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append({"field_id": field, "message": i18n.gettext(DATE_PROBLEM)})
        return None


def _asked(query: Mapping[str, str], zone_name: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The use case's filter from the form's: a day `from` starts at its midnight in the
    person's zone, a day `to` ends at the next."""
    errors: list[dict[str, str]] = []
    first, last = (_day(query.get(name, ""), name, errors) for name in ("from", "to"))
    if first and last and first > last:
        message = i18n.gettext("The end date must be on or after the start")
        errors.append({"field_id": "to", "message": message})
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
CHOOSE = {
    "type": i18n.N_("Choose a type of event from the list"),
    "actor": i18n.N_("Choose a person from the list"),
}


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
                {"field_id": PROBLEM_FIELDS[p], "message": i18n.gettext(CHOOSE[PROBLEM_FIELDS[p]])}
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
        "types": [(t.value, i18n.gettext(label)) for t, label in EVENT_TYPES.items()],
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
