"""The catalogues: which files each domain translates, extracting their messages, keeping
each language's ``.po`` in step with them, compiling ``.mo`` files, and finding what is not
translated. ``python -m i18n update|compile|check`` runs these.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from i18n import DEFAULT_LANGUAGE, DOMAINS, LANGUAGES, LOCALES_DIR

ROOT = LOCALES_DIR.parent.parent
KEYWORDS = {
    "_": None,
    "N_": None,
    "gettext": None,
    "lazy_gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
}
_JINJA_OPTIONS = {"trimmed": "true", "newstyle_gettext": "true", "silent": "false"}

# Each domain's files, as globs from the project's root. A file belongs to one domain.
_SOURCES: dict[str, tuple[str, ...]] = {
    "web": (
        "web/templates/*.html",
        "web/templates/public/*",
        "web/account.py",
        "web/app.py",
        "web/home.py",
        "web/public.py",
        "web/sessions.py",
        "web/signin.py",
        "web/tasks.py",
        "web/language.py",
    ),
    "console": (
        "web/templates/people/*.html",
        "web/templates/reviews/*.html",
        "web/templates/rollups/*.html",
        "web/templates/meetings/*.html",
        "web/annex_section.py",
        "web/approver_rows.py",
        "web/annexes.py",
        "web/audit.py",
        "web/clearance.py",
        "web/console.py",
        "web/dashboard.py",
        "web/invitations.py",
        "web/meetings.py",
        "web/outreach.py",
        "web/people.py",
        "web/report.py",
        "web/reviews.py",
        "web/rollups.py",
        "web/tables.py",
    ),
    "mail": ("notifications/templates/*", "notifications/*.py"),
    "report": ("reports/templates/*", "reports/*.py"),
    "schemas": (
        "schemas/*.json",
        "schemas/*.py",
        "services/*.py",
        "web/forms.py",
        "web/templates/forms/*.html",
    ),
    "reference": ("domain/data/gcm.json", "domain/data/regions.json"),
    # The review's rules' sentences (domain.text.N_), shown through i18n.rule_text.
    "rules": ("domain/*.py",),
}


@dataclass(frozen=True)
class Gap:
    """A message some language does not translate (or translates wrongly)."""

    language: str
    domain: str
    message: str
    problem: str

    def __str__(self) -> str:
        return f"{self.language}/{self.domain}: {self.message!r}: {self.problem}"


def source_files(domain: str) -> list[Path]:
    return sorted({path for pattern in _SOURCES[domain] for path in ROOT.glob(pattern)})


def extract(domain: str) -> Catalog:
    """Every message the domain's files say, with where each is said."""
    catalog = Catalog(domain=domain, project="reviewflow", fuzzy=False)
    for path in source_files(domain):
        for lineno, message, comments, context in extract_from_file(
            _method(path),
            str(path),
            keywords=KEYWORDS,
            comment_tags=("Translators:",),
            options=_JINJA_OPTIONS,
        ):
            where = (str(path.relative_to(ROOT)), lineno)
            catalog.add(message, None, [where], auto_comments=comments, context=context)
    return catalog


def _method(path: Path) -> Any:
    if path.suffix == ".py":
        return "python"
    if path.name == "regions.json" or path.name == "gcm.json":
        return extract_reference
    if path.suffix == ".json":
        return extract_schema
    return "jinja2.ext:babel_extract"


def _strings(node: Any, keys: frozenset[str]) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in keys and isinstance(value, str):
                yield value
            else:
                yield from _strings(value, keys)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item, keys)


def _as_messages(strings: Iterable[str]) -> Iterator[tuple[int, str, str, list[str]]]:
    for text in dict.fromkeys(strings):
        yield 1, "_", text, []


def extract_schema(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """A document schema's titles and descriptions: the labels and hints of its form."""
    return _as_messages(_strings(json.load(fileobj), frozenset({"title", "description"})))


def extract_reference(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """The GCM's words (objectives, clusters, principles, categories, statuses) and the
    regions' names; States are named by CLDR, not here."""
    data = json.load(fileobj)
    return _as_messages(_strings(data, frozenset({"title", "commission", "region"})))


def po_path(language: str, domain: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{domain}.po"


def translated_languages() -> tuple[str, ...]:
    return tuple(code for code in LANGUAGES if code != DEFAULT_LANGUAGE)


def read(language: str, domain: str) -> Catalog:
    path = po_path(language, domain)
    if not path.exists():
        return Catalog(locale=language, domain=domain)
    with path.open("rb") as source:
        return read_po(source, locale=language, domain=domain)


def write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as target:
        write_po(target, catalog, width=100, omit_header=False, sort_output=True)


def update(domains: Iterable[str] = DOMAINS) -> None:
    """Bring every language's catalogues in step with the code: new messages added
    untranslated, messages no longer said dropped."""
    for domain in domains:
        template = extract(domain)
        for language in translated_languages():
            catalog = read(language, domain)
            catalog.update(template, update_header_comment=False, no_fuzzy_matching=True)
            catalog.obsolete.clear()
            write(catalog, po_path(language, domain))


def compile_all() -> int:
    """Write the ``.mo`` beside each ``.po``; the number written."""
    written = 0
    for po in sorted(LOCALES_DIR.glob("*/LC_MESSAGES/*.po")):
        with po.open("rb") as source:
            catalog = read_po(source)
        with po.with_suffix(".mo").open("wb") as target:
            write_mo(target, catalog, use_fuzzy=False)
        written += 1
    return written


def gaps(domains: Iterable[str] = DOMAINS) -> list[Gap]:
    """Every message of the code that some language lacks, has only a fuzzy guess for, or
    translates with other placeholders than the English."""
    found: list[Gap] = []
    for domain in domains:
        template = extract(domain)
        for language in translated_languages():
            found.extend(_gaps_in(language, domain, template, read(language, domain)))
    return found


def _gaps_in(language: str, domain: str, template: Catalog, catalog: Catalog) -> Iterator[Gap]:
    for message in template:
        if not message.id:
            continue
        entry = catalog.get(message.id, context=message.context)
        text = message.id if isinstance(message.id, str) else message.id[0]
        if entry is None or not _complete(entry.string) or entry.fuzzy:
            yield Gap(language, domain, text, "not translated")
    for message, errors in catalog.check():
        for error in errors:
            text = message.id if isinstance(message.id, str) else message.id[0]
            yield Gap(language, domain, text, str(error))


def _complete(string: str | tuple[str, ...] | list[str] | None) -> bool:
    if isinstance(string, tuple | list):
        return bool(string) and all(string)
    return bool(string)
