"""The compiled fast path of validate_document judges documents exactly as jsonschema does.

`validate_document` answers [] as soon as the jsonschema-rs validator finds a document valid,
and asks jsonschema, the authority, only otherwise. So for every version of every document
schema (named here by its file, such as "national_report.v2") the two must agree on which
documents are valid: Hypothesis checks that on mutations of the valid examples
of tests/documents.py and on arbitrary JSON, always with the same examples (derandomized).
"""

import copy
import os
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import schemas
from schemas import DOCUMENT_SCHEMAS, Problem, validate_document
from tests import documents

Document = Any
Path = tuple[str | int, ...]

DIFFERENTIAL = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def minimal_national_report(version: int) -> dict[str, Any]:
    report = documents.national_report("MEX", version)
    for optional in ("guiding_principles", "covid19_measures", "next_steps"):
        del report[optional]
    del report["preparation"]["consulted"]
    if version >= 2:
        del report["regional_cooperation"], report["preparation"]["government_entities"]
        report["policy_environment"] = {"overview": "A national migration strategy."}
        report["means_of_implementation"] = {"overview": "Regular budgets."}
    report["objectives"] = [
        {"number": 5, "status": "not_started", "measures": [], "challenges": [],
         "good_practices": []}
    ]  # fmt: skip
    report["contact"] = {"name": "A. Person", "email": "a.person@sre.example.mx"}
    return report


def minimal_stakeholder_input(version: int) -> dict[str, Any]:
    document = documents.stakeholder_input(version=version)
    for optional in ("recommendations", "contact", "principles", "clusters"):
        document.pop(optional, None)
    document["organisation"] = {"name": "Diaspora Forum", "category": "other"}
    return document


def joint_stakeholder_input() -> dict[str, Any]:
    document = documents.stakeholder_input()
    document["joint_organisations"] = [
        {"name": "Youth Forum", "category": "children_youth", "website": "https://youth.example"}
    ]
    return document


# Every version of every document schema, by its file's name.
DOCUMENT_FILES = [
    schemas.schema_file(name, version)
    for name in DOCUMENT_SCHEMAS
    for version in schemas.schema_versions(name)
]


def version_of(file: str) -> tuple[str, int]:
    """The schema's name and version a file holds ("national_report.v2": national_report, 2)."""
    name, _, version = file.partition(".v")
    return name, int(version or 1)


def validate(file: str, document: Document) -> list[Problem]:
    name, version = version_of(file)
    return validate_document(name, document, version)


EXAMPLES: dict[str, list[Callable[[], dict[str, Any]]]] = {
    "national_report": [
        lambda: documents.national_report(version=1),
        lambda: minimal_national_report(1),
    ],
    "national_report.v2": [documents.national_report, lambda: minimal_national_report(2)],
    "stakeholder_input": [
        lambda: documents.stakeholder_input(version=1),
        lambda: minimal_stakeholder_input(1),
    ],
    "stakeholder_input.v2": [
        joint_stakeholder_input,
        documents.stakeholder_input,
        lambda: minimal_stakeholder_input(2),
    ],
    "consultation_response": [documents.consultation_response, lambda: {"endorsement": "endorse"}],
}
# The current version of each document schema, by its name.
CURRENT = {
    name: schemas.schema_file(name, schemas.current_version(name)) for name in DOCUMENT_SCHEMAS
}


def walk_objects(node: object) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for child in node.values():
            yield from walk_objects(child)
    elif isinstance(node, list):
        for child in node:
            yield from walk_objects(child)


ALL_SCHEMAS = [
    schemas.schema_document(name, version)
    for name in schemas.schema_names()
    for version in schemas.schema_versions(name)
]
# Every field name and enum value the schemas know, so that junk lands where it is checked.
FIELD_NAMES = sorted(
    {field for schema in ALL_SCHEMAS for node in walk_objects(schema)
     for field in node.get("properties", {})}
)  # fmt: skip
ENUM_VALUES = sorted(
    {value for schema in ALL_SCHEMAS for node in walk_objects(schema)
     for value in node.get("enum", [])}
)  # fmt: skip

