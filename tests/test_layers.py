"""The product's structure: no import points from a lower layer to a higher one, and SQL is
written in `db/` only.

The checks read the source (ast), so they cost no database and no server.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# What is not product code: tests, measurements, docs, the image, environments, builds.
NOT_PRODUCT = {"tests", "bench", "docs", "docker", "build", "dist", "node_modules"}

# Layers, highest first; a module may import its own layer and those below it. A module is in
# the layer of its longest listed prefix; a top-level name not listed fails the test, so a new
# package is placed on purpose.
LAYERS: list[tuple[str, ...]] = [
    # the program: processes, launchers, embedded services, wiring
    ("reviewflow", "worker"),
    # adapters: HTTP, web pages, Temporal workflows and activities
    ("api", "web", "workflows", "activities"),
    # use cases
    ("services",),
    # documents: the report, notifications (rules, templates, channels)
    ("reports", "notifications"),
    # storage
    ("db",),
    # settings and log format, read by any layer; they import nothing of the product
    ("config",),
    # the review's rules and types, reference data, document schemas, shared pure pieces; the
    # languages (catalogues and formats, importing nothing of the product)
    ("domain", "schemas", "i18n"),
]

# Imports that still point upward: (importing module, imported module). May only shrink.
KNOWN_UPWARD: set[tuple[str, str]] = set()

# The statements the architecture review counts as SQL.
SQL = re.compile(r"\b(SELECT|INSERT INTO|UPDATE [a-z_]+ SET|DELETE FROM)\b")


def product_modules(root: Path = ROOT) -> Iterator[tuple[str, Path]]:
    """Every product module, by dotted name."""
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if parts[0] in NOT_PRODUCT or any(
            p.startswith(".") or p.endswith(".egg-info") for p in parts
        ):
            continue
        names = list(parts[:-1]) + ([] if path.name == "__init__.py" else [path.stem])
        yield ".".join(names), path


def layer_of(module: str) -> int | None:
    """The layer's rank (0 is the top), or None for a module outside the product."""
    best: tuple[int, int] | None = None  # (prefix length, rank)
    for rank, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (
                best is None or len(prefix) > best[0]
            ):
                best = (len(prefix), rank)
    return None if best is None else best[1]


def imports_of(module: str, path: Path) -> Iterator[str]:
    """Every module `module` imports, at the top or inside a function, as dotted names."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from db import tasks` imports db.tasks: name the most precise module.
            yield from (f"{base}.{alias.name}" for alias in node.names)


def upward_imports(root: Path = ROOT) -> tuple[set[tuple[str, str]], list[str]]:
    """The imports from a lower layer to a higher one, and the product modules in no layer."""
    upward: set[tuple[str, str]] = set()
    unplaced: list[str] = []
    for module, path in product_modules(root):
        rank = layer_of(module)
        if rank is None:
            unplaced.append(module)
            continue
        for imported in imports_of(module, path):
            target = layer_of(imported)
            if target is not None and target < rank:
                upward.add((module, _module_part(root, imported)))
    return upward, unplaced


def _module_part(root: Path, imported: str) -> str:
    """`pkg.mod.Name` -> `pkg.mod` when `pkg/mod.py` exists; the name as given otherwise."""
    parts = imported.split(".")
    for end in range(len(parts), 0, -1):
        candidate = root.joinpath(*parts[:end])
        if candidate.with_suffix(".py").is_file() or (candidate / "__init__.py").is_file():
            return ".".join(parts[:end])
    return imported


def strings_in(path: Path) -> Iterator[tuple[int, str]]:
    """Every string literal of the module (f-string parts included), with its line."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def sql_outside_db(root: Path = ROOT) -> list[str]:
    return [
        f"{path.relative_to(root)}:{line}: {SQL.search(text).group(0)}"  # type: ignore[union-attr]
        for module, path in product_modules(root)
        if module.split(".")[0] != "db"
        for line, text in strings_in(path)
        if SQL.search(text)
    ]


def test_every_product_module_is_in_a_layer() -> None:
    _, unplaced = upward_imports()
    assert unplaced == []


def test_no_import_points_upward_but_the_known_ones() -> None:
    upward, _ = upward_imports()
    assert upward - KNOWN_UPWARD == set(), "a lower layer imports a higher one"
    assert KNOWN_UPWARD - upward == set(), "fixed: remove it from KNOWN_UPWARD"


def test_the_layer_check_sees_an_upward_import_inside_a_function(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "x.py").write_text("def f():\n    from api import app\n")
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "y.py").write_text("from db.x import f\n")
    upward, unplaced = upward_imports(tmp_path)
    assert ("db.x", "api.app") in upward
    assert not any(importer == "api.y" for importer, _ in upward)
    assert unplaced == []


def test_a_module_is_in_the_layer_of_its_package() -> None:
    assert layer_of("domain.reference") == len(LAYERS) - 1
    assert layer_of("reviewflow.cli") == 0
    assert layer_of("settings") is None


def test_sql_is_written_in_db_only() -> None:
    assert sql_outside_db() == []


def test_the_sql_check_sees_sql_in_an_f_string(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "x.py").write_text('T = "t"\nQ = f"DELETE FROM {T} WHERE id = $1"\n')
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "y.py").write_text('Q = "SELECT 1"\n')
    assert sql_outside_db(tmp_path) == ["api/x.py:2: DELETE FROM"]
