"""docs/compatibility.md is kept true by the suite: every row that says `works` or
`partial` is proven by a test marked with its name, every mark names a row, and a row
that is not fully working says why."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "docs" / "compatibility.md"
STATUSES = {"works", "partial", "not"}


def table_rows() -> dict[str, tuple[str, str]]:
    """Row name -> (status, why), from every Markdown table row of the document."""
    rows: dict[str, tuple[str, str]] = {}
    for line in TABLE.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3 or cells[1] not in STATUSES:
            continue
        name = cells[0].strip("`")
        assert name not in rows, f"{name!r} is in the table twice"
        rows[name] = (cells[1], cells[2] if len(cells) > 2 else "")
    return rows


def marked_rows() -> dict[str, list[str]]:
    """Row name -> the tests (of tests/compat and tests/integration) whose
    `pytest.mark.compat(...)` names it."""
    marks: dict[str, list[str]] = {}
    for path in sorted([*Path(__file__).parent.glob("test_*.py"),
                        *(ROOT / "tests" / "integration").glob("test_*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            for deco in node.decorator_list:
                if (isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute)
                        and deco.func.attr == "compat"):
                    for arg in deco.args:
                        assert isinstance(arg, ast.Constant), f"{path.name}:{node.name}"
                        marks.setdefault(arg.value, []).append(f"{path.name}::{node.name}")
    return marks


def test_the_table_has_rows() -> None:
    assert len(table_rows()) >= 150  # a table cut by accident fails here


def test_every_working_row_is_proven_by_a_test() -> None:
    marks = marked_rows()
    unproven = [name for name, (status, _) in table_rows().items()
                if status != "not" and name not in marks]
    assert unproven == []


def test_every_mark_names_a_row() -> None:
    rows = table_rows()
    assert [name for name in marked_rows() if name not in rows] == []


def test_rows_not_fully_working_say_why() -> None:
    assert [name for name, (status, why) in table_rows().items()
            if status != "works" and not why] == []
