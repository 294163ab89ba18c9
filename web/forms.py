"""Forms generated from the JSON Schemas of ``schemas/``: render, read back, add and remove
entries, and show the API's validation problems beside their fields.

A page uses it in a few calls::

    form = form_for("national_report")          # any document schema; KeyError for another
    form = form_for("national_report", 1)       # an earlier version of it
    document = form.parse(await request.post())  # the posted form as the document the API takes
    action = form.action(posted)                 # an "add"/"remove" button pressed, or None
    if action is not None:
        document = form.apply(document, action)  # one entry more or less, all typing kept
        problems = []
    else:
        problems = form.problems(document)       # exactly what the API checks
    view = form.view(document, problems)         # view.errors for _macros.error_summary
    # in a template: {% import "forms/form.html" as forms %}
    #   {{ error_summary(view.errors) }} ... {{ forms.form(view, action_url, csrf_token, buttons) }}
    # or view.render() for the fields alone.

Field names in the HTML form are JSON Pointers into the document ("/objectives/0/status"),
field ids derive from them ("f-objectives-0-status"). Objects are fieldsets, arrays repeatable
groups with submit buttons ``_add`` (value: the array's pointer, optionally followed by a space
and ``name=value`` for a property of the new entry) and ``_remove`` (value: the entry's
pointer), so entries are added and removed without JavaScript. Enumerations are radios (a few
choices) or a select, labelled from the GCM reference data; booleans a yes/no choice; an array
of distinct choices a set of checkboxes. An array of entries keyed by an objective number (the
national report's objectives, a consultation response's comments) is laid out by cluster:
each cluster of the GCM under its heading, within it each objective, either its entry or a
button to add it.

Parsing is bounded for any input: unknown names are ignored, indexes past an array's maxItems
are dropped, at most `MAX_PAIRS` pairs are read, and values that do not convert (a number
that is not one) stay strings for the schema check to name.
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any, Protocol
from urllib.parse import urljoin

from markupsafe import Markup
from referencing import Registry

import i18n
import schemas
from api.bodies import MAX_BODY_VALUES, unstorable_or_too_many_values
from domain.reference import load_reference
from i18n import N_, gettext, ngettext
from schemas import said_or
from web.render import environment

__all__ = [
    "MAX_PAIRS",
    "Action",
    "FieldError",
    "Form",
    "FormButton",
    "FormView",
    "form_for",
]

# No valid document has more values than a request body may hold; nothing beyond is read.
MAX_PAIRS = MAX_BODY_VALUES
# Arrays without maxItems (none of today's schemas) still take only so many entries.
_MAX_ITEMS_WITHOUT_LIMIT = 100
_MAX_POINTER_DEPTH = 16
# At most this many choices show as radios; more make a select.
_MAX_RADIOS = 6
# Strings longer than this are written in a textarea.
_TEXTAREA_FROM = 1000
# Integers and numbers as a person types them; longer digit strings stay strings (and fail
# the schema check) rather than costing Python a huge conversion.
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
_NUMBER = re.compile(r"[+-]?[0-9]{1,18}(?:\.[0-9]{1,18})?(?:[eE][+-]?[0-9]{1,3})?")
_COMMON_DEFS = schemas.COMMON_ID + "#/$defs/"
_ABSENT: Any = object()


# --- the field tree: what the schema asks for -----------------------------------------------


@dataclass(frozen=True)
class Option:
    value: str  # as posted
    label: str


# Words said in the language in use when called, such as "Up to 2,000 characters.".
Said = Callable[[], str]


@dataclass(frozen=True)
class _Described:
    """What every field shows: its label, its hint (the schema's description) and limits, in
    English as the schema says them; a form's view says them in the language in use."""

    label: str
    hint: str
    limits: tuple[Said, ...]


@dataclass(frozen=True)
class Scalar(_Described):
    """A value typed or chosen: kind is text, textarea, date, email, url, number, radios,
    select or yesno; json_type how the posted string becomes a JSON value."""

    kind: str
    json_type: str
    options: tuple[Option, ...] = ()
    definition: str | None = None  # the shared definition it refers to, such as "iso3"


@dataclass(frozen=True)
class Group(_Described):
    """An object: a fieldset of its properties."""

    properties: Mapping[str, Node]
    required: frozenset[str]


@dataclass(frozen=True)
class Repeat(_Described):
    """An array: entries added and removed one at a time, or (as_set) checkboxes."""

    item: Node
    item_title: str | None
    min_items: int
    max_items: int
    as_set: bool
    # The property of each entry holding an objective number, when entries are laid out by
    # cluster and objective.
    objective_key: str | None


Node = Scalar | Group | Repeat


def _humanized(name: str) -> str:
    return name.replace("_", " ").capitalize()


# The labels made of the names of properties and of choices that the schemas give no title
# ("reporting_period" is labelled "Reporting period"), for the catalogue, which extracts only
# the schemas' titles and descriptions.
_HUMANIZED = (
    N_("Category"),
    N_("Challenges"),
    N_("Comment"),
    N_("Comments"),
    N_("Consent to publish"),
    N_("Contact"),
    N_("Country"),
    N_("Description"),
    N_("Do not endorse"),
    N_("Email"),
    N_("End"),
    N_("Endorse"),
    N_("Endorse with reservations"),
    N_("Endorsement"),
    N_("Entry"),
    N_("General comment"),
    N_("Good practices"),
    N_("Guiding principles"),
    N_("Input"),
    N_("Measures"),
    N_("Methodology"),
    N_("Name"),
    N_("Next steps"),
    N_("Number"),
    N_("Objective"),
    N_("Objectives"),
    N_("Organisation"),
    N_("Phone"),
    N_("Preparation"),
    N_("Principle"),
    N_("Recommendations"),
    N_("Reporting period"),
    N_("Role"),
    N_("Start"),
    N_("Status"),
    N_("Website"),
)


def _counted(limit: str, count: int) -> str:
    """A limit of `count` things in the language in use, the number as it writes it."""
    match limit:
        case "min_characters":
            text = ngettext(
                "At least %(count)s character.", "At least %(count)s characters.", count
            )
        case "max_characters":
            text = ngettext("Up to %(count)s character.", "Up to %(count)s characters.", count)
        case "min_choices":
            text = ngettext("At least %(count)s choice.", "At least %(count)s choices.", count)
        case "max_choices":
            text = ngettext("Up to %(count)s choice.", "Up to %(count)s choices.", count)
        case "min_entries":
            text = ngettext("At least %(count)s entry.", "At least %(count)s entries.", count)
        case _:
            text = ngettext("Up to %(count)s entry.", "Up to %(count)s entries.", count)
    return text % {"count": i18n.format_number(count)}


def _limit(limit: str, count: int) -> Said:
    return partial(_counted, limit, count)


def _words(message: str, **values: object) -> Said:
    """`message` of the catalogue, said with `values` when called."""
    return partial(_formatted, message, values)


def _formatted(message: str, values: Mapping[str, object]) -> str:
    return gettext(message) % values if values else gettext(message)


def _examples(examples: Sequence[object]) -> str:
    return _formatted(
        N_("For example, %(examples)s."), {"examples": said_or(str(e) for e in examples)}
    )


def _resolved(schema: dict[str, Any], base: str) -> tuple[dict[str, Any], str, str | None]:
    """``schema`` with its ``$ref`` (and theirs) merged in, its own keywords winning; the base
    URI of the result; the name of the first shared definition met, if any."""
    reference = schema.get("$ref")
    if not isinstance(reference, str):
        return schema, base, None
    target = urljoin(base, reference)
    resolved = _registry().resolver(base).lookup(reference)
    inner, inner_base, inner_name = _resolved(resolved.contents, target.split("#")[0])
    own = {key: value for key, value in schema.items() if key != "$ref"}
    name = target.removeprefix(_COMMON_DEFS) if target.startswith(_COMMON_DEFS) else inner_name
    return {**inner, **own}, inner_base, name


@cache
def _registry() -> Registry:
    return schemas.registry()


def _reference_labels(definition: str | None) -> dict[str, str]:
    """Labels of a shared definition's values from the GCM reference data (empty for others),
    in the language in use."""
    reference = load_reference()
    match definition:
        case "objective_number":
            return {
                str(o.number): _objective_title(o.number, o.title) for o in reference.objectives
            }
        case "guiding_principle":
            return {p.id: gettext(p.title) for p in reference.guiding_principles}
        case "stakeholder_category":
            return {c.id: gettext(c.title) for c in reference.stakeholder_categories}
        case "cluster_number":
            return {
                str(c.number): gettext("Cluster %(number)s: %(title)s")
                % {"number": c.number, "title": gettext(c.title)}
                for c in reference.clusters
            }
        case "document_language" | "publication":
            return {value: gettext(label) for value, label in _CHOICE_LABELS[definition].items()}
        case "objective_status":
            return {s.id: gettext(s.title) for s in reference.objective_statuses}
        case "region_code":
            return {
                r.code: f"{gettext(r.commission)} ({gettext(r.region)})" for r in reference.regions
            }
        case "iso3":
            return _countries(i18n.current().code)
    return {}


# The choices of the shared definitions that the GCM reference data does not name.
_CHOICE_LABELS: dict[str, dict[str, str]] = {
    # Each language named in English, then translated into the language in use.
    "document_language": {
        "ar": N_("Arabic"),
        "zh": N_("Chinese"),
        "en": N_("English"),
        "fr": N_("French"),
        "ru": N_("Russian"),
        "es": N_("Spanish"),
        "other": N_("Another language"),
    },
    "publication": {
        "with_name": N_("Publish it with our name"),
        "without_name": N_("Publish it without our name"),
        "do_not_publish": N_("Do not publish it"),
    },
}


def _objective_title(number: int, title: str) -> str:
    return gettext("Objective %(number)s: %(title)s") % {"number": number, "title": gettext(title)}


@cache
def _countries(language: str) -> dict[str, str]:
    """The States of the regional commissions named in `language` (the one in use), in the
    order of their names: in English as the UN names them, in the others as CLDR does."""
    english = language == i18n.DEFAULT_LANGUAGE
    names = {
        country.iso3: country.name if english else i18n.country_name(country.iso3, country.name)
        for region in load_reference().regions
        for country in (*region.members, *region.associate_members)
    }
    if english:
        return dict(sorted(names.items(), key=lambda item: item[1]))
    # Accents do not change a name's place ("Égypte" among the E).
    return dict(sorted(names.items(), key=lambda item: _unaccented(item[1])))


def _unaccented(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _options(schema: dict[str, Any], definition: str | None) -> tuple[Option, ...]:
    """The choices, labelled in English; a view labels them in the language in use."""
    with i18n.using(i18n.DEFAULT_LANGUAGE):
        labels = _reference_labels(definition)
    enum = schema.get("enum")
    values = [str(value) for value in enum] if isinstance(enum, list) else list(labels)
    return tuple(Option(value, labels.get(value) or _humanized(value)) for value in values)


def _shown_options(node: Scalar) -> tuple[Option, ...]:
    """A field's choices labelled in the language in use (States in the order of their names
    in it)."""
    if node.kind == "yesno":
        return tuple(Option(o.value, gettext(o.label)) for o in node.options)
    labels = _reference_labels(node.definition)
    if not labels:
        return tuple(Option(o.value, gettext(o.label)) for o in node.options)
    shown = tuple(Option(o.value, labels.get(o.value) or o.label) for o in node.options)
    if node.definition == "iso3":
        order = {value: place for place, value in enumerate(labels)}
        shown = tuple(sorted(shown, key=lambda o: order.get(o.value, len(order))))
    return shown


def _string_limits(schema: dict[str, Any]) -> list[Said]:
    limits = []
    if schema.get("minLength", 0) > 1:
        limits.append(_limit("min_characters", schema["minLength"]))
    if "maxLength" in schema and schema.get("format") != "date":
        limits.append(_limit("max_characters", schema["maxLength"]))
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        limits.append(partial(_examples, tuple(examples)))
    return limits


def _number_limits(schema: dict[str, Any]) -> list[Said]:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return [_words(N_("A number from %(low)s to %(high)s."), low=low, high=high)]
    if low is not None:
        return [_words(N_("At least %(low)s."), low=low)]
    return [_words(N_("At most %(high)s."), high=high)] if high is not None else []


def _scalar(schema: dict[str, Any], label: str, hint: str, definition: str | None) -> Scalar:
    json_type = schema.get("type", "string")
    options = _options(schema, definition)
    if json_type == "boolean":
        options = (Option("yes", N_("Yes")), Option("no", N_("No")))
        return Scalar(label, hint, (), "yesno", json_type, options, definition)
    if options:
        kind = "radios" if len(options) <= _MAX_RADIOS else "select"
        return Scalar(label, hint, (), kind, json_type, options, definition)
    if json_type in ("integer", "number"):
        return Scalar(label, hint, tuple(_number_limits(schema)), "number", json_type)
    limits = tuple(_string_limits(schema))
    long = schema.get("maxLength", 0) >= _TEXTAREA_FROM
    formats = {"date": "date", "email": "email", "uri": "url"}
    kind = formats.get(schema.get("format", ""), "textarea" if long else "text")
    return Scalar(label, hint, limits, kind, json_type, (), definition)


def _array_limits(schema: dict[str, Any], as_set: bool) -> tuple[Said, ...]:
    things = "choices" if as_set else "entries"
    limits = []
    if schema.get("minItems", 0) >= 1:
        limits.append(_limit(f"min_{things}", schema["minItems"]))
    if "maxItems" in schema:
        limits.append(_limit(f"max_{things}", schema["maxItems"]))
    return tuple(limits)


def _hint(node: Node) -> str:
    """A field's hint in the language in use."""
    if not node.hint:
        return ""
    hint = gettext(node.hint)
    if isinstance(node, Scalar) and node.kind == "yesno":
        # The schemas speak of true and false; a person answers yes or no.
        hint = re.sub(r"^True when\b", "Yes when", hint)
    return hint


def _limits(node: Node) -> str:
    return " ".join(said() for said in node.limits)


def _node(schema: dict[str, Any], base: str, name: str) -> Node:
    schema, base, definition = _resolved(schema, base)
    label = schema.get("title") or _humanized(name)
    hint = schema.get("description", "")
    if schema.get("type") == "object":
        properties = {
            key: _node(child, base, key) for key, child in schema.get("properties", {}).items()
        }
        return Group(label, hint, (), properties, frozenset(schema.get("required", ())))
    if schema.get("type") == "array":
        return _repeat(schema, base, label, hint)
    return _scalar(schema, label, hint, definition)


def _repeat(schema: dict[str, Any], base: str, label: str, hint: str) -> Repeat:
    item_schema, _, _ = _resolved(schema.get("items", {}), base)
    item = _node(schema.get("items", {}), base, "entry")
    as_set = bool(schema.get("uniqueItems")) and isinstance(item, Scalar) and bool(item.options)
    objective_key = None
    if isinstance(item, Group):
        objective_key = next(
            (
                key
                for key, child in item.properties.items()
                if isinstance(child, Scalar) and child.definition == "objective_number"
            ),
            None,
        )
    return Repeat(
        label=label,
        hint=hint,
        limits=_array_limits(schema, as_set),
        item=item,
        item_title=item_schema.get("title"),
        min_items=schema.get("minItems", 0),
        max_items=schema.get("maxItems", _MAX_ITEMS_WITHOUT_LIMIT),
        as_set=as_set,
        objective_key=objective_key,
    )


# --- reading a posted form ------------------------------------------------------------------


class _Pairs(Protocol):
    def items(self) -> Iterable[tuple[Any, Any]]: ...


@dataclass(frozen=True)
class Action:
    """A button that changes the form rather than sending it: add an entry to the array at
    ``pointer`` (with ``preset`` values for properties of the new entry), or remove the entry
    at ``pointer``."""

    kind: str  # "add" or "remove"
    pointer: str
    preset: tuple[tuple[str, str], ...] = ()


def _pairs(data: _Pairs | Iterable[tuple[Any, Any]]) -> Iterator[tuple[Any, Any]]:
    """The first MAX_PAIRS (name, value) pairs of a multidict (every value of a repeated name)
    or of a sequence of pairs."""
    pairs = data.items() if hasattr(data, "items") else data
    for count, pair in enumerate(pairs):
        if count >= MAX_PAIRS:
            return
        yield pair


def _tokens(pointer: str) -> list[str] | None:
    if not pointer.startswith("/") or pointer.count("/") > _MAX_POINTER_DEPTH:
        return None
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _index(token: str, repeat: Repeat) -> int | None:
    if not (token.isascii() and token.isdigit() and len(token) <= 6):
        return None
    index = int(token)
    return index if index < repeat.max_items else None


def _walk(root: Node, pointer: str) -> tuple[list[str | int], Node] | None:
    """The path (property names and indexes) and node that ``pointer`` names, or None when it
    names nothing the schema has (or an entry past its array's maxItems)."""
    tokens = _tokens(pointer)
    if tokens is None:
        return None
    path: list[str | int] = []
    node = root
    for token in tokens:
        if isinstance(node, Group) and token in node.properties:
            path.append(token)
            node = node.properties[token]
        elif isinstance(node, Repeat) and not node.as_set:
            index = _index(token, node)
            if index is None:
                return None
            path.append(index)
            node = node.item
        else:
            return None
    return path, node


def _converted(node: Scalar, text: str) -> Any:
    """The JSON value of a posted string; _ABSENT when empty; the string itself when it does
    not convert, so that the schema check names the mistake."""
    text = text.strip()
    if not text:
        return _ABSENT
    if node.json_type == "integer" and _INTEGER.fullmatch(text):
        return int(text)
    if node.json_type == "number" and _NUMBER.fullmatch(text):
        number = float(text)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if node.json_type == "boolean" and text in ("yes", "no"):
        return text == "yes"
    return text


def _store(tree: dict[Any, Any], path: list[str | int], node: Node, value: str) -> None:
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
    if isinstance(node, Repeat):  # a set of checkboxes: every value, one more than allowed
        chosen = tree.setdefault(path[-1], [])
        if len(chosen) <= node.max_items:
            chosen.append(value)
    else:  # a name posted twice: the first value counts, as for any form field
        tree.setdefault(path[-1], value)


def _built(node: Node, raw: Any) -> Any:
    """The document part for ``node`` from what was posted under it; _ABSENT for nothing."""
    if isinstance(node, Scalar):
        return _converted(node, raw) if isinstance(raw, str) else _ABSENT
    if isinstance(node, Repeat):
        if node.as_set:
            assert isinstance(node.item, Scalar)
            entries = [_converted(node.item, text) for text in raw] if isinstance(raw, list) else []
        else:
            raw = raw if isinstance(raw, dict) else {}
            entries = [_built(node.item, raw[index]) for index in sorted(raw)]
        entries = [entry for entry in entries if entry is not _ABSENT]
        return entries or _ABSENT
    raw = raw if isinstance(raw, dict) else {}
    built = {key: _built(child, raw.get(key)) for key, child in node.properties.items()}
    document = {key: value for key, value in built.items() if value is not _ABSENT}
    return _with_required_containers(node, document) if document else _ABSENT


def _with_required_containers(node: Group, document: dict[str, Any]) -> dict[str, Any]:
    """An object that has something keeps its required arrays and objects even when empty:
    "measures may be empty" must not become "measures is required", and a missing required
    object's own fields are named rather than the object."""
    for key in node.required - document.keys():
        child = node.properties.get(key)
        if isinstance(child, Repeat):
            document[key] = []
        elif isinstance(child, Group):
            document[key] = _with_required_containers(child, {})
    return document


def _new_entry(item: Node, preset: Sequence[tuple[str, str]]) -> Any:
    if not isinstance(item, Group):
        return ""
    entry: dict[str, Any] = {}
    for key, text in preset:
        child = item.properties.get(key)
        if isinstance(child, Scalar):
            value = _converted(child, text)
            if value is not _ABSENT:
                entry[key] = value
    return entry


# --- showing the form -----------------------------------------------------------------------


@dataclass(frozen=True)
class FormButton:
    """A submit button: its visible label, and words only a screen reader reads after it."""

    name: str
    value: str
    label: str
    hidden_label: str = ""
    id: str = ""
    secondary: bool = False


@dataclass(frozen=True)
class FieldError:
    """One problem for the error summary: a message in plain words and the id it links to."""

    message: str
    field_id: str


@dataclass(frozen=True)
class Choice:
    id: str
    value: str
    label: str
    checked: bool


_CONTAINERS = ("group", "repeat", "clusters")
_CHOICE_KINDS = ("radios", "yesno", "checkboxes")


@dataclass
class FieldView:
    """One field or fieldset of the rendered form, as the templates show it."""

    kind: str  # a Scalar's kind, or checkboxes, hidden, group, repeat
    pointer: str
    id: str
    label: str
    hint: str = ""
    limits: str = ""
    value: str = ""
    choices: tuple[Choice, ...] = ()
    children: list[FieldView] = field(default_factory=list)
    clusters: list[ClusterView] = field(default_factory=list)
    add: FormButton | None = None
    remove: FormButton | None = None
    level: int = 0  # 1 for the document's own properties, whose legends are headings
    context: str = ""  # the entry it belongs to, named in the error summary ("Objective 6")
    errors: list[str] = field(default_factory=list)

    @property
    def hint_id(self) -> str:
        return f"{self.id}-hint"

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"

    @property
    def described_by(self) -> str:
        ids = [self.hint_id] if self.hint or self.limits else []
        return " ".join([*ids, self.error_id] if self.errors else ids)

    @property
    def target_id(self) -> str:
        """The first control of the field, where a link of the error summary lands."""
        return next(self._controls(), self.id)

    def _controls(self) -> Iterator[str]:
        """Ids of the controls inside, in the order of the page (buttons adding an entry
        included, since an empty list has no other)."""
        if self.kind == "hidden":
            return
        if self.kind not in _CONTAINERS:
            yield self.choices[0].id if self.kind in _CHOICE_KINDS and self.choices else self.id
            return
        for cluster in self.clusters:
            for slot in cluster.slots:
                if slot.entry is not None:
                    yield from slot.entry._controls()
                elif slot.add is not None:
                    yield slot.add.id
        for child in self.children:
            yield from child._controls()
        if self.add is not None:
            yield self.add.id

    def descendants(self) -> Iterator[FieldView]:
        for cluster in self.clusters:
            for slot in cluster.slots:
                if slot.entry is not None:
                    yield slot.entry
                    yield from slot.entry.descendants()
        for child in self.children:
            yield child
            yield from child.descendants()


@dataclass
class ObjectiveSlot:
    """One objective under its cluster: its entry, or a button adding one."""

    title: str
    entry: FieldView | None
    add: FormButton | None


@dataclass
class ClusterView:
    id: str
    title: str
    slots: list[ObjectiveSlot]


def _field_id(pointer: str) -> str:
    """An HTML id from a pointer ("/objectives/0/status" gives "f-objectives-0-status"):
    property names come from the schema and indexes are digits; anything else is replaced."""
    return "f" + re.sub(r"[^A-Za-z0-9_-]", "_", pointer.replace("/", "-"))


def _pointer(path: Sequence[str | int]) -> str:
    return "".join("/" + str(key).replace("~", "~0").replace("/", "~1") for key in path)


def _form_text(value: Any) -> str:
    """A document value as its field shows it (a mistyped value as it was typed)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _choices(view_id: str, options: Sequence[Option], chosen: set[str]) -> tuple[Choice, ...]:
    """Radios and checkboxes: the first has the field's id, the others a numbered one."""
    return tuple(
        Choice(view_id if n == 0 else f"{view_id}-{n + 1}", o.value, o.label, o.value in chosen)
        for n, o in enumerate(options)
    )


class _Viewer:
    """Builds the views of one document, remembering each by pointer for the errors."""

    def __init__(self) -> None:
        self.by_pointer: dict[str, FieldView] = {}

    def view(self, node: Node, path: list[str | int], value: Any, level: int) -> FieldView:
        pointer = _pointer(path)
        label, hint, limits = gettext(node.label), _hint(node), _limits(node)
        made = FieldView("group", pointer, _field_id(pointer), label, hint, limits)
        made.level = level
        if isinstance(node, Scalar):
            self._scalar(made, node, value)
        elif isinstance(node, Group):
            values = value if isinstance(value, dict) else {}
            made.children = [
                self.view(child, [*path, key], values.get(key), level + 1)
                for key, child in node.properties.items()
            ]
            if path:
                _name_context(made, made.label)
        elif node.as_set:
            assert isinstance(node.item, Scalar)
            made.kind = "checkboxes"
            chosen = {_form_text(v) for v in value} if isinstance(value, list) else set()
            made.choices = _choices(made.id, _shown_options(node.item), chosen)
        else:
            self._repeat(made, node, path, value if isinstance(value, list) else [], level)
        self.by_pointer[pointer] = made
        return made

    @staticmethod
    def _scalar(view: FieldView, node: Scalar, value: Any) -> None:
        view.kind = node.kind
        view.value = _form_text(value)
        options = _shown_options(node)
        if options and view.value and view.value not in {o.value for o in options}:
            # A value not among the choices (from an old draft, say) stays visible, so it is
            # neither lost nor silently replaced.
            options = (*options, Option(view.value, view.value))
        view.choices = _choices(view.id, options, {view.value})

    def _repeat(
        self, view: FieldView, node: Repeat, path: list[str | int], entries: list[Any], level: int
    ) -> None:
        view.kind = "repeat"
        name = gettext(node.item_title) if node.item_title else ""
        for index, value in enumerate(entries[: node.max_items + 1]):
            entry = self.view(node.item, [*path, index], value, level + 1)
            if node.item_title is None:
                label = gettext("%(list)s, entry %(number)s") % {
                    "list": view.label,
                    "number": i18n.format_number(index + 1),
                }
            else:
                label = gettext("%(entry)s %(number)s") % {
                    "entry": f"{name[:1].upper()}{name[1:]}",
                    "number": i18n.format_number(index + 1),
                }
            _rename(entry, label, label)
            if isinstance(node.item, Scalar):
                entry.hint = ""  # the list's hint says what each entry is
            entry.remove = _remove_button(entry, entry.label)
            view.children.append(entry)
        if len(entries) < node.max_items:
            hidden = ""
            if node.item_title is None:
                hidden = " " + gettext("to %(list)s") % {"list": view.label.lower()}
            view.add = FormButton(
                "_add", view.pointer, _add_label(node.item_title), hidden, f"{view.id}-add",
                secondary=True,
            )  # fmt: skip
        if node.objective_key is not None:
            _by_cluster(view, node, node.objective_key)


def _name_context(container: FieldView, label: str) -> None:
    """Names ``label`` in the error summary beside each problem inside ``container``, unless
    a nearer group or entry is already named ("Contact: Enter email")."""
    for inner in container.descendants():
        inner.context = inner.context or label


def _rename(entry: FieldView, label: str, context: str) -> None:
    """Calls an entry of a list ``label``, and ``context`` in the error summary beside the
    problems inside it that were named after it."""
    for inner in entry.descendants():
        if inner.context in ("", entry.label):
            inner.context = context
    entry.label = label


def _remove_button(entry: FieldView, what: str) -> FormButton:
    return FormButton(
        "_remove", entry.pointer, gettext("Remove"), f" {what}", f"{entry.id}-remove",
        secondary=True,
    )  # fmt: skip


# The button adding an entry to a list, by the title of the list's entries: a sentence of its
# own in each language (English chooses "a" or "an", French "un" or "une").
_ADD_ENTRY: dict[str | None, str] = {
    None: N_("Add an entry"),
    "Comment on this objective": N_("Add a comment on this objective"),
    "Government entity": N_("Add a government entity"),
    "Group consulted": N_("Add a group consulted"),
    "Guiding principle": N_("Add a guiding principle"),
    "Joint organisation": N_("Add a joint organisation"),
    "Progress on this objective": N_("Add a progress on this objective"),
    "Recommendation": N_("Add a recommendation"),
    "SDG target": N_("Add a sdg target"),
}
# The button adding the entry of one objective, by the same titles.
_ADD_OBJECTIVE_ENTRY: dict[str | None, str] = {
    None: N_("Add entry"),
    "Comment on this objective": N_("Add comment on this objective"),
    "Progress on this objective": N_("Add progress on this objective"),
}


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _add_label(item_title: str | None) -> str:
    """ "Add a recommendation", in the language in use for the titles the schemas have."""
    known = _ADD_ENTRY.get(item_title)
    if known is not None:
        return gettext(known)
    name = item_title or "entry"
    return f"Add {_article(name)} {name.lower()}"


def _add_objective_label(item_title: str | None) -> str:
    known = _ADD_OBJECTIVE_ENTRY.get(item_title)
    return gettext(known) if known is not None else f"Add {(item_title or 'entry').lower()}"


def _key_child(entry: FieldView, key: str) -> FieldView | None:
    return next((c for c in entry.children if c.pointer.endswith(f"/{key}")), None)


def _by_cluster(view: FieldView, node: Repeat, key: str) -> None:
    """Lays the entries out under their cluster and objective, each objective's number a
    hidden field; an entry without a valid objective (or a second one for the same
    objective) stays in the plain list, with its objective to choose."""
    reference = load_reference()
    titles = {o.number: _objective_title(o.number, o.title) for o in reference.objectives}
    placed: dict[int, FieldView] = {}
    for entry in view.children:
        number_field = _key_child(entry, key)
        text = number_field.value if number_field else ""
        number = int(text) if text.isascii() and text.isdigit() and len(text) <= 2 else 0
        if number_field is None or number not in titles or number in placed:
            continue
        placed[number] = entry
        number_field.kind, number_field.choices = "hidden", ()
        _rename(entry, titles[number], gettext("Objective %(number)s") % {"number": number})
        entry.remove = _remove_button(entry, gettext("objective %(number)s") % {"number": number})
    view.children = [entry for entry in view.children if entry not in placed.values()]
    name = _add_objective_label(node.item_title)

    def add(number: int) -> FormButton | None:
        if number in placed or view.add is None:
            return None
        hidden = " " + gettext("(objective %(number)s)") % {"number": number}
        return FormButton(
            "_add", f"{view.pointer} {key}={number}", name, hidden, f"{view.id}-add-{number}",
            secondary=True,
        )  # fmt: skip

    view.clusters = [
        ClusterView(
            f"{view.id}-cluster-{cluster.number}",
            gettext("Cluster %(number)s: %(title)s")
            % {"number": cluster.number, "title": gettext(cluster.title)},
            [ObjectiveSlot(titles[n], placed.get(n), add(n)) for n in cluster.objectives],
        )
        for cluster in reference.clusters
    ]
    if view.add is not None:
        hidden = " " + gettext("for an objective chosen from a list")
        view.add = FormButton("_add", view.pointer, name, hidden, f"{view.id}-add", secondary=True)


# --- problems in plain words ----------------------------------------------------------------

# What schemas.validate_document says, keyword by keyword (required, minLength and minItems,
# enum, type, maxLength, maxItems, minimum, maximum, format, uniqueItems), and how a form says
# it of a field typed in, of a choice, and of a list: %(label)s is the field's label, %(lower)s
# the same inside a sentence, %(count)s the number the message names (see _plain_count for
# those said of a number of things). Each pattern is matched against the whole English
# message; the form's words are said in the language in use.
_PLAIN: tuple[tuple[re.Pattern[str], str, str, str], ...] = tuple(
    (re.compile(pattern), typing, choosing or typing, listing or typing)
    for pattern, typing, choosing, listing in (
        (r"is required", N_("Enter %(lower)s"), N_("Select %(lower)s"), ""),
        (
            r"must not be empty",
            N_("Enter %(lower)s"),
            N_("Select at least one of %(lower)s"),
            N_("Add at least one entry to %(lower)s"),
        ),
        (
            r"must be one of: .*",
            N_("%(label)s must be one of the choices"),
            N_("Select %(lower)s"),
            "",
        ),
        (r"must be true or false", N_("Select yes or no"), "", ""),
        (
            r"must be an integer",
            N_("%(label)s must be a whole number"),
            N_("Select %(lower)s"),
            "",
        ),
        (r"must be a number", N_("%(label)s must be a number"), N_("Select %(lower)s"), ""),
        (r"must be at most (\d+) characters?", "max_characters", "", ""),
        (r"must be at least (\d+) characters?", "min_characters", "", ""),
        (r"must have at most (\d+) entr(?:y|ies)", "max_entries", "", ""),
        (r"must have at least (\d+) entr(?:y|ies)", "min_entries", "", ""),
        (r"must be at least (-?[\d.]+)", N_("%(label)s must be %(count)s or more"), "", ""),
        (r"must be at most (-?[\d.]+)", N_("%(label)s must be %(count)s or less"), "", ""),
        (r"must be a date \(YYYY-MM-DD\)", N_("%(label)s must be a real date"), "", ""),
        (
            r"must be a valid email address",
            N_("Enter an email address like name@example.org"),
            "",
            "",
        ),
        (
            r"must not list the same entry twice",
            N_("%(label)s lists the same entry twice"),
            "",
            "",
        ),
    )
)


def _plain_count(limit: str, count: int) -> str | None:
    """How a form says that a field has too many or too few things, for `count` of them."""
    match limit:
        case "max_characters":
            return ngettext(
                "%(label)s must be %(count)s character or fewer",
                "%(label)s must be %(count)s characters or fewer",
                count,
            )
        case "min_characters":
            return ngettext(
                "%(label)s must be %(count)s character or more",
                "%(label)s must be %(count)s characters or more",
                count,
            )
        case "max_entries":
            return ngettext(
                "%(label)s can have up to %(count)s entry",
                "%(label)s can have up to %(count)s entries",
                count,
            )
        case "min_entries":
            return ngettext(
                "Add at least %(count)s entry to %(lower)s",
                "Add at least %(count)s entries to %(lower)s",
                count,
            )
    return None


def _lower(label: str) -> str:
    # "SDG targets" keeps its capitals; "Country" reads "country" inside a sentence.
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _number_words(number: str) -> str:
    return i18n.format_number(int(number)) if number.isdigit() else number


def plain_message(view: FieldView, message: str | schemas.Problem) -> str:
    """The problem ``message`` of schemas.validate_document said of ``view`` in plain words
    in the language in use, such as "Enter methodology" for "is required"; any other message
    follows the label ("Phone must be written like +41 22 917 1234")."""
    english = message.english if isinstance(message, schemas.Problem) else message
    for pattern, typing, choosing, listing in _PLAIN:
        match = pattern.fullmatch(english)
        if match is None:
            continue
        template = typing
        if view.kind in (*_CHOICE_KINDS, "select"):
            template = choosing
        elif view.kind == "repeat":
            template = listing
        groups = match.groups()
        values = {
            "label": view.label,
            "lower": _lower(view.label),
            "count": _number_words(groups[0]) if groups else "",
        }
        counted = _plain_count(template, int(groups[0])) if groups else None
        return (counted or gettext(template)) % values
    said = message.translated() if isinstance(message, schemas.Problem) else gettext(message)
    return gettext("%(label)s %(problem)s") % {"label": view.label, "problem": said}


# --- the form -------------------------------------------------------------------------------


@dataclass
class FormView:
    """A document shown in its form: the fields, and every problem in plain words."""

    fields: FieldView
    errors: list[FieldError]

    def render(self) -> Markup:
        """The fields, each with its label, hint and error: the inside of a <form>."""
        macros: Any = environment().get_template("forms/form.html").module
        return Markup(macros.fields(self.fields))


class Form:
    """The form of one version of a document schema (see the module's documentation)."""

    def __init__(self, name: str, root: Group, version: int = 1) -> None:
        self.name = name
        self.root = root
        self.version = version

    def parse(self, data: _Pairs | Iterable[tuple[Any, Any]]) -> dict[str, Any]:
        """The document a posted form (a multidict, or (name, value) pairs) stands for: values
        converted as the schema says, empty optional fields left out, entries of an array in
        the order of their indexes. Never raises; ignores every name the schema has not."""
        raw: dict[Any, Any] = {}
        for name, value in _pairs(data):
            if not (isinstance(name, str) and isinstance(value, str)):
                continue
            found = _walk(self.root, name)
            if found is None or not found[0]:
                continue
            path, node = found
            if isinstance(node, Scalar) or (isinstance(node, Repeat) and node.as_set):
                _store(raw, path, node, value)
        built = _built(self.root, raw)
        return _with_required_containers(self.root, {} if built is _ABSENT else built)

    def action(self, data: _Pairs | Iterable[tuple[Any, Any]]) -> Action | None:
        """The add or remove button pressed, if one was."""
        for name, value in _pairs(data):
            if name in ("_add", "_remove") and isinstance(value, str):
                pointer, _, presets = value.partition(" ")
                preset = tuple(
                    (key, text) for key, _, text in (p.partition("=") for p in presets.split()[:4])
                )
                return Action(name.removeprefix("_"), pointer, preset)
        return None

    def apply(self, document: dict[str, Any], action: Action) -> dict[str, Any]:
        """A copy of ``document`` with one entry added or removed, when ``action`` names an
        array of the schema (and it has room) or one of its entries; else an unchanged copy."""
        changed = copy.deepcopy(document)
        if action.kind == "add":
            target = _walk(self.root, action.pointer)
            if target is not None and isinstance(target[1], Repeat) and not target[1].as_set:
                entries = _container(changed, self.root, target[0])
                if isinstance(entries, list) and len(entries) < target[1].max_items:
                    entries.append(_new_entry(target[1].item, action.preset))
        elif action.kind == "remove":
            target = _walk(self.root, action.pointer)
            if target is not None and target[0] and isinstance(target[0][-1], int):
                entries = _container(changed, self.root, target[0][:-1], create=False)
                if isinstance(entries, list) and target[0][-1] < len(entries):
                    del entries[target[0][-1]]
        return changed

    def problems(self, document: Any) -> list[schemas.Problem]:
        """The problems the API finds in this document as a submission's content (pointers
        into the document), from the same functions."""
        return unstorable_or_too_many_values(document) or schemas.validate_document(
            self.name, document, self.version
        )

    def view(
        self, document: Any, problems: Iterable[schemas.Problem | tuple[str, str]] = ()
    ) -> FormView:
        """The document's fields with the problems beside them, and the error summary."""
        viewer = _Viewer()
        root = viewer.view(self.root, [], document, 0)
        order = {id(view): place for place, view in enumerate(root.descendants())}
        found: list[tuple[int, FieldError]] = []
        for problem in problems:
            pointer, message = (
                (problem.pointer, problem) if isinstance(problem, schemas.Problem) else problem
            )
            view = _nearest(viewer.by_pointer, pointer)
            plain = plain_message(view, message)
            view.errors.append(plain)
            summary = plain
            if view.context:
                summary = gettext("%(context)s: %(problem)s") % {
                    "context": view.context,
                    "problem": plain,
                }
            found.append((order.get(id(view), -1), FieldError(summary, view.target_id)))
        # The summary lists problems in the order of the fields on the page.
        found.sort(key=lambda item: item[0])
        return FormView(root, [error for _, error in found])

    def render(
        self, document: Any, problems: Iterable[schemas.Problem | tuple[str, str]] = ()
    ) -> Markup:
        return self.view(document, problems).render()


def _nearest(by_pointer: Mapping[str, FieldView], pointer: str) -> FieldView:
    """The field of ``pointer``, or of its nearest ancestor that has one that is shown."""
    while pointer:
        view = by_pointer.get(pointer)
        if view is not None and view.kind != "hidden":
            return view
        pointer = pointer.rpartition("/")[0]
    return by_pointer[""]


def _container(
    document: dict[str, Any], root: Node, path: list[str | int], create: bool = True
) -> Any:
    """The array at ``path`` in ``document`` (a path the schema has), its missing objects and
    the array itself created when ``create``; None where the document has another value."""
    node: Node = root
    value: Any = document
    for key in path:
        if isinstance(node, Group) and isinstance(value, dict) and isinstance(key, str):
            node = node.properties[key]
            if key not in value and create:
                value[key] = [] if isinstance(node, Repeat) else {}
            value = value.get(key)
        elif isinstance(node, Repeat) and isinstance(value, list) and isinstance(key, int):
            node = node.item
            value = value[key] if key < len(value) else None
        else:
            return None
    return value


def form_for(name: str, version: int | None = None) -> Form:
    """The form of the document schema ``name`` (one of schemas.DOCUMENT_SCHEMAS) at
    ``version``, its current one when None; KeyError for another schema or version."""
    if name not in schemas.DOCUMENT_SCHEMAS:
        raise KeyError(name)
    return _form(name, schemas.current_version(name) if version is None else version)


@cache
def _form(name: str, version: int) -> Form:
    schema = schemas.schema_document(name, version)
    if schema is None:
        raise KeyError(f"{name} version {version}")
    root = _node(schema, schema["$id"], name)
    assert isinstance(root, Group), "every document is an object"
    return Form(name, root, version)
