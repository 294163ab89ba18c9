"""The JSON Schemas documents are checked against, and the checking.

Every ``<name>.json`` beside this module is a draft 2020-12 schema whose ``$id`` is
``https://reviewflow.example/schemas/<name>.json``; the document schemas refer to the shared
definitions in ``common.json`` by relative ``$ref``.

A schema that changes gets a new version beside the old one, which stays as it was, so that
documents checked against it stay readable and checkable: version 1 is ``<name>.json``,
version N is ``<name>.vN.json`` (its ``$id`` named the same way), and the highest version is
the current one. A review pins the versions it collects (``reviews.schema_versions``);
`schemas.versions` brings a document of one version to the next where the change allows. ``validate_document`` turns every error into
a `Problem`: a JSON Pointer into the submitted document and a message a person understands, so
the API can answer a bad submission with all of its mistakes at once.

``jsonschema`` is the authority: it checks the schema files against the metaschema, holds them
in one registry and explains every mistake. Since it manages only a few hundred full national
reports a second, `validate_document` first asks a compiled ``jsonschema_rs`` validator, built
from the same files with the same format and pattern semantics, and only when that one finds
the document invalid does it ask ``jsonschema`` what is wrong (tests/test_schema_fast_path.py
shows the two agree on which documents are valid).
"""

import copy
import json
import re
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, partial
from importlib import resources
from itertools import islice
from typing import Any, NoReturn
from urllib.parse import urlsplit

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError, relevance
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from i18n import DEFAULT_LANGUAGE, N_, gettext, ngettext, using

__all__ = [
    "COMMON_ID",
    "DOCUMENT_SCHEMAS",
    "MAX_PROBLEMS",
    "SCHEMA_BASE",
    "Problem",
    "current_version",
    "current_versions",
    "problems_in",
    "registry",
    "said_or",
    "schema_document",
    "schema_file",
    "schema_files",
    "schema_names",
    "schema_versions",
    "validate_document",
]

DOCUMENT_SCHEMAS: tuple[str, ...] = (
    "national_report",
    "stakeholder_input",
    "consultation_response",
)

# Every schema's $id is its file's name under this address.
SCHEMA_BASE = "https://reviewflow.example/schemas/"
# Where other schemas, such as those of request bodies, find the shared definitions.
COMMON_ID = f"{SCHEMA_BASE}common.json"
# "national_report.v2" (the file national_report.v2.json) is version 2 of national_report.
_VERSIONED_FILE = re.compile(r"(?P<name>[a-z_]+)\.v(?P<version>[2-9][0-9]*)")

# At most this many problems of one document are computed, plus one to tell that there are
# more: a person fixes a document a hundred mistakes at a time, and every further one would
# only cost time (600,000 of them took 23 s of CPU).
MAX_PROBLEMS = 100

# Valid documents nest containers at most four levels deep. Far deeper values would make
# jsonschema exhaust the stack (it compares and repr()s whole values): refuse them up front.
_MAX_DEPTH = 32
# Python refuses to print integers of more than a few thousand digits, which jsonschema does
# in its messages; no field of any document needs a number anywhere near 2**1024.
_MAX_INT_BITS = 1024

_TYPE_NAMES = {
    "string": N_("a string"),
    "integer": N_("an integer"),
    "number": N_("a number"),
    "boolean": N_("true or false"),
    "object": N_("an object"),
    "array": N_("an array"),
    "null": N_("null"),
}

_FORMAT_MESSAGES = {
    "email": N_("must be a valid email address"),
    "date": N_("must be a date (YYYY-MM-DD)"),
    "uri": N_("must be a full web address, such as https://example.org"),
}

# jsonschema only checks that an email address contains "@"; ask for a local part, an "@" and
# a domain of at least two dot-separated labels (letters of any script, digits, inner hyphens).
_EMAIL = re.compile(
    r"[^@\s\"(),:;<>\[\\\]]{1,64}@[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)+"
)

