"""Which domain events tell whom, by email.

Each rule names a template and a selection of recipients (`db.recipients`, SQL over the
event), so a notification to 10,000 stakeholders becomes 10,000 delivery rows in one
statement. Deactivated accounts are sent nothing, and their webhooks nothing either.
Recipients are chosen when the event is expanded: who had not acted *then* is who is reminded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from db.recipients import (
    CALLED,
    CLEARERS,
    COUNTRY_FOCAL_POINTS,
    DELEGATE,
    ESSENTIAL,
    ESSENTIAL_UNLESS_REVIEW_ALLOWS,
    EVENT_ACTOR,
    MEMBER_FOCAL_POINTS,
    NAMED_RECIPIENTS,
    NAMED_STAKEHOLDERS,
    OPEN_TASK_ASSIGNEES,
    OPTIONAL,
    PARTICIPANTS,
    PENDING_APPROVER,
    REGISTRANT,
    REMINDED,
    SECRETARIAT,
    SESSION_REGISTRANTS,
    TASK_ASSIGNEES,
    not_yet_sent,
)
from domain.events import EventType
from notifications.links import REVIEW_INVITED


class _Readable(Protocol):
    def __getitem__(self, key: str) -> Any: ...


# An event as read from the trail (a record or a mapping), kept as it is by the grouping.
E = TypeVar("E", bound=_Readable)


@dataclass(frozen=True)
class Rule:
    template: str
    recipients: str
    essential: str


def _phase_changed(data: Mapping[str, Any]) -> Rule | None:
    if data.get("to") == "call_for_inputs":
        return Rule("call.opened", CALLED, ESSENTIAL)
    return None


def _deadline_extended(data: Mapping[str, Any]) -> Rule:
    if data.get("country"):
        recipients = COUNTRY_FOCAL_POINTS
    else:
        recipients = {
            "consultation_due_at": OPEN_TASK_ASSIGNEES,
            "report_due_at": SECRETARIAT,
        }.get(data.get("deadline", ""), CALLED)
    return Rule(EventType.DEADLINE_EXTENDED, recipients, OPTIONAL)


def _session_registered(data: Mapping[str, Any]) -> Rule | None:
    """Only one moved off a meeting's waiting list is told: the others registered themselves."""
    if data.get("promoted"):
        return Rule("session.promoted", REGISTRANT, ESSENTIAL)
    return None


def _report_due_or(rule: Rule) -> Callable[[Mapping[str, Any]], Rule]:
    """Reminders and alerts about the report deadline go to the secretariat, in their own words;
    a reminder naming the approver whose turn it is, to that approver only."""
    report_due = Rule("report.approval_due", SECRETARIAT, ESSENTIAL)
    approver_due = Rule("report.approval_due", PENDING_APPROVER, ESSENTIAL)

    def chosen(data: Mapping[str, Any]) -> Rule:
        if data.get("deadline") != "report_due_at":
            return rule
        reminds_approver = rule.template == EventType.REMINDER_DUE and data.get("approver")
        return approver_due if reminds_approver else report_due

    return chosen


def _fixed(template: str, recipients: str, essential: str) -> Callable[[Mapping[str, Any]], Rule]:
    rule = Rule(template, recipients, essential)
    return lambda data: rule