# --- strategies ----------------------------------------------------------------------------

TRICKY_STRINGS = [
    "", " ", "x", "\n", "DEU", "MEX", "DEU\n", "de", "DÉU", "DE", "DEUT", "123",
    "10.7", "10.c", "17.19", "18.1", "10.20", "0.1", "10.e", "10.7\n", "SDG 10",
    "+41 22 917 1234", "+49 (30) 1234-5678", "123", "+", "phone: 1234", "1234\n",
    "endorse", "done", "ECE", "ece",
]  # fmt: skip
EMAILS = [
    "focal.point@example.org", "a@b.c", "a..b@example.org", "ä@例え.jp", "someone@localhost",
    "not-an-address", "@example.org", "a@@example.org", "a b@example.org", "a@-x.org",
    "a@x-.org", "a@x_y.org", "a@example.org.", "a@.example.org", "a@example..org",
    "a@example.org\n", '"a"@example.org', "a@[127.0.0.1]", "Name <a@example.org>",
    "a" * 64 + "@example.org", "a" * 65 + "@example.org", "a@" + "b" * 245 + ".org",
    "a@" + "b" * 246 + ".org",
]  # fmt: skip
DATES = [
    "2020-11-12", "2020-02-29", "2021-02-29", "2020-02-30", "0000-01-01", "0000-12-31",
    "0001-01-01",
    "9999-12-31", "2020-1-01", "2020-01-1", "30/06/2020", "2020-13-01", "2020-00-10",
    "2020-01-00", "2020-01-01\n", "\uff12\uff10\uff12\uff10-01-01", "2020-01-01T00:00:00Z",
    "20200101", "+2020-01-01", "2020-W01-1", "2020-001",
]  # fmt: skip
URIS = [
    "https://example.org", "http://example.org/path?q=1#f", "HTTPS://EXAMPLE.ORG", "https://",
    "http://[::1", "http://[::1]/", "https://example.org/a b", "javascript:alert(1)",
    "mailto:a@example.org", "ftp://example.org", "https://ex%41mple.org", "https://ex%4mple.org",
    "https://例え.jp", "https://user@:80", "https://:80", "https:example.org", "//example.org",
    "https://example.org\n", "https://example.org/" + "a" * 2030, "https://exa\tmple.org",
]  # fmt: skip
LENGTHS = [1, 2, 3, 4, 10, 11, 40, 41, 254, 255, 300, 301, 2048, 2049, 4000, 4001, 20000, 20001]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(ENUM_VALUES)
)
field_names = st.sampled_from(FIELD_NAMES) | st.text(max_size=8)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(field_names, children, max_size=4)
    ),
    max_leaves=12,
)
label = st.text(alphabet="abzé例-_1.", max_size=6)
emails = st.sampled_from(EMAILS) | st.builds(
    "{}@{}".format,
    st.text(alphabet='ab.+-_ "é@()\\', max_size=8),
    st.lists(label, min_size=1, max_size=3).map(".".join),
)
dates = (
    st.sampled_from(DATES)
    | st.dates().map(date.isoformat)
    | st.builds("{:04d}-{:02d}-{:02d}".format,
                st.sampled_from([0, 1, 1900, 2000, 2020, 9999, 10_000]) | st.integers(0, 10_000),
                st.sampled_from([0, 1, 2, 12, 13]) | st.integers(0, 13),
                st.sampled_from([0, 1, 28, 29, 30, 31, 32]) | st.integers(0, 32))
)  # fmt: skip
uris = st.sampled_from(URIS) | st.builds(
    "{}{}{}".format,
    st.sampled_from(["https://", "http://", "HttP://", "ftp://", "mailto:", "urn:", "", "//"]),
    st.sampled_from(["example.org", "", "[::1]", "[::1", "ex ample.org", "例え.jp", "a@b", ":8"]),
    st.sampled_from(["", "/", "/a b", "/a?b=c#d", "/%zz", "/%41", "/ü", "\n", "/[x]"])
    | st.text(max_size=4),
)
long_strings = st.builds(
    lambda length, char: char * length,
    st.sampled_from(LENGTHS),
    st.sampled_from(["x", "é", "😀", " ", "\n"]),
)
numbers = (
    st.sampled_from([0, 1, 23, 24, -1, 1.0, 23.0, 0.5, 22.999, 1e300, -0.0, True, False])
    | st.integers(-3, 30)
    | st.floats()
)
values = st.one_of(
    st.sampled_from(TRICKY_STRINGS),
    st.sampled_from(ENUM_VALUES),
    emails,
    dates,
    uris,
    long_strings,
    numbers,
    json_values,
    st.text(),
)


