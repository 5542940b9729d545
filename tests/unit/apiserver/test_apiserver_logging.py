"""Every line the apiserver logs says who logs it: `component=apiserver`, as the others do."""

from __future__ import annotations

import ast
from pathlib import Path

import apiserver

LEVELS = {"debug", "info", "warning", "error", "exception", "critical"}


def _first_arguments(path: Path) -> list[tuple[int, object]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in LEVELS and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "log"):
            first = node.args[0] if node.args else None
            found.append((node.lineno, first.value if isinstance(first, ast.Constant) else None))
    return found


def test_every_apiserver_log_line_starts_with_its_component() -> None:
    root = Path(apiserver.__file__).parent
    calls = {f"{path.relative_to(root.parent)}:{line}": message
             for path in sorted(root.rglob("*.py")) for line, message in _first_arguments(path)}
    assert len(calls) > 10  # the scan sees the apiserver's log calls
    unlabelled = {where: message for where, message in calls.items()
                  if not (isinstance(message, str) and message.startswith("component=apiserver "))}
    assert unlabelled == {}
