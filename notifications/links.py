"""Where each message's link leads: the page on which its reader acts, never the JSON API.

A review's page lists what was sent to it (so a receipt or a report leads there too); a
task's page is where it is answered; a message about the consultation at large leads to the
reader's tasks, since each reader's own task differs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.events import EventType
from i18n import N_

# The invitation to a review, sent when it is created and to those invited later.
REVIEW_INVITED = "review.invited"

SIGN_IN_PATH = "/sign-in"
# The links' labels, in English: a message translates them into its reader's language.
REVIEW_PAGE = N_("Review page")
TASK_PAGE = N_("Your task")
TASKS_PAGE = N_("Your tasks")
# Where a national report's team clears its draft.
TEAM_PAGE = N_("Your team and clearance")
# An invitation's link signs its reader in on the review's page.
SIGN_IN_AND_OPEN = N_("Sign in and open the review")


def review_path(review_id: str) -> str:
    return f"/reviews/{review_id}"


def task_path(task_id: str) -> str:
    return f"/tasks/{task_id}"


def page_of(template: str, review_id: str, data: Mapping[str, Any]) -> tuple[str, str]:
    """The path of the page a message of `template` about `review_id` leads to, and its label."""
    if data.get("task_id"):  # a task handed over or answered
        return task_path(data["task_id"]), TASK_PAGE
    if template == EventType.CLEARANCE_REQUESTED:
        return f"{review_path(review_id)}/team", TEAM_PAGE
    consultation = data.get("deadline") == "consultation_due_at"
    if template in (EventType.CONSULTATION_OPENED, EventType.SYNTHESIS_ADDENDUM) or (
        template
        in (EventType.REMINDER_DUE, EventType.REMINDER_SENT_NOW, EventType.DEADLINE_EXTENDED)
        and consultation
    ):
        return "/tasks", TASKS_PAGE
    return review_path(review_id), REVIEW_PAGE


def message_links(
    base_url: str, template: str, review_id: str, data: Mapping[str, Any]
) -> dict[str, str]:
    """The `links` a message's template shows, full URLs under `base_url`: `page` and its
    `label`, `sign_in` (where to ask for a new sign-in link) and, for a message about a task,
    `task` (its page)."""
    path, label = page_of(template, review_id, data)
    links = {"page": f"{base_url}{path}", "label": label, "sign_in": f"{base_url}{SIGN_IN_PATH}"}
    if data.get("task_id"):
        links["task"] = f"{base_url}{task_path(data['task_id'])}"
    return links
