"""Who an email rule tells, as SQL selections over the event, given as the one-row relation
`p` (review_id, data jsonb, actor_id), so a notification to 10,000 stakeholders becomes
10,000 delivery rows in one statement (`db.deliveries.expand_email`). The notification rules
(`notifications.rules`) pick among these by name.
"""

from __future__ import annotations

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
# Who clears a country's national report (services.clearance): the clearing officer named for
# the review, else the country's focal points.
CLEARERS = """
    SELECT o.officer FROM p JOIN clearing_officers o
    ON o.review_id = p.review_id AND o.country = p.data ->> 'country'
    UNION
    SELECT a.id FROM p JOIN reviews r ON r.id = p.review_id JOIN actors a
    ON a.role = 'focal_point' AND a.country = p.data ->> 'country' AND r.region = ANY (a.regions)
    WHERE NOT EXISTS (SELECT 1 FROM clearing_officers o
                      WHERE o.review_id = p.review_id AND o.country = p.data ->> 'country')"""
# The approver whose turn it is, named by a report reminder or a turn's announcement.
PENDING_APPROVER = "SELECT (p.data ->> 'approver')::uuid FROM p"
NAMED_STAKEHOLDERS = "SELECT jsonb_array_elements_text(p.data -> 'stakeholders')::uuid FROM p"
# The accounts an announcement names, chosen as it was sent.
NAMED_RECIPIENTS = "SELECT jsonb_array_elements_text(p.data -> 'recipients')::uuid FROM p"
# Those with a place at a meeting (not its waiting list), and the one moved off that list.
SESSION_REGISTRANTS = """
    SELECT g.registered_by FROM p JOIN session_registrations g
    ON g.session_id = (p.data ->> 'session_id')::uuid AND g.status = 'registered'"""
REGISTRANT = "SELECT (p.data ->> 'registrant')::uuid FROM p"


def not_yet_sent(recipients: str) -> str:
    """`recipients`, but none already sent the event's template about the review: whoever is
    invited to a review while its creation's invitations wait to be expanded is told once."""
    return f"""{recipients}
    EXCEPT
    SELECT d.recipient FROM p JOIN review_events e ON e.review_id = p.review_id
    JOIN deliveries d ON d.event_id = e.id AND d.channel = 'email' AND d.template = p.template"""


CALLED = f"{MEMBER_FOCAL_POINTS} UNION {STAKEHOLDER_CONSULTEES}"
PARTICIPANTS = f"{CALLED} UNION {TASK_ASSIGNEES}"

# Whether opting out of non-essential mail skips a message. Reminders are essential unless
# the review allows skipping them; these are SQL conditions over the review `r`.
ESSENTIAL = "true"
OPTIONAL = "false"
ESSENTIAL_UNLESS_REVIEW_ALLOWS = "NOT r.reminders_optional"
