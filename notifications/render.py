"""Render a notification email (subject, plain text, HTML) for one review event, in the
recipient's language.

Templates live in ``notifications/templates/<event_type>.txt`` and ``.html``, one set for
every language: what they say is English wrapped in ``_()``, and the "mail" catalogue
translates it (``i18n/locales/<language>/LC_MESSAGES/mail.po``). A message is rendered in
the language asked for (one of the six UN languages; ``"fr-CH"`` is French) and anything else
is English, so its subject, text and HTML parts are always in one language. Dates and times
are written as that language writes them, in the recipient's time zone with UTC beside.

The ``.txt`` template carries the subject: its first line is ``Subject: <subject template>``,
the second line is blank and the rest is the plain-text body. The subject line and the body are
compiled as two separate templates, so nothing a value contains (a newline in a review title or
a reason, say) can move the boundary between them; the rendered subject is then collapsed to a
single line of at most ``SUBJECT_MAX_LENGTH`` characters, with every run of whitespace (CR and LF
included) turned into one space and other control characters removed. A subject therefore never
carries a header of its own.

The ``.html`` template is the same message as a standalone HTML document (inline CSS only)
whose root element says its language and direction (right to left for Arabic).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

import jinja2

import i18n
import i18n.jinja
from domain.events import EventType
from domain.text import finalize_shown_text
from i18n import N_
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

DEFAULT_LANGUAGE = i18n.DEFAULT_LANGUAGE
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
    EventType.REPORT_APPROVAL_PENDING,
    EventType.REVIEW_CANCELLED,
    EventType.REPORT_READY,
    EventType.REPORT_PUBLISHED,
    REVIEW_INVITED,
    EventType.REMINDER_SENT_NOW,
    EventType.ANNOUNCEMENT_SENT,
    EventType.SYNTHESIS_ADDENDUM,
    EventType.CLEARANCE_REQUESTED,
    EventType.SESSION_REMINDER_DUE,
    EventType.SESSION_CANCELLED,
    "session.promoted",
)

# Messages about a person's own account rather than a review (their own layout, no review).
ACCOUNT_MESSAGES: tuple[str, ...] = ("sign_in.link", "account.invited")

# How a consultation answer endorses the synthesis, as its receipt says.
ENDORSEMENTS = {
    "endorse": N_("Endorsed"),
    "endorse_with_reservations": N_("Endorsed with reservations"),
    "do_not_endorse": N_("Not endorsed"),
}
# The plain-text part aligns its facts in a column this wide where letters are all one width
# (Latin and Cyrillic in a fixed-width font); Chinese and Arabic write "label: value" alone.
FACT_LABEL_WIDTH = 18
_ALIGNED_LANGUAGES = frozenset({"en", "fr", "ru", "es"})
_WIDE_COLON = "\uff1a"


@dataclass(frozen=True)
class Rendered:
    """One email: a single-line subject, the plain-text body and the HTML document."""

    subject: str
    text: str
    html: str


# ---- filters ------------------------------------------------------------------------------


def format_instant(value: Any, time_zone: str | None = None) -> str:
    """An ISO 8601 instant as the language in use writes it, in `time_zone` with UTC beside
    (``26 October 2020, 23:59 UTC`` in English for a reader in UTC), a date alone as
    ``26 October 2020``; a value that is not an ISO date is returned as given."""
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
        return i18n.format_date(moment)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return i18n.format_deadline(moment, time_zone)


@jinja2.pass_context
def _instant(context: jinja2.runtime.Context, value: Any) -> str:
    """`format_instant` in the recipient's time zone (UTC when the message does not say)."""
    recipient = context.get("recipient")
    zone = recipient.get("time_zone") if isinstance(recipient, Mapping) else None
    return format_instant(value, zone if isinstance(zone, str) else None)


def _percent(value: Any) -> str:
    """A share between 0 and 1 as a whole percentage: ``0.4286`` gives ``43%``."""
    return i18n.format_percent(float(value))


