"""percentageOfNodesToScore, the rotating start, and the equivalence-class memo."""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from typing import Any, ClassVar

import pytest

from apimachinery.meta import Object
from scheduler.cycle import schedule
from scheduler.equivalence import EquivalenceCache, equivalence_class
from scheduler.framework import SUCCESS, NodeInfo, Profile, Status
from scheduler.plugins import default_profile
from tests.unit.scheduler.builders import make_node, make_pod, node_info

PROFILE = default_profile()


def nodes(count: int, **kwargs: Any) -> list[NodeInfo]:
    return [node_info(make_node(f"n{i:04d}", **kwargs)) for i in range(count)]


@pytest.mark.parametrize(("count", "percentage", "wanted"), [
    (50, 0, 50), (99, 0, 99), (100, 0, 100), (200, 0, 100), (1000, 0, 420),
    (5000, 0, 500), (10000, 0, 500), (1000, 10, 100), (1000, 100, 1000), (1000, 60, 600)])
def test_num_feasible_nodes_to_find_is_kube_schedulers(count: int, percentage: int,
                                                       wanted: int) -> None:
    profile = dataclasses.replace(PROFILE, percentage_of_nodes_to_score=percentage)
    assert profile.num_feasible_nodes_to_find(count) == wanted


def test_the_search_stops_at_enough_feasible_nodes_and_the_next_starts_after_it() -> None:
    infos = nodes(1000)
    first = schedule(make_pod("p"), infos, PROFILE, start=0)
    assert (first.feasible, first.processed) == (420, 420)
    assert set(first.scores) == {f"n{i:04d}" for i in range(420)}
    second = schedule(make_pod("q"), infos, PROFILE, start=first.processed)
    assert min(second.scores) == "n0420" and len(second.scores) == 420
    wrapped = schedule(make_pod("r"), infos, PROFILE, start=900)
    assert {"n0999", "n0000", "n0319"} <= set(wrapped.scores) and "n0320" not in wrapped.scores


def test_rejected_nodes_do_not_count_towards_enough() -> None:
    infos = [*nodes(600, cpu="1"), *[node_info(make_node(f"big{i}", cpu="8"))
                                     for i in range(200)]]
    result = schedule(make_pod("p", cpu="2"), infos, PROFILE)
    assert result.feasible == 200 and result.processed == 800
    none = schedule(make_pod("p", cpu="16"), infos, PROFILE)
    assert none.node is None and none.message == "0/800 nodes are available: 800 Insufficient cpu."


def test_the_equivalence_class_ignores_the_name_but_not_the_spec_or_owner() -> None:
    a, b = make_pod("a", cpu="1", owner_uid="rs"), make_pod("b", cpu="1", owner_uid="rs")
    assert equivalence_class(a) == equivalence_class(b)
    assert equivalence_class(a) != equivalence_class(make_pod("c", cpu="2", owner_uid="rs"))
    assert equivalence_class(a) != equivalence_class(make_pod("d", cpu="1", owner_uid="rs2"))
    assert equivalence_class(a) != equivalence_class(make_pod("e", cpu="1", owner_uid="rs",
                                                              namespace="other"))


class CountingFilter:
    name: ClassVar[str] = "Counting"

    def __init__(self) -> None:
        self.calls = 0

    def filter(self, pod: Object, node_info: NodeInfo) -> Status:
        self.calls += 1
        return SUCCESS


def test_a_memo_filters_each_nodeinfo_once_per_class() -> None:
    counting = CountingFilter()
    profile = Profile(plugins=(counting, *PROFILE.plugins), weights=PROFILE.weights)
    infos, classes = nodes(10), EquivalenceCache()
    for name in ("a", "b", "c"):
        pod = make_pod(name, cpu="1", owner_uid="rs")
        schedule(pod, infos, profile, memo=classes.for_pod(pod, len(infos)))
    assert counting.calls == 10
    infos[3] = infos[3].with_pod(make_pod("x", cpu="1", node_name="n0003"))
    pod = make_pod("d", cpu="1", owner_uid="rs")
    schedule(pod, infos, profile, memo=classes.for_pod(pod, len(infos)))
    assert counting.calls == 11  # only the node whose NodeInfo is new
    other = make_pod("e", cpu="2", owner_uid="rs")
    schedule(other, infos, profile, memo=classes.for_pod(other, len(infos)))
    assert counting.calls == 21


def test_with_and_without_the_memo_every_decision_is_the_same() -> None:
    """A burst of three ReplicaSets' pods over uneven nodes, assumed as they go."""
    infos = [node_info(make_node(f"n{i}", cpu=str(2 + i % 3), memory=f"{4 + i % 5}Gi"))
             for i in range(12)]
    pods = [make_pod(f"p{i}", cpu=["100m", "250m", "500m"][i % 3], memory="256Mi",
                     owner_uid=f"rs{i % 3}") for i in range(60)]
    runs = []
    for classes in (None, EquivalenceCache()):
        current, placed = list(infos), []
        for pod in pods:
            memo = classes.for_pod(pod, len(current)) if classes is not None else None
            result = schedule(pod, current, PROFILE, rng=random.Random(5), memo=memo)
            assert result.node is not None
            placed.append((result.node, dict(result.scores)))
            i = [n.name for n in current].index(result.node)
            current[i] = current[i].with_pod({**pod, "spec": {**pod["spec"],
                                                              "nodeName": result.node}})
        runs.append(placed)
    assert runs[0] == runs[1]
    assert len(Counter(node for node, _ in runs[0])) == 12
