"""The agent's pressure conditions become NoSchedule taints (TaintNodesByCondition)."""

from __future__ import annotations

from datetime import UTC, datetime

from apimachinery.meta import Object
from controllers.nodelifecycle import pressure_taint_keys, wanted_taints

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def node(taints: list[Object] | None = None, **pressure: str) -> Object:
    conditions = [{"type": "Ready", "status": "True"}] + [
        {"type": kind, "status": status} for kind, status in pressure.items()]
    return {"metadata": {"name": "n1"}, "spec": {"taints": taints or []},
            "status": {"conditions": conditions}}


def test_pressure_conditions_taint_the_node_and_relief_untaints_it() -> None:
    assert wanted_taints(node(MemoryPressure="False", DiskPressure="False"), NOW) is None
    pressed = node(MemoryPressure="True", DiskPressure="True", PIDPressure="False")
    assert pressure_taint_keys(pressed) == ["node.kubernetes.io/memory-pressure",
                                            "node.kubernetes.io/disk-pressure"]
    taints = wanted_taints(pressed, NOW)
    assert taints is not None
    assert [(t["key"], t["effect"]) for t in taints] == [
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule")]
    other = {"key": "team", "value": "a", "effect": "NoSchedule"}
    stays = node([other, *taints], MemoryPressure="True", DiskPressure="True")
    assert wanted_taints(stays, NOW) is None  # already right
    relieved = wanted_taints(node([other, *taints], MemoryPressure="False",
                                  DiskPressure="True"), NOW)
    assert relieved is not None
    assert [t["key"] for t in relieved] == ["team", "node.kubernetes.io/disk-pressure"]
    # conditions gone Unknown (the agent stopped posting): no pressure taint, unreachable
    unknown = wanted_taints(node(taints, MemoryPressure="Unknown") | {"status": {
        "conditions": [{"type": "Ready", "status": "Unknown"},
                       {"type": "MemoryPressure", "status": "Unknown"}]}}, NOW)
    assert unknown is not None
    assert [(t["key"], t["effect"]) for t in unknown] == [
        ("node.kubernetes.io/unreachable", "NoExecute")]
