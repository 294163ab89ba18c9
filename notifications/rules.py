"""Which domain events tell whom, by email.

Each rule names a template and selects its recipients in SQL from the event, given as the
one-row relation `p` (review_id, data jsonb, actor_id), so a notification to 10,000
stakeholders becomes 10,000 delivery rows in one statement. Deactivated accounts are sent
nothing, and their webhooks nothing either. Recipients are chosen when the event is expanded:
who had not acted *then* is who is reminded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.events import EventType

# A focal point hears of a review only through the regions it acts in.
MEMBER_FOCAL_POINTS = """
    SELECT a.id FROM p JOIN reviews r ON r.id = p.review_id
    JOIN actors a ON a.role = 'focal_point' AND a.country = ANY (r.member_states)
                 AND r.region = ANY (a.regions)"""
STAKEHOLDER_CONSULTEES = """
    SELECT c.actor_id FROM p JOIN review_consultees c
    ON c.review_id = p.review_id AND c.role = 'stakeholder'"""
OPEN_TASK_ASSIGNEES = """
    SELECT t.assignee FROM p JOIN tasks t ON t.review_id = p.review_id AND t.status = 'open'"""
TASK_ASSIGNEES = "SELECT t.assignee FROM p JOIN tasks t ON t.review_id = p.review_id"
SECRETARIAT = """
    SELECT a.id FROM p JOIN reviews r ON r.id = p.review_id
    JOIN actors a ON a.role = 'secretariat' AND r.region = ANY (a.regions)"""
EVENT_ACTOR = "SELECT p.actor_id FROM p"
REMINDED = """
    SELECT a.id FROM p JOIN reviews r ON r.id = p.review_id JOIN actors a
    ON (a.role = 'focal_point' AND r.region = ANY (a.regions)
        AND a.country IN (SELECT jsonb_array_elements_text(p.data -> 'countries')))
    OR a.id::text IN (SELECT jsonb_array_elements_text(p.data -> 'stakeholders'))"""
COUNTRY_FOCAL_POINTS = """
    SELECT a.id FROM p JOIN reviews r ON r.id = p.review_id JOIN actors a
    ON a.role = 'focal_point' AND a.country = p.data ->> 'country' AND r.region = ANY (a.regions)"""
DELEGATE = "SELECT (p.data ->> 'to')::uuid FROM p"

CALLED = f"{MEMBER_FOCAL_POINTS} UNION {STAKEHOLDER_CONSULTEES}"
PARTICIPANTS = f"{CALLED} UNION {TASK_ASSIGNEES}"

# Whether opting out of non-essential mail skips a message. Reminders are essential unless
# the review allows skipping them; these are SQL conditions over the review `r`.
ESSENTIAL = "true"
OPTIONAL = "false"
ESSENTIAL_UNLESS_REVIEW_ALLOWS = "NOT r.reminders_optional"


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


def _report_due_or(rule: Rule) -> Callable[[Mapping[str, Any]], Rule]:
    """Reminders and alerts about the report deadline go to the secretariat, in their own words."""
    report_due = Rule("report.approval_due", SECRETARIAT, ESSENTIAL)
    return lambda data: report_due if data.get("deadline") == "report_due_at" else rule


def _fixed(template: str, recipients: str, essential: str) -> Callable[[Mapping[str, Any]], Rule]:
    rule = Rule(template, recipients, essential)
    return lambda data: rule


RULES: dict[str, Callable[[Mapping[str, Any]], Rule | None]] = {
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
    EventType.TASK_DELEGATED: _fixed(EventType.TASK_DELEGATED, DELEGATE, ESSENTIAL),
    EventType.ESCALATION_ALERT: _report_due_or(
        Rule(EventType.ESCALATION_ALERT, SECRETARIAT, ESSENTIAL)
    ),
    EventType.REVIEW_CANCELLED: _fixed(EventType.REVIEW_CANCELLED, PARTICIPANTS, ESSENTIAL),
    EventType.REPORT_READY: _fixed(EventType.REPORT_READY, SECRETARIAT, ESSENTIAL),
    EventType.REPORT_PUBLISHED: _fixed(EventType.REPORT_PUBLISHED, PARTICIPANTS, OPTIONAL),
}


def rule_for(event_type: str, data: Mapping[str, Any]) -> Rule | None:
    """The email rule for an event, or None when the event tells nobody by email."""
    make = RULES.get(event_type)
    return make(data) if make else None


def email_expansion_sql(rule: Rule) -> str:
    """One statement that creates the event's email deliveries.

    Parameters: $1 review id, $2 event data, $3 event actor, $4 event id, $5 template.
    """
    return f"""
        WITH p AS (SELECT $1::text AS review_id, $2::jsonb AS data, $3::uuid AS actor_id,
                          $4::uuid AS event_id, $5::text AS template)
        INSERT INTO deliveries (id, event_id, channel, recipient, address, template)
        SELECT md5(p.event_id::text || ':email:' || a.id::text)::uuid, p.event_id, 'email',
               a.id, a.email, p.template
        FROM p JOIN reviews r ON r.id = p.review_id, actors a
        WHERE a.id IN ({rule.recipients}) AND a.email IS NOT NULL AND a.disabled_at IS NULL
          AND (a.notifications = 'all' OR {rule.essential})
        ON CONFLICT (event_id, channel, recipient) DO NOTHING"""


WEBHOOK_EXPANSION_SQL = """
    WITH p AS (SELECT $1::text AS review_id, $2::uuid AS event_id, $3::text AS event_type)
    INSERT INTO deliveries (id, event_id, channel, recipient, address, template)
    SELECT md5(p.event_id::text || ':webhook:' || w.id::text)::uuid, p.event_id, 'webhook',
           w.id, w.url, p.event_type
    FROM p JOIN reviews r ON r.id = p.review_id, webhooks w
    WHERE w.deleted_at IS NULL
      -- a deactivated owner's subscriptions stop with its account
      AND NOT EXISTS (SELECT 1 FROM actors o WHERE o.id = w.owner AND o.disabled_at IS NOT NULL)
      AND (w.review_id = r.id OR (w.review_id IS NULL AND r.region = ANY (w.regions)))
      AND (p.event_type = ANY (w.events) OR '*' = ANY (w.events))
    ON CONFLICT (event_id, channel, recipient) DO NOTHING"""