# An absolute URI (RFC 3986): a scheme, then only characters a URI may hold, with well-formed
# percent escapes. jsonschema checks "uri" only with optional packages that are not installed.
_URI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*"
)


@dataclass(frozen=True)
class Problem:
    """One mistake in a submitted document.

    ``pointer`` is the RFC 6901 JSON Pointer of the offending field ("" for the document
    itself); for a missing field it is where the field should be. ``message`` is said in the
    language in use where the problem was found (English unless a request asked for another).

    ``template`` and ``params`` say the same again for showing it in another language later:
    the catalogue's English message ("must be at most %(count)d characters") and its values,
    ``template % params`` being the English message. A problem built from a message alone has
    none; they take no part in comparing problems.
    """

    pointer: str
    message: str
    template: str = field(default="", compare=False, repr=False)
    params: tuple[tuple[str, object], ...] = field(default=(), compare=False, repr=False)

    @property
    def english(self) -> str:
        """The message in English, whatever language it was found in."""
        if not self.template:
            return self.message
        with using(DEFAULT_LANGUAGE):
            return _say(self.template, dict(self.params))

    def translated(self) -> str:
        """The message in the language in use here (as written, without a template)."""
        if not self.template:
            return self.message
        return _say(self.template, dict(self.params))


# Messages about a number of things: said with the form of the language for that number.
_PLURALS: dict[str, Callable[[int], str]] = {
    "must be at least %(count)d character": lambda count: ngettext(
        "must be at least %(count)d character", "must be at least %(count)d characters", count
    ),
    "must be at most %(count)d character": lambda count: ngettext(
        "must be at most %(count)d character", "must be at most %(count)d characters", count
    ),
    "must have at least %(count)d entry": lambda count: ngettext(
        "must have at least %(count)d entry", "must have at least %(count)d entries", count
    ),
    "must have at most %(count)d entry": lambda count: ngettext(
        "must have at most %(count)d entry", "must have at most %(count)d entries", count
    ),
}


def _say(template: str, params: Mapping[str, object]) -> str:
    """`template` in the language in use with `params` in it; a tuple of values is said as
    alternatives ("a string or null"), the JSON types by their names."""
    plural = _PLURALS.get(template)
    count = params.get("count")
    text = plural(count) if plural is not None and isinstance(count, int) else gettext(template)
    if not params:
        return text
    values = {
        key: said_or(
            gettext(_TYPE_NAMES.get(str(v), str(v))) if key == "types" else str(v) for v in value
        )
        if isinstance(value, tuple)
        else value
        for key, value in params.items()
    }
    return text % values


def _problem(pointer: str, template: str, **params: object) -> Problem:
    """A problem said in the language in use, with what says it again in another."""
    return Problem(pointer, _say(template, params), template, tuple(params.items()))


def said_or(words: Iterable[str]) -> str:
    """Alternatives as a sentence says them: "a string or null"."""
    said = ""
    for word in words:
        said = (
            word
            if not said
            else gettext("%(first)s or %(second)s")
            % {
                "first": said,
                "second": word,
            }
        )
    return said


def schema_names() -> list[str]:
    """Names of every schema, shared definitions included, in alphabetical order (each name
    once, whatever number of versions it has)."""
    return sorted(_versions())


def schema_files() -> list[str]:
    """Every stored schema file's name without ".json", versions included, in alphabetical
    order: "national_report", "national_report.v2", ..."""
    return sorted(_schemas())


def schema_file(name: str, version: int) -> str:
    """The file (without ".json") of version ``version`` of the schema ``name``."""
    return name if version == 1 else f"{name}.v{version}"


def schema_versions(name: str) -> tuple[int, ...]:
    """The versions of the schema ``name``, oldest first; () when there is no such schema."""
    return _versions().get(name, ())


def current_version(name: str) -> int:
    """The version of ``name`` new documents are written against: its highest.
    Raises KeyError when there is no such schema."""
    return _versions()[name][-1]


