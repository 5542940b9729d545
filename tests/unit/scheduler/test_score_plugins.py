"""Each scoring plugin alone: Kubernetes' formulas on small numbers."""

from __future__ import annotations

from scheduler.plugins.balanced_allocation import BalancedAllocation, balanced_score
from scheduler.plugins.least_allocated import LeastAllocated, least_requested_score
from scheduler.plugins.node_affinity import NodeAffinity
from scheduler.plugins.selector_spread import SelectorSpread, controller_uid
from scheduler.plugins.taint_toleration import TaintToleration
from tests.unit.scheduler.builders import make_node, make_pod, node_info


def test_least_requested_score() -> None:
    assert least_requested_score(0, 4000) == 100
    assert least_requested_score(1000, 4000) == 75
    assert least_requested_score(5000, 4000) == 0
    assert least_requested_score(1, 0) == 0


def test_least_allocated_prefers_the_emptier_node_and_counts_best_effort_pods() -> None:
    plugin, pod = LeastAllocated(), make_pod("p", cpu="1", memory="1Gi")
    empty = node_info(make_node("a", cpu="4", memory="4Gi"))
    busy = node_info(make_node("b", cpu="4", memory="4Gi"), make_pod("x", cpu="2", memory="2Gi"))
    assert plugin.score(pod, empty) == 75  # (75 cpu + 75 memory) / 2
    assert plugin.score(pod, busy) == 25
    # A pod with no requests still counts as 100m/200Mi, so empty pods spread too.
    with_best_effort = node_info(make_node("c", cpu="4", memory="4Gi"), make_pod("y"))
    assert plugin.score(pod, with_best_effort) < plugin.score(pod, empty)


def test_balanced_score() -> None:
    assert balanced_score([0.5, 0.5]) == 100
    assert balanced_score([0.9, 0.1]) == 60
    assert balanced_score([0.2]) == 100
    assert balanced_score([0.0, 0.5, 1.0]) == 59


def test_balanced_allocation_prefers_the_node_left_even() -> None:
    plugin, pod = BalancedAllocation(), make_pod("p", cpu="1", memory="1Gi")
    even = node_info(make_node("a", cpu="4", memory="4Gi"), make_pod("x", cpu="1", memory="1Gi"))
    lopsided = node_info(make_node("b", cpu="4", memory="4Gi"), make_pod("y", cpu="3"))
    assert plugin.score(pod, even) == 100
    assert plugin.score(pod, lopsided) == 62  # fractions 1.0 and 0.25: 100 * (1 - 0.375)


def test_selector_spread_counts_live_siblings_of_the_same_controller() -> None:
    plugin = SelectorSpread()
    pod = make_pod("p", owner_uid="rs1")
    assert controller_uid(pod) == "rs1" and controller_uid(make_pod("q")) == ""
    deleting = make_pod("d", owner_uid="rs1")
    deleting["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    info = node_info(make_node("a"), make_pod("s1", owner_uid="rs1"),
                     make_pod("s2", owner_uid="rs1"), make_pod("o", owner_uid="rs2"),
                     make_pod("elsewhere", owner_uid="rs1", namespace="other"), deleting)
    assert plugin.score(pod, info) == 2
    assert plugin.score(make_pod("lonely"), info) == 0


def test_selector_spread_normalizes_the_emptiest_node_to_the_top() -> None:
    plugin = SelectorSpread()
    assert plugin.normalize_score(make_pod("p"), {"a": 2, "b": 1, "c": 0}) == {
        "a": 0, "b": 50, "c": 100}
    assert plugin.normalize_score(make_pod("p"), {"a": 0, "b": 0}) == {"a": 100, "b": 100}


def test_prefer_no_schedule_taints_lower_the_score() -> None:
    plugin = TaintToleration()
    soft = {"key": "k", "value": "v", "effect": "PreferNoSchedule"}
    tainted = node_info(make_node("a", taints=[soft, {**soft, "key": "j"}]))
    assert plugin.score(make_pod("p"), tainted) == 2
    tolerant = make_pod("p", tolerations=[{"key": "k", "operator": "Exists"}])
    assert plugin.score(tolerant, tainted) == 1
    # A NoSchedule toleration does not soften a PreferNoSchedule taint.
    hard_only = make_pod("p", tolerations=[{"key": "k", "operator": "Exists",
                                            "effect": "NoSchedule"}])
    assert plugin.score(hard_only, tainted) == 2
    assert plugin.normalize_score(make_pod("p"), {"a": 2, "b": 0}) == {"a": 0, "b": 100}


def test_preferred_node_affinity_sums_weights_of_matching_terms() -> None:
    plugin = NodeAffinity()
    preferred = [
        {"weight": 30, "preference": {"matchExpressions": [
            {"key": "zone", "operator": "In", "values": ["a"]}]}},
        {"weight": 10, "preference": {"matchExpressions": [
            {"key": "disk", "operator": "Exists"}]}},
    ]
    pod = make_pod("p", affinity={"nodeAffinity": {
        "preferredDuringSchedulingIgnoredDuringExecution": preferred}})
    assert plugin.score(pod, node_info(make_node("a", labels={"zone": "a", "disk": "ssd"}))) == 40
    assert plugin.score(pod, node_info(make_node("b", labels={"zone": "b"}))) == 0
    assert plugin.normalize_score(pod, {"a": 40, "b": 10}) == {"a": 100, "b": 25}
