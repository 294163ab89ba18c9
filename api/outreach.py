"""The secretariat writes to a review's people: reminds at once those who have not acted, or
sends its own message."""

from __future__ import annotations

from aiohttp import web

from api import requests
from api.operations import (
    NOT_FOUND,
    SECRETARIAT_ONLY,
    UNAVAILABLE,
    answer,
    component,
    operation,
    shared_response,
)
from api.reviews import secretariat_command
from services import announcements, reminders

routes = web.RouteTableDef()


@routes.post("/v1/reviews/{id}/reminders")
@operation(
    "Reviews",
    "remindNow",
    "Remind, now, those who have not acted in the current phase",
    {
        "200": answer("Who was reminded.", component("RemindersSent")),
        "403": SECRETARIAT_ONLY,
        "404": NOT_FOUND,
        "409": shared_response(
            "Conflict", "Nobody has anything to send in the review's phase, or it has ended."
        ),
        "429": shared_response(
            "TooManyRequests",
            "Reminders were sent less than an hour ago: the detail says from when they can be"
            " sent again, and `Retry-After` in how many seconds. (Also sent past the API's"
            " request rate.)",
        ),
        "503": UNAVAILABLE,
    },
    description="In the call for inputs: the focal points of the member States without a"
    " national report (each reminded of its own deadline, extended or not) and the invited"
    " stakeholders without an input. In the consultation: the stakeholders whose task is"
    " still open, and the States whose own extended deadline is still ahead. At most once an"
    " hour per review; each reminder is recorded in the audit trail (`reminder.sent_now`)."
    " Send {}.",
    parameters=("ReviewId", "IdempotencyKey"),
    body="Reminders",
)
async def remind_now(request: web.Request) -> web.Response:
    return await secretariat_command(request, requests.REMINDERS, reminders.remind_now)


@routes.post("/v1/reviews/{id}/announcements")
@operation(
    "Reviews",
    "announce",
    "Send a message to the review's participants, or to those still missing",
    {
        "200": answer("What was sent, to how many.", component("AnnouncementSent")),
        "403": SECRETARIAT_ONLY,
        "404": NOT_FOUND,
        "409": shared_response("Conflict", "Nobody in this audience can be reached by email."),
    },
    description="Each person reached gets the subject and text as written, by email, in a"
    " frame in their language; the announcement is recorded in the audit trail"
    " (`announcement.sent`, with its audience, subject, text and recipients).",
    parameters=("ReviewId", "IdempotencyKey"),
    body="Announcement",
)
async def announce(request: web.Request) -> web.Response:
    return await secretariat_command(request, requests.ANNOUNCEMENT, announcements.announce)
