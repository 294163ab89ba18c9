"""The domain layer stands on the standard library alone, so workflows import it inside the
sandbox and its rules are tested without a server or a database."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parent.parent / "domain"


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


# The one package domain may import besides the standard library: `rfc8785`, the canonical
# JSON hashes are taken over (domain/canonical.py). It is a single pure-Python module that
# itself imports the standard library only, does no I/O and reads no clock, so it is as
# deterministic and sandbox-safe as the rest of domain; any layer can hash the same way.
ALLOWED = {"domain", "__future__", "rfc8785"}


def test_domain_modules_import_only_the_standard_library_and_each_other() -> None:
    modules = sorted(DOMAIN.glob("*.py"))
    assert len(modules) >= 3
    foreign = {
        f"{path.name}: {root}"
        for path in modules
        for root in _imported_roots(path)
        if root not in sys.stdlib_module_names and root not in ALLOWED
    }
    assert foreign == set()


def test_the_allowed_package_imports_the_standard_library_only() -> None:
    import rfc8785

    assert rfc8785.__file__ is not None
    package = Path(rfc8785.__file__).parent
    roots = {root for path in package.glob("*.py") for root in _imported_roots(path)}
    assert roots - set(sys.stdlib_module_names) - {"rfc8785", "__future__"} == set()


def test_the_import_check_sees_a_third_party_import(tmp_path: Path) -> None:
    module = tmp_path / "leaky.py"
    module.write_text(
        "import asyncpg\nfrom temporalio import workflow\nfrom domain import review\n"
    )
    assert _imported_roots(module) - set(sys.stdlib_module_names) == {
        "asyncpg",
        "temporalio",
        "domain",
    }


ROOT = DOMAIN.parent
PRODUCT = ("workflows", "activities", "api", "db", "notifications", "reports", "reviewflow")


def _string_constants(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_product_code_names_event_types_by_the_enumeration_only() -> None:
    from domain.events import EventType

    names = {event.value for event in EventType}
    bare = {
        f"{path.relative_to(ROOT)}: {text}"
        for package in PRODUCT
        for path in (ROOT / package).rglob("*.py")
        for text in _string_constants(path) & names
    }
    assert bare == set()


def test_workflow_code_builds_no_json_pointers() -> None:
    """The API turns a refusal's field into its own pointer; workflows know no request bodies."""
    pointers = {
        f"{path.name}: {text}"
        for path in (ROOT / "workflows").glob("*.py")
        for text in _string_constants(path)
        if text.startswith("/") and len(text) > 1 and text[1:].replace("_", "").isalnum()
    }
    assert pointers == set()
