"""Email rendering of notifications: every templated event, escaping, subjects, languages.

No database or server needed.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import jinja2
import pytest

from notifications import render as render_module
from notifications.links import message_links
from notifications.render import (
    TEMPLATED_EVENTS,
    Rendered,
    available_languages,
    format_instant,
    render,
)

TEMPLATES = Path(render_module.__file__).parent / "templates"
PUBLIC_URL = "https://reviewflow.example/gcm"
REVIEW_ID = "0f6c2a52-8b7e-4b1c-9a53-2c5d1e0b7a41"
HOSTILE = '<script>alert(1)</script> "quotes" & ampersands'

EVENT_DATA: dict[str, dict[str, Any]] = {
    "call.opened": {
        "inputs_due_at": "2020-10-26T23:59:00+00:00",
        "consultation_due_at": "2020-11-16T23:59:00+00:00",
    },
    "submission.accepted": {
        "kind": "national_report",
        "subject": "AUT",
        "late": False,
        "submission_id": "6d1f0e2a-3c4b-4f5e-8a9b-0c1d2e3f4a5b",
        "version": 2,
    },
    "submission.rejected": {
        "kind": "stakeholder_input",
        "subject": "Migrant Rights Network",
        "reason": "The call for inputs is closed.",
    },
    "reminder.due": {
        "deadline": "inputs_due_at",
        "due_at": "2020-10-26T23:59:00+00:00",
        "days_before": 7,
    },
    "deadline.extended": {
        "deadline": "inputs_due_at",
        "previous": "2020-10-26T23:59:00+00:00",
        "until": "2020-11-02T23:59:00+00:00",
        "reason": "Requested by several focal points.",
        "country": "ALB",
    },
    "consultation.opened": {"due_at": "2020-11-16T23:59:00+00:00"},
    "task.completed": {
        "task_id": "9b2e4c1d-7a6f-4e3b-8c5d-1a2b3c4d5e6f",
        "endorsement": "endorse_with_reservations",
    },
    "task.delegated": {
        "task_id": "9b2e4c1d-7a6f-4e3b-8c5d-1a2b3c4d5e6f",
        "from_name": "Anna Berger",
        "note": "Could you answer this while I am on mission?",
    },
    "draft.clearance_requested": {
        "country": "DEU",
        "revision": 3,
        "content_hash": "0" * 64,
        "from_name": "Dana Drafter",
    },
    "escalation.alert": {
        "deadline": "inputs_due_at",
        "days_before": 3,
        "share": 0.4286,
        "required": 0.6,
        "missing": ["ALB", "ARM", "AZE", "BIH"],
    },
    "review.cancelled": {"reason": "The regional review meeting has been postponed to 2021."},
    "report.ready": {"version": 1, "content_hash": "sha256:3f9a0c7e5b1d"},
    "report.approval_due": {"deadline": "report_due_at", "days_before": 7},
    "report.approval_pending": {
        "version": 2,
        "approver": "5d1f0c6e-2b7a-4c39-9e81-0a4b6c2d8e1f",
        "step": 2,
        "of": 3,
    },
    "report.published": {"version": 1, "content_hash": "sha256:3f9a0c7e5b1d"},
    "session.reminder_due": {
        "session_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        "starts_at": "2020-11-09T09:00:00+00:00",
        "seconds_before": 86_400,
    },
    "session.cancelled": {"session_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7"},
    "session.promoted": {
        "session_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        "registration_id": "9b2f1e34-0d7c-4a56-8e21-5c3b7a9d0f12",
        "people": 2,
        "promoted": True,
        "registrant": "5d1f0c6e-2b7a-4c39-9e81-0a4b6c2d8e1f",
    },
    "review.invited": {
        "title": "Regional Review of the GCM in the UNECE Region 2020",
        "call_opens_at": "2020-09-01T00:00:00+00:00",
        "inputs_due_at": "2020-10-26T23:59:00+00:00",
        "consultation_due_at": "2020-11-16T23:59:00+00:00",
    },
    "reminder.sent_now": {
        "deadline": "inputs_due_at",
        "due_at": "2020-10-26T23:59:00+00:00",
        "own_deadlines": {},
        "countries": ["AUT"],
        "stakeholders": [],
    },
    "synthesis.addendum": {
        "count": 2,
        "submissions": [
            {
                "submission_id": "5d1f0c6e-2b7a-4c39-9e81-0a4b6c2d8e1f",
                "version": 1,
                "kind": "national_report",
                "subject": "AUT",
                "late": False,
            },
        ],
    },
    "announcement.sent": {
        "audience": "participants",
        "subject": "Regional meeting on 12 November",
        "body": "Dear colleagues,\n\nThe regional meeting takes place on 12 November.",
        "count": 3,
        "recipients": [],
    },
}


def make_context(event_type: str, **data: Any) -> dict[str, Any]:
    event_data = {**copy.deepcopy(EVENT_DATA[event_type]), **data}
    context: dict[str, Any] = {
        "recipient": {"name": "Maria Schmidt"},
        "review": {
            "id": REVIEW_ID,
            "title": "Regional Review of the GCM in the UNECE Region 2020",
            "region": "ECE",
        },
        "event": {
            "type": event_type,
            "at": "2020-09-01T09:30:00+00:00",
            "data": event_data,
        },
        "links": message_links(PUBLIC_URL, event_type, REVIEW_ID, event_data),
        "service": {"name": "reviewflow"},
    }
    if event_type in ("call.opened", "reminder.due", "reminder.sent_now", "review.invited"):
        context["role"] = "focal_point"
    return context


def assert_single_line(subject: str) -> None:
    assert subject.strip()
    assert subject == subject.strip()
    assert len(subject.splitlines()) == 1
    assert not any(ch in subject for ch in "\r\n\x0b\x0c\x85\u2028\u2029")


def test_every_event_type_has_sample_data() -> None:
    assert set(EVENT_DATA) == set(TEMPLATED_EVENTS)


@pytest.mark.parametrize("event_type", TEMPLATED_EVENTS)
def test_every_event_renders_in_english(event_type: str) -> None:
    context = make_context(event_type)
    rendered = render(event_type, "en", context)
    assert isinstance(rendered, Rendered)
    assert_single_line(rendered.subject)
    title = context["review"]["title"]
    assert title in rendered.subject
    assert title in rendered.text
    assert title in rendered.html
    assert rendered.text.startswith("Dear Maria Schmidt,\n\n")
    page = context["links"]["page"]
    assert page in rendered.text
    assert f'href="{page}"' in rendered.html
    html = rendered.html.lower()
    assert html.startswith("<!doctype html>")
    assert html.rstrip().endswith("</html>")
    assert "<title>" in html and "</body>" in html
    # Standalone: no stylesheets, scripts, images or other fetched resources.
    for forbidden in ("<link", "<script", "<img", "<style", "src=", "url("):
        assert forbidden not in html
    # Templates must not leak Jinja syntax or Python reprs into the output.
    for part in (rendered.subject, rendered.text, rendered.html):
        assert "{{" not in part and "{%" not in part and "None" not in part


@pytest.mark.parametrize("role", ["focal_point", "stakeholder"])
def test_call_opened_speaks_to_the_role(role: str) -> None:
    context = make_context("call.opened")
    context["role"] = role
    rendered = render("call.opened", "en", context)
    expected = "national report" if role == "focal_point" else "written input"
    assert expected in rendered.text and expected in rendered.html
    assert "26 October 2020, 23:59 UTC" in rendered.text
    assert "16 November 2020, 23:59 UTC" in rendered.text


def test_variants_render() -> None:
    late = render("submission.accepted", "en", make_context("submission.accepted", late=True))
    assert "late" in late.text
    consultation = render(
        "reminder.due",
        "en",
        make_context("reminder.due", deadline="consultation_due_at", days_before=1),
    )
    assert "consultation" in consultation.text and "in 1 day" in consultation.text
    context = make_context("deadline.extended")
    del context["event"]["data"]["country"]
    everyone = render("deadline.extended", "en", context)
    assert "ALB" not in everyone.text and "2 November 2020, 23:59 UTC" in everyone.text
    context = make_context("task.delegated")
    del context["event"]["data"]["note"]
    assert "Note from" not in render("task.delegated", "en", context).text
    alert = render("escalation.alert", "en", make_context("escalation.alert"))
    assert "43%" in alert.subject and "60%" in alert.subject
    assert "  - BIH" in alert.text and "<li>BIH</li>" in alert.html


def test_link_is_left_out_without_one() -> None:
    context = make_context("review.cancelled")
    context["links"] = {}
    rendered = render("review.cancelled", "en", context)
    assert "Review page" not in rendered.text and "href=" not in rendered.html
    context["links"] = {"page": "javascript:alert(1)", "label": "Review page"}
    rendered = render("review.cancelled", "en", context)
    assert "javascript:" not in rendered.text and "javascript:" not in rendered.html


def test_user_supplied_text_is_escaped_in_html_and_verbatim_in_text() -> None:
    context = make_context("submission.rejected", subject=HOSTILE, reason=HOSTILE)
    context["review"]["title"] = HOSTILE
    context["recipient"]["name"] = HOSTILE
    rendered = render("submission.rejected", "en", context)
    assert "<script" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "&#34;quotes&#34; &amp; ampersands" in rendered.html
    assert rendered.text.count(HOSTILE) >= 4  # greeting, subject of submission, title, reason
    assert HOSTILE in rendered.subject  # the subject is a header, not HTML: kept as given


def test_direction_overrides_never_reach_a_message() -> None:
    spoofed = "Review \u202eFDP.exe\u202c \u2066of\u2069 2020"
    context = make_context("submission.rejected", reason=spoofed)
    context["review"]["title"] = spoofed
    rendered = render("submission.rejected", "en", context)
    for part in (rendered.subject, rendered.text, rendered.html):
        assert not any(ch in part for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2069")
    assert rendered.text.count("Review FDP.exe of 2020") >= 2  # the title and the reason


@pytest.mark.parametrize("event_type", TEMPLATED_EVENTS)
def test_hostile_title_is_escaped_in_every_html_part(event_type: str) -> None:
    context = make_context(event_type)
    context["review"]["title"] = HOSTILE
    rendered = render(event_type, "en", context)
    assert "<script" not in rendered.html
    assert HOSTILE in rendered.text


@pytest.mark.parametrize(
    ("event_type", "field"),
    [
        ("submission.rejected", "subject"),
        ("deadline.extended", "country"),
        ("task.delegated", "from_name"),
        ("submission.accepted", "subject"),
    ],
)
def test_line_breaks_never_reach_the_subject(event_type: str, field: str) -> None:
    injected = "Migrant Rights Network\r\nBcc: evil@example.org\n\nbody"
    context = make_context(event_type, **{field: injected, "reason": "x\r\nBcc: evil@example.org"})
    context["review"]["title"] = "Regional review\r\nBcc: evil@example.org\u2028X-Other: 1"
    rendered = render(event_type, "en", context)
    assert_single_line(rendered.subject)
    assert "Bcc: evil@example.org" in rendered.subject  # flattened onto the one line, harmless
    assert not rendered.text.startswith("Bcc")


def test_reason_with_header_injection_is_kept_out_of_the_subject_line() -> None:
    reason = "Postponed.\r\nBcc: evil@example.org"
    rendered = render("review.cancelled", "en", make_context("review.cancelled", reason=reason))
    assert_single_line(rendered.subject)
    assert reason in rendered.text  # verbatim in the body


def test_long_subject_is_shortened() -> None:
    context = make_context("review.cancelled")
    context["review"]["title"] = "A very long review title " * 40
    subject = render("review.cancelled", "en", context).subject
    assert len(subject) <= render_module.SUBJECT_MAX_LENGTH
    assert subject.endswith("…")


@pytest.mark.parametrize(
    "remove",
    [("recipient",), ("review", "title"), ("event", "data", "due_at"), ("service",)],
)
def test_missing_context_key_raises(remove: tuple[str, ...]) -> None:
    context = make_context("consultation.opened")
    parent = context
    for key in remove[:-1]:
        parent = parent[key]
    del parent[remove[-1]]
    with pytest.raises(jinja2.UndefinedError):
        render("consultation.opened", "en", context)


def test_missing_role_raises_for_call_opened() -> None:
    context = make_context("call.opened")
    del context["role"]
    with pytest.raises(jinja2.UndefinedError):
        render("call.opened", "en", context)


def test_unknown_event_type_is_refused() -> None:
    with pytest.raises(ValueError, match="no email templates"):
        render("phase.changed", "en", make_context("review.cancelled"))


def test_available_languages_are_the_six() -> None:
    assert available_languages() == ["ar", "en", "es", "fr", "ru", "zh"]


@pytest.mark.parametrize("language", [None, "en", "en-GB", "", "../en", "xx", "de"])
def test_a_language_other_than_the_six_is_english(language: str | None) -> None:
    context = make_context("report.published")
    assert render("report.published", language, context) == render(
        "report.published", "en", context
    )


def test_a_regional_variant_is_its_language() -> None:
    context = make_context("review.cancelled")
    french = render("review.cancelled", "fr", context)
    assert french.subject.startswith("Examen annulé")
    assert render("review.cancelled", "fr-CA", context) == french


def test_text_template_without_subject_line_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "templates"
    shutil.copytree(TEMPLATES, root)
    (root / "review.cancelled.txt").write_text("Dear {{ recipient.name }},\n")
    templates = render_module._Templates(jinja2.FileSystemLoader(root))
    monkeypatch.setattr(render_module, "_templates", lambda: templates)
    with pytest.raises(jinja2.TemplateSyntaxError, match="Subject: "):
        render("review.cancelled", "en", make_context("review.cancelled"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-10-26T23:59:00+00:00", "26 October 2020, 23:59 UTC"),
        ("2020-10-26T23:59:00Z", "26 October 2020, 23:59 UTC"),
        ("2020-10-27T01:59:00+02:00", "26 October 2020, 23:59 UTC"),
        ("2020-10-26", "26 October 2020"),
        ("not a date", "not a date"),
    ],
)
def test_format_instant(value: str, expected: str) -> None:
    assert format_instant(value) == expected