RULES: dict[str, Callable[[Mapping[str, Any]], Rule | None]] = {
    # Those called to a review are invited as it is created; each invitation carries a
    # sign-in link of the recipient's own, made as it is sent (activities.notify).
    EventType.REVIEW_CREATED: _fixed(REVIEW_INVITED, not_yet_sent(CALLED), ESSENTIAL),
    EventType.STAKEHOLDERS_INVITED: _fixed(
        REVIEW_INVITED, not_yet_sent(NAMED_STAKEHOLDERS), ESSENTIAL
    ),
    EventType.MEMBER_STATES_INVITED: _fixed(
        REVIEW_INVITED, not_yet_sent(MEMBER_FOCAL_POINTS), ESSENTIAL
    ),
    EventType.PHASE_CHANGED: _phase_changed,
    EventType.SUBMISSION_ACCEPTED: _fixed(EventType.SUBMISSION_ACCEPTED, EVENT_ACTOR, OPTIONAL),
    EventType.SUBMISSION_REJECTED: _fixed(EventType.SUBMISSION_REJECTED, EVENT_ACTOR, OPTIONAL),
    EventType.REMINDER_DUE: _report_due_or(
        Rule(EventType.REMINDER_DUE, REMINDED, ESSENTIAL_UNLESS_REVIEW_ALLOWS)
    ),
    EventType.DEADLINE_EXTENDED: _deadline_extended,
    # Every task is open when the consultation opens; by the time this is expanded some may
    # be answered or closed, and their assignees were still assigned one.
    EventType.CONSULTATION_OPENED: _fixed(EventType.CONSULTATION_OPENED, TASK_ASSIGNEES, ESSENTIAL),
    # A receipt, as for a submission: the answer is in the task's page whatever the mail.
    EventType.TASK_COMPLETED: _fixed(EventType.TASK_COMPLETED, EVENT_ACTOR, OPTIONAL),
    EventType.TASK_DELEGATED: _fixed(EventType.TASK_DELEGATED, DELEGATE, ESSENTIAL),
    EventType.ESCALATION_ALERT: _report_due_or(
        Rule(EventType.ESCALATION_ALERT, SECRETARIAT, ESSENTIAL)
    ),
    EventType.REVIEW_CANCELLED: _fixed(EventType.REVIEW_CANCELLED, PARTICIPANTS, ESSENTIAL),
    EventType.REPORT_READY: _fixed(EventType.REPORT_READY, SECRETARIAT, ESSENTIAL),
    # The approver whose turn it is to approve the report.
    EventType.REPORT_APPROVAL_PENDING: _fixed(
        EventType.REPORT_APPROVAL_PENDING, PENDING_APPROVER, ESSENTIAL
    ),
    EventType.REPORT_PUBLISHED: _fixed(EventType.REPORT_PUBLISHED, PARTICIPANTS, OPTIONAL),
    # Sent by hand by the secretariat: a reminder as essential as the planned ones, and its
    # own message to those it chose.
    EventType.REMINDER_SENT_NOW: _fixed(
        EventType.REMINDER_SENT_NOW, REMINDED, ESSENTIAL_UNLESS_REVIEW_ALLOWS
    ),
    EventType.ANNOUNCEMENT_SENT: _fixed(EventType.ANNOUNCEMENT_SENT, NAMED_RECIPIENTS, ESSENTIAL),
    # What the consultees are consulted on grew: everyone who holds a task of the review is
    # told, once per batch of inputs accepted together (docs/notifications.md).
    EventType.SYNTHESIS_ADDENDUM: _fixed(EventType.SYNTHESIS_ADDENDUM, TASK_ASSIGNEES, ESSENTIAL),
    # A national report's draft waits for its clearing officer.
    EventType.CLEARANCE_REQUESTED: _fixed(EventType.CLEARANCE_REQUESTED, CLEARERS, ESSENTIAL),
    # A meeting starts soon, or was cancelled: those with a place are told.
    EventType.SESSION_REMINDER_DUE: _fixed(
        EventType.SESSION_REMINDER_DUE, SESSION_REGISTRANTS, ESSENTIAL
    ),
    EventType.SESSION_CANCELLED: _fixed(
        EventType.SESSION_CANCELLED, SESSION_REGISTRANTS, ESSENTIAL
    ),
    EventType.SESSION_REGISTERED: _session_registered,
}


def rule_for(event_type: str, data: Mapping[str, Any]) -> Rule | None:
    """The email rule for an event, or None when the event tells nobody by email."""
    make = RULES.get(event_type)
    return make(data) if make else None


def emails_by_rule(events: Iterable[E]) -> dict[tuple[str, str, str], list[E]]:
    """Events (each with its `type` and `data`) under their email rule's template,
    recipients and essential, so each rule's expansions go out together; those that tell
    nobody by email are left out."""
    grouped: dict[tuple[str, str, str], list[E]] = {}
    for event in events:
        rule = rule_for(event["type"], event["data"])
        if rule is not None:
            grouped.setdefault((rule.template, rule.recipients, rule.essential), []).append(event)
    return grouped
