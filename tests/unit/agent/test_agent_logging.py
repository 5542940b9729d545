"""Every line the agent logs says who logs it: `component=agent`, as the other components do."""

from __future__ import annotations

import ast
from pathlib import Path

import agent

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


def test_every_agent_log_line_starts_with_its_component() -> None:
    root = Path(agent.__file__).parent
    calls = {f"{path.relative_to(root.parent)}:{line}": message
             for path in sorted(root.rglob("*.py")) for line, message in log_calls(path)}
    assert len(calls) > 40  # the scan sees the agent's log calls
    unlabelled = {where: message for where, message in calls.items()
                  if not (isinstance(message, str) and message.startswith("component=agent "))}
    assert unlabelled == {}
