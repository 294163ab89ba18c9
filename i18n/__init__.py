"""The six official languages of the United Nations: which one a person reads, the catalogues
that translate what reviewflow says, and the way numbers, dates and times are written.

What reviewflow says is written in English in the code and templates (``_("Your tasks")``,
``{% trans %}``); ``i18n/locales/<language>/LC_MESSAGES/<domain>.po`` translates it. The
language in use is a context variable: the web's middleware sets it per request, a mail or a
report sets it while it renders (``with using("fr"): ...``), and everything else reads English.
What people write is never translated.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, dates, numbers
from babel.core import get_global
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, NullTranslations, Translations

from domain.reference import load_reference

__all__ = [
    "DEFAULT_LANGUAGE",
    "DOMAINS",
    "LANGUAGES",
    "N_",
    "Language",
    "country_name",
    "current",
    "dgettext",
    "domain_of_file",
    "format_date",
    "format_datetime",
    "format_deadline",
    "format_number",
    "format_percent",
    "gettext",
    "language",
    "lazy_gettext",
    "negotiate",
    "ngettext",
    "pgettext",
    "rule_text",
    "supported",
    "using",
]

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "en"
# Arabic, Chinese, English, French, Russian and Spanish, in the order of their English names,
# as the UN lists them.
LANGUAGES: tuple[str, ...] = ("ar", "zh", "en", "fr", "ru", "es")
# The catalogues, one per part of the service, so that each is kept beside what it translates.
DOMAINS: tuple[str, ...] = ("web", "console", "mail", "report", "schemas", "reference", "rules")
# The UN writes English dates the British way: "26 October 2020, 23:59".
_FORMATS = {"en": "en_GB"}
LOCALES_DIR = Path(str(resources.files("i18n") / "locales"))


@dataclass(frozen=True)
class Language:
    """A language in use: its code, its Babel locale and its translations: each catalogue's
    own, and all of them merged for a text said outside any catalogue's files."""

    code: str
    locale: Locale
    translations: NullTranslations
    catalogues: Mapping[str, NullTranslations] = field(default_factory=dict)

    @property
    def direction(self) -> str:
        """ "rtl" for a language written right to left (Arabic), else "ltr"."""
        return "rtl" if self.locale.character_order == "right-to-left" else "ltr"

    @property
    def own_name(self) -> str:
        """The language's name in itself: "Français", "العربية"."""
        own = Locale.parse(self.code)
        name = own.get_display_name(own) or self.code
        return name[:1].upper() + name[1:]


def supported(code: str | None) -> str | None:
    """`code` (or its primary subtag: "fr-CH" gives "fr") if it is one of the six, else None."""
    if not code:
        return None
    primary = code.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else None


def negotiate(*preferences: str | None, accept_language: str | None = None) -> str:
    """The first of `preferences` that is one of the six (the person's own choice, a cookie),
    else the best of an Accept-Language header, else English."""
    for preference in preferences:
        if chosen := supported(preference):
            return chosen
    for tag in _accepted(accept_language or ""):
        if chosen := supported(tag):
            return chosen
    return DEFAULT_LANGUAGE


# An Accept-Language header longer than this is cut: no client needs more, and parsing stays
# bounded whatever is sent.
_MAX_ACCEPT_LANGUAGE = 1024


def _accepted(header: str) -> list[str]:
    """The language tags of an Accept-Language header, most wanted first (RFC 9110 §12.5.4);
    tags with q=0 or a q that is not a number are left out."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header[:_MAX_ACCEPT_LANGUAGE].split(",")):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


@cache
def language(code: str) -> Language:
    """The language `code` (one of the six; anything else is English) with its catalogues."""
    chosen = supported(code) or DEFAULT_LANGUAGE
    locale = Locale.parse(_FORMATS.get(chosen, chosen))
    if chosen == DEFAULT_LANGUAGE:  # the source language: msgids are the English text
        return Language(chosen, locale, NullTranslations())
    catalogues = {domain: _catalogue(chosen, domain) for domain in DOMAINS}
    merged = Translations(domain="merged")
    for catalogue in catalogues.values():  # merging copies, leaving each catalogue as it is
        merged.merge(catalogue)
    return Language(chosen, locale, merged, catalogues)


def _catalogue(code: str, domain: str) -> Translations:
    """The compiled catalogue; installation compiles them (``python -m i18n compile``), and a
    catalogue that was edited since is compiled here again in memory, so it is never stale."""
    folder = LOCALES_DIR / code / "LC_MESSAGES"
    po, mo = folder / f"{domain}.po", folder / f"{domain}.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as compiled:
            return Translations(compiled, domain=domain)
    if not po.exists():
        return Translations(domain=domain)
    log.info("compiling %s in memory: %s is missing or older", po, mo.name)
    return Translations(_compiled_in_memory(po), domain=domain)


def _compiled_in_memory(po: Path) -> io.BytesIO:
    with po.open("rb") as source:
        catalog = read_po(source)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return buffer


_current: ContextVar[Language | None] = ContextVar("reviewflow_language", default=None)


def current() -> Language:
    """The language in use here: set by `using` or the web's middleware, else English."""
    return _current.get() or language(DEFAULT_LANGUAGE)