def _days(n: int) -> str:
    """When something is due: "today", "in 1 day", "in 7 days"."""
    if n == 0:
        return i18n.gettext("today")
    return i18n.ngettext("in %(num)s day", "in %(num)s days", n) % {"num": n}


def _endorsement(value: Any) -> str:
    label = ENDORSEMENTS.get(value) if isinstance(value, str) else None
    return i18n.gettext(label) if label else ""


def _fact_rows(rows: Any) -> list[tuple[str, Any]]:
    """The facts that have a value, each label as the plain-text part shows it, with the
    space before its value ("Review: "), padded into one column where letters are all one
    width: at least `FACT_LABEL_WIDTH` wide, wider for a language whose labels are longer.
    A label ending in a full-width colon (Chinese) needs no space after it."""
    shown = [
        (i18n.gettext("%(label)s:") % {"label": label}, value)
        for label, value in rows
        if value is not None and value != ""
    ]
    if i18n.current().code not in _ALIGNED_LANGUAGES:
        return [
            (label if label.endswith(_WIDE_COLON) else f"{label} ", value) for label, value in shown
        ]
    width = FACT_LABEL_WIDTH
    if i18n.current().code != DEFAULT_LANGUAGE:
        width = max([width, *(len(label) for label, _ in shown)])
    return [(f"{label.ljust(width)} ", value) for label, value in shown]


def _translated_label(label: Any) -> str:
    """A link's label given in English by the code (notifications.links), translated."""
    return i18n.gettext(label) if isinstance(label, str) else str(label)


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


def _shown_values(translate: Callable[..., Any]) -> Callable[..., Any]:
    """`translate` (a gettext the i18n extension installed) with the values it puts into a
    message cleaned as every shown value is (no direction overrides), also in the HTML part,
    where the translated message is markup and so not finalized."""

    @jinja2.pass_context
    def translated(context: jinja2.runtime.Context, *args: Any, **variables: Any) -> Any:
        cleaned = {name: finalize_shown_text(value) for name, value in variables.items()}
        return translate(context, *args, **cleaned)

    return translated


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
            i18n.jinja.install(env, resources.files("notifications") / "templates")
            for name in ("_", "gettext", "ngettext", "pgettext", "npgettext"):
                translate = env.globals[name]
                assert callable(translate)
                env.globals[name] = _shown_values(translate)
            env.filters["instant"] = _instant
            env.filters["percent"] = _percent
            env.filters["single_line"] = _single_line
            env.tests["http_url"] = _is_http_url
            env.globals.update(
                days=_days,
                endorsement_label=_endorsement,
                fact_rows=_fact_rows,
                link_label=_translated_label,
            )
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


@functools.cache
def _templates() -> _Templates:
    return _Templates(jinja2.PackageLoader("notifications", "templates"))


def available_languages() -> list[str]:
    """The languages mail is written in: English and each language with a "mail" catalogue,
    sorted."""
    catalogues = i18n.LOCALES_DIR.glob("*/LC_MESSAGES/mail.po")
    found = {path.parent.parent.name for path in catalogues}
    return sorted(code for code in i18n.LANGUAGES if code == DEFAULT_LANGUAGE or code in found)


def render(event_type: str, language: str | None, context: dict[str, Any]) -> Rendered:
    """Render the email for `event_type` in `language` (one of the six; else English).

    Raises ``ValueError`` for an event type without templates and
    ``jinja2.UndefinedError`` when the context lacks a value a template uses.
    """
    if event_type not in TEMPLATED_EVENTS + ACCOUNT_MESSAGES:
        raise ValueError(f"no email templates for event type {event_type!r}")
    templates = _templates()
    with i18n.using(language or DEFAULT_LANGUAGE):
        subject_template, body_template = templates.text_parts(f"{event_type}.txt")
        html_template = templates.html.get_template(f"{event_type}.html")
        subject = _clean_subject(subject_template.render(context))
        return Rendered(
            subject=subject,
            text=body_template.render(context),
            # The HTML document's <title> repeats the subject.
            html=html_template.render({**context, "email_subject": subject}),
        )
