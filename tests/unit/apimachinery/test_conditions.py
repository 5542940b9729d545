"""status.conditions lookups: by type, first match, non-mappings skipped, Ready."""

from __future__ import annotations

from typing import Any

from apimachinery.conditions import (
    condition_status,
    find_condition,
    get_condition,
    is_condition_true,
    is_ready,
    ready_condition,
)
from apimachinery.meta import Object


def node(*conditions: Any) -> Object:
    return {"metadata": {"name": "n"}, "status": {"conditions": list(conditions)}}


def test_finds_the_condition_of_a_type() -> None:
    ready = {"type": "Ready", "status": "True", "reason": "KubeletReady"}
    memory = {"type": "MemoryPressure", "status": "False"}
    obj = node(memory, ready)
    assert get_condition(obj, "Ready") is ready
    assert ready_condition(obj) is ready
    assert get_condition(obj, "MemoryPressure") is memory
    assert get_condition(obj, "DiskPressure") is None
    assert find_condition([memory, ready], "MemoryPressure") is memory


def test_the_first_of_a_type_wins_and_non_mappings_are_skipped() -> None:
    first, second = {"type": "Ready", "status": "False"}, {"type": "Ready", "status": "True"}
    assert find_condition(["junk", None, first, second], "Ready") is first
    assert not is_ready(node("junk", first, second))


def test_missing_status_or_conditions_is_not_reported() -> None:
    for obj in ({}, {"status": None}, {"status": {}}, {"status": {"conditions": None}}):
        assert get_condition(obj, "Ready") is None
        assert condition_status(obj, "Ready") == ""
        assert not is_ready(obj)
    assert find_condition(None, "Ready") is None


def test_status_and_truth() -> None:
    for status, ready in (("True", True), ("False", False), ("Unknown", False)):
        obj = node({"type": "Ready", "status": status})
        assert condition_status(obj, "Ready") == status
        assert is_ready(obj) is ready
        assert is_condition_true(obj, "Ready") is ready
    assert condition_status(node({"type": "Ready"}), "Ready") == ""
    pod = {"status": {"conditions": [{"type": "Initialized", "status": "True"}]}}
    assert is_condition_true(pod, "Initialized")
    assert not is_condition_true(pod, "Ready")