@contextlib.contextmanager
def using(code: str) -> Iterator[Language]:
    """Speak `code` within the block (a mail to one person, a report in its language)."""
    token = _current.set(language(code))
    try:
        yield current()
    finally:
        _current.reset(token)


def use(code: str) -> Language:
    """Speak `code` from here on in this task (the web's middleware, once per request)."""
    _current.set(language(code))
    return current()


# A text is looked up first in the catalogue of the file that says it, so that the same
# English word can be translated as its place needs ("Submitted" as a status on a page, as a
# count in a mail), then in all catalogues (a title of the reference data shown on a page).


def gettext(message: str) -> str:
    return dgettext(_calling_domain(), message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return dngettext(_calling_domain(), singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return dpgettext(_calling_domain(), context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return dnpgettext(_calling_domain(), context, singular, plural, n)


def dgettext(domain: str | None, message: str) -> str:
    return _translated(domain, message, lambda t: str(t.gettext(message)))


def dngettext(domain: str | None, singular: str, plural: str, n: int) -> str:
    english = singular if n == 1 else plural
    return _translated(domain, english, lambda t: str(t.ngettext(singular, plural, n)))


def dpgettext(domain: str | None, context: str, message: str) -> str:
    return _translated(domain, message, lambda t: str(t.pgettext(context, message)))


def dnpgettext(domain: str | None, context: str, singular: str, plural: str, n: int) -> str:
    english = singular if n == 1 else plural
    return _translated(domain, english, lambda t: str(t.npgettext(context, singular, plural, n)))


def _translated(
    domain: str | None, english: str, translate: Callable[[NullTranslations], str]
) -> str:
    spoken = current()
    own = spoken.catalogues.get(domain) if domain else None
    if own is not None and (found := translate(own)) != english:
        return found
    return translate(spoken.translations)


def _calling_domain() -> str | None:
    """The catalogue of the file whose code called gettext (two frames up)."""
    return domain_of_file(sys._getframe(2).f_code.co_filename)


def domain_of_file(path: str) -> str | None:
    """The catalogue that translates the texts of the file at `path`, if one does."""
    return _domains_of_files().get(path)


@cache
def _domains_of_files() -> dict[str, str]:
    from i18n.catalogues import source_files  # Babel's extractors: only once, when needed

    return {str(path): domain for domain in DOMAINS for path in source_files(domain)}


def N_(message: str) -> str:
    """Mark `message` for the catalogues without translating it here: for constants that are
    translated where they are shown (``gettext(HEADINGS[status])``)."""
    return message


def lazy_gettext(message: str) -> LazyProxy:
    """A message translated when it is shown, for module-level constants."""
    return LazyProxy(gettext, message, enable_cache=False)


# A rule's sentence is English with its values filled in ("The review is in consultation; it
# takes no more submissions."): the domain speaks no other language, because the workflows
# that apply its rules must say the same thing on every replay. A reader gets it in their
# language by matching it against the templates of the rules' catalogue.
_FIELD = re.compile(r"\\\{(\w+)\\\}")
# An instant inside a sentence, as the rules write it: ISO 8601, or "2020-10-26 23:59 UTC".
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}| UTC)?")


@cache
def _rule_templates(code: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """The rules' sentences with fields as patterns, each with its translation in `code`."""
    catalogue = _catalogue(code, "rules")
    templates = []
    for english, translated in catalogue._catalog.items():
        if not isinstance(english, str) or not english or not translated:
            continue
        pattern = _FIELD.sub(r"(?P<\1>.+?)", re.escape(english))
        templates.append((re.compile(pattern), str(translated)))
    return tuple(templates)


def rule_text(sentence: str, time_zone: str | None = "UTC", _depth: int = 0) -> str:
    """A rule's or a service's English `sentence` in the language in use: as the catalogues
    translate it, or by its template: translated, its values kept, instants written as the language writes them, a sentence inside it (a
    deadline's "must be after …") translated too. A sentence no template matches stays."""
    if current().code == DEFAULT_LANGUAGE or _depth > 1:
        return sentence
    if (whole := gettext(sentence)) != sentence:  # a sentence without values
        return whole
    for pattern, translated in _rule_templates(current().code):
        if match := pattern.fullmatch(sentence):
            values = {
                name: _rule_value(name, value, time_zone, _depth)
                for name, value in match.groupdict().items()
            }
            try:
                return translated.format(**values)
            except (KeyError, IndexError, ValueError):  # a translation naming other fields
                return sentence
    return sentence


# The fields of the rules' sentences that hold a State's ISO 3166 alpha-3 code.
_STATE_FIELDS = frozenset({"country", "other"})


def _rule_value(name: str, value: str, time_zone: str | None, depth: int) -> str:
    if name in _STATE_FIELDS and re.fullmatch("[A-Z]{3}", value):
        return country_name(value)
    if _INSTANT.fullmatch(value):
        try:
            instant = datetime.fromisoformat(value.removesuffix(" UTC"))
        except ValueError:
            return value
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=ZoneInfo("UTC"))
        return format_datetime(instant, time_zone)
    return rule_text(value, time_zone, depth + 1)


# Babel writes territories with their ISO 3166 two-letter codes; CLDR's aliases map the
# three-letter codes documents use onto them.
@cache
def _alpha2(iso3: str) -> str | None:
    replacements = get_global("territory_aliases").get(iso3.upper())
    # "ZZ" is CLDR's "Unknown Region", where some retired codes lead.
    return replacements[0] if replacements and replacements[0] != "ZZ" else None


def country_name(iso3: str, fallback: str | None = None) -> str:
    """The State `iso3` named in the language in use: in English by the UN's own name, which
    the reference data keeps ("Bolivia (Plurinational State of)"), in the other languages as
    CLDR writes it; `fallback` (or the code) for a code neither knows."""
    english = load_reference().country_name(iso3) or fallback
    if current().code == DEFAULT_LANGUAGE and english:
        return english
    alpha2 = _alpha2(iso3)
    name = current().locale.territories.get(alpha2) if alpha2 else None
    return name or english or iso3


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_datetime(instant: datetime, time_zone: str | None = "UTC") -> str:
    """`instant` as the language in use writes a date and time, read in `time_zone`, with the
    zone's name: "26 octobre 2020, 23:59 UTC"."""
    zone = _zone(time_zone)
    locale = current().locale
    # CLDR's long form spells the zone out and medium abbreviates the month: the date in
    # full, the time short, joined as the locale joins them, then the zone's abbreviation.
    day = dates.format_date(instant.astimezone(zone), "long", locale=locale)
    time = dates.format_time(instant, "short", tzinfo=zone, locale=locale)
    pattern = locale.datetime_formats.get("long") or "{1} {0}"
    joined = str(pattern).format(time, day)
    return f"{joined} {instant.astimezone(zone).tzname()}"


def format_deadline(instant: datetime, time_zone: str | None = "UTC") -> str:
    """A deadline in the person's time zone with UTC beside, or UTC alone for a person in UTC."""
    in_utc = format_datetime(instant, "UTC")
    if _zone(time_zone).key == "UTC":
        return in_utc
    return f"{format_datetime(instant, time_zone)} ({in_utc})"


def format_date(day: date | datetime, time_zone: str | None = None, form: str = "long") -> str:
    """A calendar day as the language in use writes it ("1 décembre 2026")."""
    if isinstance(day, datetime) and time_zone:
        day = day.astimezone(_zone(time_zone))
    return dates.format_date(day, form, locale=current().locale)


def format_number(value: int | float) -> str:
    return numbers.format_decimal(value, locale=current().locale)


def format_percent(ratio: float) -> str:
    """A ratio as a whole percentage, as the language writes it: 0.5 gives "50%" in English,
    "50 %" in French."""
    return numbers.format_percent(ratio, locale=current().locale)