def current_versions() -> dict[str, int]:
    """The current version of every document schema: what a new review pins."""
    return {name: current_version(name) for name in DOCUMENT_SCHEMAS}


def schema_document(name: str, version: int | None = None) -> dict[str, Any] | None:
    """The schema called ``name`` as stored, at ``version`` (its current one when None), for
    serving; None when there is no such schema or version."""
    if version is None:
        versions = schema_versions(name)
        version = versions[-1] if versions else 1
    schema = _schemas().get(schema_file(name, version)) if name in _versions() else None
    # A copy, so that a caller changing it cannot change what documents are checked against.
    return copy.deepcopy(schema) if schema is not None else None


def validate_document(name: str, document: object, version: int | None = None) -> list[Problem]:
    """The problems of ``document`` against the document schema ``name`` at ``version`` (the
    current one when None); [] when it is valid.

    Problems are distinct and sorted by pointer (array indexes in numeric order), then message.
    At most MAX_PROBLEMS + 1 are computed: a longer list means "and more".
    Raises KeyError when ``name`` is not one of DOCUMENT_SCHEMAS or has no such version.
    """
    version = current_version(name) if version is None else version
    validator = _validator(name, version)
    refused = _unsafe_value(document)
    if refused is not None:
        return [refused]
    if _fast_accepts(name, version, document):
        return []
    # Should jsonschema find nothing wrong after all, its [] is the answer.
    return _all_problems(validator, document)


def problems_in(schema: dict[str, Any], instance: object) -> list[Problem]:
    """Like `validate_document`, for a draft 2020-12 schema given by value.

    For the API's own request bodies: the schema may refer to ``COMMON_ID#/$defs/...``. It is
    not checked against the metaschema here (that would cost more than the validation); its
    owner's tests should call ``Draft202012Validator.check_schema`` on it.
    """
    validator = _BoundedValidator(schema, registry=_registry(), format_checker=_format_checker())
    return _check(validator, instance)


