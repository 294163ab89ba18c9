"""Render a notification email (subject, plain text, HTML) for one review event.

Templates live in ``notifications/templates/<language>/<event_type>.txt`` and ``.html``.

The ``.txt`` template carries the subject: its first line is ``Subject: <subject template>``,
the second line is blank and the rest is the plain-text body. The subject line and the body are
compiled as two separate templates, so nothing a value contains (a newline in a review title or
a reason, say) can move the boundary between them; the rendered subject is then collapsed to a
single line of at most ``SUBJECT_MAX_LENGTH`` characters, with every run of whitespace (CR and LF
included) turned into one space and other control characters removed. A subject therefore never
carries a header of its own.

The ``.html`` template is the same message as a standalone HTML document (inline CSS only).

A language without a template for the event falls back to English: the requested language is
used only when it has both parts, so the text and HTML parts of one email are always in the same
language. ``"fr-CH"`` tries ``fr-CH``, then ``fr``, then ``en``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import jinja2

from domain.events import EventType
from domain.text import finalize_shown_text
from notifications.links import REVIEW_INVITED

__all__ = [
    "ACCOUNT_MESSAGES",
    "DEFAULT_LANGUAGE",
    "SUBJECT_MAX_LENGTH",
    "TEMPLATED_EVENTS",
    "Rendered",
    "available_languages",
    "format_instant",
    "render",
]

DEFAULT_LANGUAGE = "en"
SUBJECT_MAX_LENGTH = 200
SUBJECT_PREFIX = "Subject: "

TEMPLATED_EVENTS: tuple[str, ...] = (
    "call.opened",
    EventType.SUBMISSION_ACCEPTED,
    EventType.SUBMISSION_REJECTED,
    EventType.REMINDER_DUE,
    EventType.DEADLINE_EXTENDED,
    EventType.CONSULTATION_OPENED,
    EventType.TASK_COMPLETED,
    EventType.TASK_DELEGATED,
    EventType.ESCALATION_ALERT,
    "report.approval_due",
    EventType.REVIEW_CANCELLED,
    EventType.REPORT_READY,
    EventType.REPORT_PUBLISHED,
    REVIEW_INVITED,
    EventType.REMINDER_SENT_NOW,
    EventType.ANNOUNCEMENT_SENT,
)

# Messages about a person's own account rather than a review (their own layout, no review).
ACCOUNT_MESSAGES: tuple[str, ...] = ("sign_in.link", "account.invited")

_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Rendered:
    """One email: a single-line subject, the plain-text body and the HTML document."""

    subject: str
    text: str
    html: str


# ---- filters ------------------------------------------------------------------------------


def format_instant(value: Any) -> str:
    """Format an ISO 8601 instant as ``26 October 2020, 23:59 UTC`` (a date alone as
    ``26 October 2020``); a value that is not an ISO date is returned as given."""
    if isinstance(value, datetime):
        moment: datetime | date = value
    elif isinstance(value, date):
        moment = value
    else:
        text = str(value).strip()
        try:
            moment = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            return str(value)
    if not isinstance(moment, datetime):
        return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}, {moment:%H:%M} UTC"


def _percent(value: Any) -> str:
    """A share between 0 and 1 as a whole percentage: ``0.4286`` gives ``43%``."""
    return f"{float(value) * 100:.0f}%"


def _single_line(value: str) -> str:
    """Collapse every run of whitespace (CR, LF, tabs, Unicode separators) into one space and
    drop other control characters."""
    collapsed = " ".join(str(value).split())
    return "".join(ch for ch in collapsed if unicodedata.category(ch) not in ("Cc", "Cf"))


def _is_http_url(value: Any) -> bool:
    """True for an absolute http(s) URL without whitespace: the only links put in an email."""
    return (
        isinstance(value, str)
        and value.startswith(("https://", "http://"))
        and not any(ch.isspace() for ch in value)
    )


def _clean_subject(value: str) -> str:
    subject = _single_line(value)
    if len(subject) > SUBJECT_MAX_LENGTH:
        subject = subject[: SUBJECT_MAX_LENGTH - 1].rstrip() + "…"
    return subject


# ---- templates ----------------------------------------------------------------------------


class _Templates:
    """The two environments over one loader, built once, and the compiled text parts."""

    def __init__(self, loader: jinja2.BaseLoader) -> None:
        common: dict[str, Any] = {
            "loader": loader,
            "undefined": jinja2.StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "keep_trailing_newline": True,
            "finalize": finalize_shown_text,
        }
        self.text = jinja2.Environment(autoescape=False, **common)
        self.html = jinja2.Environment(autoescape=True, **common)
        for env in (self.text, self.html):
            env.filters["instant"] = format_instant
            env.filters["percent"] = _percent
            env.filters["single_line"] = _single_line
            env.tests["http_url"] = _is_http_url
        self._text_parts: dict[str, tuple[jinja2.Template, jinja2.Template]] = {}

    def text_parts(self, name: str) -> tuple[jinja2.Template, jinja2.Template]:
        """The subject template and the body template of the ``.txt`` template `name`."""
        parts = self._text_parts.get(name)
        if parts is None:
            loader = self.text.loader
            assert loader is not None
            source, filename, _ = loader.get_source(self.text, name)
            head, newline, rest = source.partition("\n")
            blank, _, body = rest.partition("\n")
            if not head.startswith(SUBJECT_PREFIX) or not newline or blank.strip():
                raise jinja2.TemplateSyntaxError(
                    f"must start with a {SUBJECT_PREFIX!r} line and a blank line", 1, name, filename
                )
            parts = (
                self._compile(head.removeprefix(SUBJECT_PREFIX), name, filename),
                self._compile(body, name, filename),
            )
            self._text_parts[name] = parts
        return parts

    def _compile(self, source: str, name: str, filename: str | None) -> jinja2.Template:
        code = self.text.compile(source, name, filename)
        return self.text.template_class.from_code(self.text, code, self.text.make_globals(None))

    def find(self, event_type: str, language: str) -> tuple[str, jinja2.Template]:
        """The language used and the HTML template, for the first language with both parts."""
        for tag in _candidates(language):
            try:
                self.text_parts(f"{tag}/{event_type}.txt")
                return tag, self.html.get_template(f"{tag}/{event_type}.html")
            except jinja2.TemplateNotFound:
                continue
        raise jinja2.TemplateNotFound(f"{DEFAULT_LANGUAGE}/{event_type}.txt")


@functools.cache
def _templates() -> _Templates:
    return _Templates(jinja2.PackageLoader("notifications", "templates"))


def _candidates(language: str) -> list[str]:
    tags = []
    if _LANGUAGE_TAG.fullmatch(language or ""):
        tags += [language, language.split("-")[0].lower()]
    tags.append(DEFAULT_LANGUAGE)
    return list(dict.fromkeys(tags))


def available_languages() -> list[str]:
    """Languages that have at least one template, sorted."""
    names = _templates().text.list_templates(extensions=["txt", "html"])
    return sorted({name.split("/", 1)[0] for name in names if "/" in name})


def render(event_type: str, language: str, context: dict[str, Any]) -> Rendered:
    """Render the email for `event_type` in `language` (or English).

    Raises ``ValueError`` for an event type without templates and
    ``jinja2.UndefinedError`` when the context lacks a value a template uses.
    """
    if event_type not in TEMPLATED_EVENTS + ACCOUNT_MESSAGES:
        raise ValueError(f"no email templates for event type {event_type!r}")
    templates = _templates()
    tag, html_template = templates.find(event_type, language)
    subject_template, body_template = templates.text_parts(f"{tag}/{event_type}.txt")
    subject = _clean_subject(subject_template.render(context))
    return Rendered(
        subject=subject,
        text=body_template.render(context),
        # The HTML document's <title> repeats the subject.
        html=html_template.render({**context, "email_subject": subject}),
    )
