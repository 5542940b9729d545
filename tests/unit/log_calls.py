"""Find a package's `log.<level>(...)` calls, for the tests that every line names its component."""

from __future__ import annotations

import ast
from pathlib import Path

LEVELS = {"debug", "info", "warning", "error", "exception", "critical"}


def log_calls(path: Path) -> list[tuple[int, object]]:
    """(line, first argument) of each `log.<level>(...)` call in the module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in LEVELS and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "log"):
            first = node.args[0] if node.args else None
            found.append((node.lineno, first.value if isinstance(first, ast.Constant) else None))
    return found


def unlabelled(package_dir: Path, component: str) -> tuple[int, dict[str, object]]:
    """How many log calls the package has, and those not starting `component=<component> `."""
    calls = {f"{path.relative_to(package_dir.parent)}:{line}": message
             for path in sorted(package_dir.rglob("*.py")) for line, message in log_calls(path)}
    return len(calls), {where: message for where, message in calls.items()
                        if not (isinstance(message, str)
                                and message.startswith(f"component={component} "))}