@cache
def _schemas() -> dict[str, dict[str, Any]]:
    """Every schema file, by its name without ".json"."""
    folder = resources.files(__name__)
    return {
        entry.name.removesuffix(".json"): json.loads(entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    }


@cache
def _versions() -> dict[str, tuple[int, ...]]:
    """Each schema's name and its versions, oldest first."""
    found: dict[str, list[int]] = {}
    for stem in _schemas():
        versioned = _VERSIONED_FILE.fullmatch(stem)
        if versioned is None:
            found.setdefault(stem, []).append(1)
        else:
            found.setdefault(versioned["name"], []).append(int(versioned["version"]))
    return {name: tuple(sorted(versions)) for name, versions in found.items()}


def registry() -> Registry:
    """Every schema of the folder under its ``$id``, for following a ``$ref`` from one of them
    (the web's forms read the schemas this way)."""
    return _registry()


@cache
def _registry() -> Registry:
    """Every schema of the folder under its ``$id``, each checked against the metaschema.

    The registry has no ``retrieve`` function, so a ``$ref`` to any other URI fails to
    resolve instead of being fetched from the network.
    """
    for schema in _schemas().values():
        Draft202012Validator.check_schema(schema)
    return (
        Registry()
        .with_resources(
            (schema["$id"], DRAFT202012.create_resource(schema)) for schema in _schemas().values()
        )
        .crawl()
    )


def _first_match(
    validator: Draft202012Validator, alternatives: list[Any], instance: object
) -> Generator[ValidationError, None, int | None]:
    """Return the index of the first alternative ``instance`` matches; when none does, yield
    the error that says so, with at most MAX_PROBLEMS + 1 errors per alternative as context:
    enough to choose the closest one and explain it, where jsonschema would compute every
    error of every alternative."""
    errors: list[ValidationError] = []
    for index, alternative in enumerate(alternatives):
        found = list(
            islice(validator.descend(instance, alternative, schema_path=index), MAX_PROBLEMS + 1)
        )
        if not found:
            return index
        errors += found
    yield ValidationError("matches none of the allowed forms", context=errors)
    return None


def _one_of(
    validator: Draft202012Validator, alternatives: list[Any], instance: object, schema: Any
) -> Iterator[ValidationError]:
    matched = yield from _first_match(validator, alternatives, instance)
    if matched is None:
        return
    others = alternatives[matched + 1 :]
    if any(validator.evolve(schema=other).is_valid(instance) for other in others):
        yield ValidationError("matches more than one of the allowed forms")


def _any_of(
    validator: Draft202012Validator, alternatives: list[Any], instance: object, schema: Any
) -> Iterator[ValidationError]:
    yield from _first_match(validator, alternatives, instance)


# Keywords that check what a value contains (or check it through another schema) rather than
# the value itself.
_DESCENDING = frozenset(
    {
        "$ref",
        "$dynamicRef",
        "additionalProperties",
        "allOf",
        "anyOf",
        "contains",
        "dependentSchemas",
        "else",
        "if",
        "items",
        "not",
        "oneOf",
        "patternProperties",
        "prefixItems",
        "properties",
        "propertyNames",
        "then",
        "unevaluatedItems",
        "unevaluatedProperties",
    }
)


def _own_keywords_first(schema: dict[str, Any]) -> list[tuple[str, Any]]:
    """A schema's keywords, those about the value itself first: when the problems computed
    stop at the bound, "/member_states must have at most 100 entries" is among them."""
    return sorted(schema.items(), key=lambda keyword: keyword[0] in _DESCENDING)


# Draft 2020-12, except that oneOf and anyOf stop counting an alternative's errors at the bound
# and that a schema's own keywords are checked before those about what a value contains.
_BoundedValidator = validators.create(
    meta_schema=Draft202012Validator.META_SCHEMA,
    validators={**Draft202012Validator.VALIDATORS, "oneOf": _one_of, "anyOf": _any_of},
    type_checker=Draft202012Validator.TYPE_CHECKER,
    format_checker=Draft202012Validator.FORMAT_CHECKER,
    id_of=Draft202012Validator.ID_OF,
    applicable_validators=_own_keywords_first,
)


def _document_schema(name: str, version: int) -> dict[str, Any]:
    if name not in DOCUMENT_SCHEMAS or version not in schema_versions(name):
        raise KeyError(f"{name} version {version}")
    return _schemas()[schema_file(name, version)]


@cache
def _validator(name: str, version: int) -> Draft202012Validator:
    return _BoundedValidator(
        _document_schema(name, version), registry=_registry(), format_checker=_format_checker()
    )


def _check(validator: Draft202012Validator, document: object) -> list[Problem]:
    refused = _unsafe_value(document)
    if refused is not None:
        return [refused]
    return _all_problems(validator, document)


def _all_problems(validator: Draft202012Validator, document: object) -> list[Problem]:
    """The first MAX_PROBLEMS + 1 errors' problems, the first MAX_PROBLEMS + 1 of them in
    order: the listing needs no more, and computing every error is what costs."""
    errors = islice(validator.iter_errors(document), MAX_PROBLEMS + 1)
    problems = {problem for error in errors for problem in _problems(error)}
    return sorted(problems, key=_sort_key)[: MAX_PROBLEMS + 1]


@cache
def _format_checker() -> FormatChecker:
    """The draft 2020-12 format checks, with real checks for email and uri."""
    checker = FormatChecker(Draft202012Validator.FORMAT_CHECKER.checkers)
    checker.checks("email")(_is_email)
    checker.checks("uri")(_is_uri)
    return checker


@cache
def _fast_validator(name: str, version: int) -> jsonschema_rs.Validator:
    """The document schema ``name`` at ``version`` compiled by jsonschema-rs, judging as
    `_validator` does.

    Built from the same schema files, after jsonschema has checked them (`_registry`), with
    every ``$ref`` resolved from those files and never from the network. Formats are checked
    by `_format_checker` itself, so that email, uri and date (and any format a schema may use
    later) mean exactly what they mean to jsonschema; ``pattern`` uses Python's ``re.search``
    as jsonschema does, where ECMA-262 regular expressions differ (``$`` also matches before a
    final newline, ``\\d`` matches any Unicode digit).
    """
    checker = _format_checker()
    return jsonschema_rs.validator_for(
        _document_schema(name, version),
        registry=_fast_registry(),
        offline=True,
        validate_formats=True,
        formats={
            format_name: partial(checker.conforms, format=format_name)
            for format_name in checker.checkers
        },
        keywords={"pattern": _SearchPattern},
    )


@cache
def _fast_registry() -> jsonschema_rs.Registry:
    _registry()  # every schema checked against the metaschema by jsonschema first
    return jsonschema_rs.Registry(
        [(schema["$id"], schema) for schema in _schemas().values()],
        retriever=_refuse_retrieval,
    )


def _refuse_retrieval(uri: str) -> NoReturn:
    raise LookupError(f"{uri} is not one of the schemas in {__name__}; it is never fetched")


class _SearchPattern:
    """The ``pattern`` keyword as jsonschema applies it: ``re.search`` on strings."""

    def __init__(self, parent_schema: dict[str, Any], value: str, schema_path: object) -> None:
        self._regex = re.compile(value)

    def validate(self, instance: object) -> None:
        if isinstance(instance, str) and self._regex.search(instance) is None:
            raise ValueError(f"{instance!r} does not match {self._regex.pattern!r}")


def _fast_accepts(name: str, version: int, document: object) -> bool:
    """Whether the compiled validator finds ``document`` valid.

    A value it cannot take (a lone surrogate in a string, a key that is not a string) counts
    as "not shown valid", leaving the verdict to jsonschema.
    """
    validator = _fast_validator(name, version)
    try:
        return validator.is_valid(document)
    except Exception:
        return False


def _is_email(instance: object) -> bool:
    return not isinstance(instance, str) or _EMAIL.fullmatch(instance) is not None


def _is_uri(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    if _URI.fullmatch(instance) is None:
        return False
    try:
        parts = urlsplit(instance)
    except ValueError:  # such as an unclosed "[" around an IPv6 host
        return False
    # A web address names a host; other schemes (mailto:, urn:) need not.
    return parts.scheme.lower() not in ("http", "https") or bool(parts.hostname)


def _unsafe_value(document: object) -> Problem | None:
    """A Problem for the first value too deep or too large to validate safely, if any.

    Walks with an explicit stack, since recursing is exactly what such a document breaks.
    """
    if _within_limits(document):
        return None
    stack: list[tuple[object, tuple[str | int, ...]]] = [(document, ())]
    while stack:
        value, path = stack.pop()
        children: Iterable[tuple[str | int, object]]
        if isinstance(value, dict):
            children = value.items()
        elif isinstance(value, list):
            children = enumerate(value)
        elif isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
            return _problem(_pointer(path), N_("is too large a number"))
        else:
            continue
        if len(path) >= _MAX_DEPTH:
            return _problem(
                _pointer(path),
                N_("is nested too deeply (at most %(count)d levels)"),
                count=_MAX_DEPTH,
            )
        stack.extend((child, (*path, key)) for key, child in children)
    return None


def _within_limits(document: object) -> bool:
    """Whether `_unsafe_value` would find nothing: the same limits, checked without paths.

    Walks level by level and keeps no paths, so that the usual, safe document passes in a
    fraction of the time that finding the pointer to a refused value takes.
    """
    level = [document]
    depth = 0
    while level:
        deeper: list[object] = []
        for value in level:
            if type(value) is str:
                continue
            if isinstance(value, dict):
                if depth >= _MAX_DEPTH:
                    return False
                deeper.extend(value.values())
            elif isinstance(value, list):
                if depth >= _MAX_DEPTH:
                    return False
                deeper.extend(value)
            elif isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
                return False
        level = deeper
        depth += 1
    return True


def _problems(error: ValidationError) -> Iterator[Problem]:
    if error.validator in ("oneOf", "anyOf") and error.context:
        yield from _closest_alternative(error)
        return
    path = list(error.absolute_path)
    if error.validator == "required":
        # jsonschema reports the object that lacks the field; point at the field itself.
        for field in error.validator_value:
            if field not in error.instance:
                yield _problem(_pointer([*path, field]), N_("is required"))
    elif error.validator == "additionalProperties":
        # One error names all unknown fields of an object; give each its own pointer.
        for field in islice(_unknown_fields(error), MAX_PROBLEMS + 1):
            yield _problem(_pointer([*path, field]), N_("is not an allowed field"))
    else:
        template, params = _message(error)
        yield _problem(_pointer(path), template, **params)


def _closest_alternative(error: ValidationError) -> Iterator[Problem]:
    """The problems of the oneOf/anyOf alternative the document came closest to matching.

    "Matches none of the alternatives" helps nobody; the alternative whose error lies deepest
    in the document is the one the author most likely meant, so report all of its errors.
    """
    closest = min(error.context, key=relevance)
    branch = closest.relative_schema_path[0]
    for sub_error in error.context:
        if sub_error.relative_schema_path[0] == branch:
            yield from _problems(sub_error)


def _unknown_fields(error: ValidationError) -> Iterator[str]:
    declared = error.schema.get("properties", {})
    patterns = error.schema.get("patternProperties", {})
    return (
        field
        for field in error.instance
        if field not in declared and not any(re.search(pattern, field) for pattern in patterns)
    )


def _message(error: ValidationError) -> tuple[str, dict[str, object]]:
    """The message of an error: its catalogue's English and the values it names."""
    value = error.validator_value
    match error.validator:
        case "type":
            types = [value] if isinstance(value, str) else value
            return N_("must be %(types)s"), {"types": tuple(str(kind) for kind in types)}
        case "enum":
            return N_("must be one of: %(choices)s"), {
                "choices": ", ".join(str(option) for option in value)
            }
        case "const":
            return N_("must be %(value)s"), {"value": json.dumps(value)}
        case "minLength":
            if value == 1:
                return N_("must not be empty"), {}
            return "must be at least %(count)d character", {"count": value}
        case "maxLength":
            return "must be at most %(count)d character", {"count": value}
        case "minItems":
            if value == 1:
                return N_("must not be empty"), {}
            return "must have at least %(count)d entry", {"count": value}
        case "maxItems":
            return "must have at most %(count)d entry", {"count": value}
        case "uniqueItems":
            return N_("must not list the same entry twice"), {}
        case "minimum":
            return N_("must be at least %(limit)s"), {"limit": value}
        case "maximum":
            return N_("must be at most %(limit)s"), {"limit": value}
        case "pattern":
            # The schemas give examples of the expected form; a regular expression would
            # mean nothing to most people.
            examples = error.schema.get("examples")
            if examples:
                return N_("must be written like %(examples)s"), {
                    "examples": tuple(str(e) for e in examples)
                }
            return N_("does not have the expected form"), {}
        case "format":
            if value in _FORMAT_MESSAGES:
                return _FORMAT_MESSAGES[value], {}
            return N_("must be a valid %(format)s"), {"format": value}
        case "oneOf":  # with no context: more than one alternative matched
            return N_("matches more than one of the allowed forms, but must match exactly one"), {}
        case _:
            return error.message, {}


def _pointer(path: Iterable[str | int]) -> str:
    """RFC 6901: "~" is written "~0" and "/" is written "~1" inside a reference token."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _sort_key(problem: Problem) -> tuple[tuple[tuple[int, int, str], ...], str]:
    # Array indexes compare as numbers, so /objectives/2 comes before /objectives/10.
    tokens = problem.pointer.split("/")[1:]
    return (
        tuple((0, int(t), "") if t.isascii() and t.isdigit() else (1, 0, t) for t in tokens),
        problem.message,
    )
