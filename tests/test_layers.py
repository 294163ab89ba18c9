"""The product's structure: SQL is written in `db/` only.

Both checks read the source (ast), so they cost no database and no server.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# What is not product code: tests, measurements, docs, the image, environments, builds.
NOT_PRODUCT = {"tests", "bench", "docs", "docker", "build", "dist", "node_modules"}

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


def test_sql_is_written_in_db_only() -> None:
    assert sql_outside_db() == []


def test_the_sql_check_sees_sql_in_an_f_string(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "x.py").write_text('T = "t"\nQ = f"DELETE FROM {T} WHERE id = $1"\n')
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "y.py").write_text('Q = "SELECT 1"\n')
    assert sql_outside_db(tmp_path) == ["api/x.py:2: DELETE FROM"]