COMMON_DEFS: dict[str, Any] = schemas.schema_document("common")["$defs"]  # type: ignore[index]


def resolved(subschema: dict[str, Any]) -> dict[str, Any]:
    """The subschema with its ``$ref`` (always to a definition in common.json) merged in."""
    while "$ref" in subschema:
        target = COMMON_DEFS[subschema["$ref"].rpartition("/")[2]]
        subschema = {**target, **{k: v for k, v in subschema.items() if k != "$ref"}}
    return subschema


def subschema_at(name: str, path: Path) -> dict[str, Any]:
    """What the schema ``name`` asks of the value at ``path`` ({} where it says nothing)."""
    subschema = resolved(schemas.schema_document(*version_of(name)) or {})
    for key in path:
        child = subschema.get("items") if isinstance(key, int) else (
            subschema.get("properties", {}).get(key))  # fmt: skip
        subschema = resolved(child) if isinstance(child, dict) else {}
    return subschema


def pattern_variants(example: str) -> list[str]:
    return [example, example + "\n", "\n" + example, example + " ", example.lower(),
            example[:-1], example + example[-1], "\uff11" + example[1:], "x" + example]  # fmt: skip


def near(subschema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values close to what ``subschema`` accepts, on either side of each of its limits."""
    options: list[st.SearchStrategy[Any]] = []
    # Formats weigh thrice: that is where validators are known to differ.
    match subschema.get("format"):
        case "email":
            options += [emails] * 3
        case "date":
            options += [dates] * 3
        case "uri":
            options += [uris] * 3
    if "pattern" in subschema:
        examples = subschema.get("examples", [])
        options.append(st.from_regex(subschema["pattern"]))
        options.append(st.sampled_from([v for e in examples for v in pattern_variants(e)]))
    if "enum" in subschema:
        options.append(st.sampled_from(subschema["enum"]) | st.sampled_from(ENUM_VALUES))
        options.append(st.sampled_from(subschema["enum"]).map(str.upper))
    if subschema.get("type") in ("integer", "number"):
        options.append(numbers)
    if "maxLength" in subschema:
        low, high = subschema.get("minLength", 0), subschema["maxLength"]
        options.append(
            st.builds(lambda n, c: c * n, st.sampled_from([low - 1, low, high, high + 1]).filter(
                lambda n: n >= 0), st.sampled_from(["x", "é", "😀", " "]))
        )  # fmt: skip
    return st.one_of(options) if options else values


def locations(node: Document, path: Path = ()) -> Iterator[tuple[Path, Document]]:
    """Every value in the document with its path, the document itself first."""
    yield path, node
    children: Iterable[tuple[str | int, Document]] = ()
    if isinstance(node, dict):
        children = node.items()
    elif isinstance(node, list):
        children = enumerate(node)
    for key, child in children:
        yield from locations(child, (*path, key))


def parent_of(document: Document, path: Path) -> Document:
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    return parent


def replaced(document: Document, path: Path, value: Document) -> Document:
    """``document`` with the value at ``path`` replaced (``value`` itself for the root)."""
    if not path:
        return value
    parent_of(document, path)[path[-1]] = value
    return document


def spots_by_kind(document: Document) -> dict[Path, list[tuple[Path, Document]]]:
    """Every value of the document, grouped by its path with array indexes left out."""
    spots: dict[Path, list[tuple[Path, Document]]] = {}
    for path, node in locations(document):
        kind = tuple("*" if isinstance(key, int) else key for key in path)
        spots.setdefault(kind, []).append((path, node))
    return spots


def is_checked(name: str, path: Path) -> bool:
    """Whether the field at ``path`` has a format or a pattern."""
    return bool({"format", "pattern"} & subschema_at(name, path).keys())


@st.composite
def one_checked_field_changed(draw: st.DrawFn, name: str) -> Document:
    """A valid example with one field that has a format or a pattern set near its limits."""
    document: Document = EXAMPLES[name][0]()  # the complete example: every kind of field
    spots = spots_by_kind(document)
    checked = [kind for kind in sorted(spots, key=repr) if is_checked(name, spots[kind][0][0])]
    path, _ = draw(st.sampled_from(spots[draw(st.sampled_from(checked))]))
    return replaced(document, path, draw(near(subschema_at(name, path))))


@st.composite
def mutated(draw: st.DrawFn, name: str) -> Document:
    """A valid example of the schema ``name`` with one to three things changed.

    Each change picks a kind of field first (all objectives' "status" are one kind), so that
    the fields that occur once weigh as much as those in every objective; half the time a
    field with a format or a pattern, where validators are known to differ most. A change
    mostly puts a value near the field's limits, on either side, so that many documents stay
    valid but for the one change: only there can the validators' verdicts differ.
    """
    document: Document = draw(st.sampled_from(EXAMPLES[name]))()
    for _ in range(draw(st.sampled_from([1, 1, 2, 3]))):
        spots = spots_by_kind(document)
        kinds = sorted(spots, key=repr)
        checked = [kind for kind in kinds if is_checked(name, spots[kind][0][0])]
        kind = draw(st.sampled_from(draw(st.sampled_from([kinds, checked or kinds]))))
        path, node = draw(st.sampled_from(spots[kind]))
        change = draw(st.sampled_from(["near"] * 4 + ["replace", "drop", "add field", "grow",
                                                      "move"]))  # fmt: skip
        if change == "drop" and path:
            del parent_of(document, path)[path[-1]]
        elif change == "add field" and isinstance(node, dict):
            node[draw(field_names)] = draw(values)
        elif change == "grow" and isinstance(node, list) and node:
            # Past maxItems, or the same entry twice where entries must be unique.
            entry = draw(st.sampled_from(node))
            node.extend(copy.deepcopy(entry) for _ in range(draw(st.sampled_from([1, 9, 30, 50]))))
        elif change == "move":
            # A value that is valid somewhere else in the document (or the document itself).
            _, elsewhere = draw(
                st.sampled_from([spot for group in spots.values() for spot in group])
            )
            document = replaced(document, path, copy.deepcopy(elsewhere))
        elif change == "replace":
            document = replaced(document, path, draw(values))
        else:
            document = replaced(document, path, draw(near(subschema_at(name, path))))
    return document


arbitrary_documents = json_values | st.dictionaries(field_names, json_values, max_size=8)

# --- the differential tests ----------------------------------------------------------------


def slow_is_valid(name: str, document: Document) -> bool:
    return len(list(schemas._validator(*version_of(name)).iter_errors(document))) == 0


def assert_judged_alike(name: str, document: Document) -> None:
    # validate_document refuses such documents before either validator sees them.
    assume(schemas._unsafe_value(document) is None)
    fast = schemas._fast_validator(*version_of(name)).is_valid(document)
    slow = slow_is_valid(name, document)
    assert fast == slow, f"jsonschema-rs says valid={fast}, jsonschema says valid={slow}"
    assert (validate(name, document) == []) == slow


@pytest.mark.parametrize("name", DOCUMENT_FILES)
@pytest.mark.slow  # hundreds of documents each: `make test-slow`
@DIFFERENTIAL
@given(data=st.data())
def test_mutated_examples_are_judged_alike(name: str, data: st.DataObject) -> None:
    assert_judged_alike(name, data.draw(mutated(name), label="document"))


# consultation_response has no field with a format or a pattern.
@pytest.mark.parametrize("name", [f for f in DOCUMENT_FILES if "consultation" not in f])
@pytest.mark.slow  # hundreds of documents each: `make test-slow`
@DIFFERENTIAL
@given(data=st.data())
def test_formats_and_patterns_are_judged_alike(name: str, data: st.DataObject) -> None:
    assert_judged_alike(name, data.draw(one_checked_field_changed(name), label="document"))


@pytest.mark.parametrize("name", DOCUMENT_FILES)
@pytest.mark.slow  # hundreds of documents each: `make test-slow`
@DIFFERENTIAL
@given(document=arbitrary_documents)
def test_arbitrary_json_is_judged_alike(name: str, document: Document) -> None:
    assert_judged_alike(name, document)


@pytest.mark.parametrize("name", DOCUMENT_FILES)
def test_mutations_give_valid_and_invalid_documents(name: str) -> None:
    """The differential test is worth something only if both verdicts come up."""
    seen: set[bool] = set()

    @settings(max_examples=100, deadline=None, derandomize=True, database=None)
    @given(document=mutated(name))
    def collect(document: Document) -> None:
        if schemas._unsafe_value(document) is None:
            seen.add(slow_is_valid(name, document))

    collect()
    assert seen == {True, False}


@pytest.mark.parametrize(
    ("name", "build"), [(name, build) for name in DOCUMENT_FILES for build in EXAMPLES[name]]
)
def test_valid_examples_are_valid_on_both_paths(
    name: str, build: Callable[[], dict[str, Any]]
) -> None:
    document = build()
    assert schemas._fast_validator(*version_of(name)).is_valid(document)
    assert list(schemas._validator(*version_of(name)).iter_errors(document)) == []
    assert validate(name, document) == []


def change(path: Path, value: object) -> Callable[[dict[str, Any]], object]:
    return lambda document: replaced(document, path, value)


# Where jsonschema-rs on its own would judge otherwise than jsonschema: its "pattern" is ECMA-262
# ("$" only at the very end), its "date" takes year 0000, its "email" refuses some addresses
# that the project accepts. The fast validator uses jsonschema's own checks for these.
@pytest.mark.parametrize(
    ("name", "edit", "valid"),
    [
        ("national_report", change(("country",), "DEU\n"), True),
        ("national_report", change(("objectives", 0, "sdg_targets"), ["17.18\n"]), True),
        ("national_report", change(("reporting_period", "start"), "0000-01-01"), False),
        ("national_report", change(("reporting_period", "start"), "2020-02-29"), True),
        ("national_report", change(("contact", "email"), "a..b@example.org"), True),
        ("national_report", change(("contact", "email"), "ä@例え.jp"), True),
        ("national_report", change(("contact", "email"), "someone@localhost"), False),
        ("stakeholder_input", change(("organisation", "website"), "https://"), False),
        ("stakeholder_input", change(("organisation", "website"), "https://ex%4mple.org"), False),
        ("stakeholder_input", change(("organisation", "website"), "https://例え.jp"), False),
        ("stakeholder_input", change(("objectives",), [6, 6.0]), False),
        ("stakeholder_input", change(("objectives",), [1.0, 23.0]), True),
        ("stakeholder_input", change(("joint_organisations", 0, "website"), "https://"), False),
        ("stakeholder_input", change(("clusters",), [1, 1.0]), False),
        ("stakeholder_input", change(("principles",), ["human_rights"] * 2), False),
        ("consultation_response", change(("comments", 0, "objective"), True), False),
    ],
)
def test_known_differences_of_jsonschema_rs_are_bridged(
    name: str, edit: Callable[[dict[str, Any]], object], valid: bool
) -> None:
    document = EXAMPLES[CURRENT[name]][0]()
    edit(document)
    assert slow_is_valid(CURRENT[name], document) is valid
    assert schemas._fast_validator(*version_of(CURRENT[name])).is_valid(document) is valid
    assert (validate_document(name, document) == []) is valid


def test_values_jsonschema_rs_cannot_take_are_left_to_jsonschema() -> None:
    document = documents.stakeholder_input()
    document["input"] = "a lone \ud800 surrogate"  # json.loads makes these from "\\ud800"
    assert validate_document("stakeholder_input", document) == []
    document["contact"]["phone"] = "x"
    assert validate_document("stakeholder_input", document) == [
        Problem("/contact/phone", "must be written like +41 22 917 1234")
    ]
    assert validate_document("consultation_response", {"endorsement": "endorse", 1: 2}) == [
        Problem("/1", "is not an allowed field")
    ]


def test_schemas_use_no_other_regular_expressions() -> None:
    """jsonschema-rs would read patternProperties as ECMA-262; only "pattern" is bridged."""
    for schema in ALL_SCHEMAS:
        for node in walk_objects(schema):
            assert "patternProperties" not in node


# --- the guards ----------------------------------------------------------------------------


def guard_reference(value: object, depth: int = 0) -> bool:
    """Whether the guards should let ``value`` through, by the plain recursive definition."""
    if isinstance(value, dict | list):
        children = value.values() if isinstance(value, dict) else value
        return depth < 32 and all(guard_reference(child, depth + 1) for child in children)
    return not (isinstance(value, int) and value.bit_length() > 1024)


def wrapped(value: object, depth: int, in_list: bool) -> object:
    for level in range(depth):
        value = [value] if in_list ^ (level % 2 == 0) else {"a": value}
    return value


@pytest.mark.slow  # hundreds of documents each: `make test-slow`
@DIFFERENTIAL
@given(
    document=st.builds(
        wrapped,
        st.recursive(
            st.sampled_from([0, 2**1024 - 1, 2**1024, -(2**1024), True, "x", None, 1.5]),
            lambda children: (
                st.lists(children, max_size=3)
                | st.dictionaries(st.text(max_size=2), children, max_size=3)
            ),
            max_leaves=8,
        ),
        st.integers(0, 34),
        st.booleans(),
    )
)
def test_quick_guard_agrees_with_the_walk(document: object) -> None:
    safe = guard_reference(document)
    assert schemas._within_limits(document) is safe
    assert (schemas._unsafe_value(document) is None) is safe


# --- no network ----------------------------------------------------------------------------


def test_fast_validators_are_built_offline(no_network: None) -> None:
    schemas._fast_validator.cache_clear()
    schemas._fast_registry.cache_clear()
    for name in DOCUMENT_FILES:
        assert schemas._fast_validator(*version_of(name)).is_valid(EXAMPLES[name][0]())
    with pytest.raises(ValueError, match=r"elsewhere\.json"):
        jsonschema_rs.validator_for(
            {"$ref": "https://json-schema.example/elsewhere.json"},
            registry=schemas._fast_registry(),
            offline=True,
        )
    with pytest.raises(KeyError):
        schemas._fast_validator("common", 1)
    with pytest.raises(KeyError):
        schemas._fast_validator("consultation_response", 2)


# --- speed ---------------------------------------------------------------------------------


def per_second(call: Callable[[], object], calls: int) -> float:
    call()
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return calls / (time.perf_counter() - start)


def test_print_rate_of_a_full_national_report(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints how many full national reports a second one core validates; asserts no timing."""
    report = documents.national_report()
    slow = schemas._validator("national_report", schemas.current_version("national_report"))
    pinned = hasattr(os, "sched_getaffinity")
    if pinned:
        cores = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {min(cores)})
    try:
        before = per_second(lambda: schemas._check(slow, report), calls=400)
        after = per_second(lambda: validate_document("national_report", report), calls=2_000)
    finally:
        if pinned:
            os.sched_setaffinity(0, cores)
    with capsys.disabled():
        print(
            f"\nfull national report, one core: jsonschema only {before:,.0f}/s (400 calls), "
            f"validate_document with the fast path {after:,.0f}/s (2,000 calls)"
        )
    assert validate_document("national_report", report) == []
