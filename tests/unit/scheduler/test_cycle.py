"""The scheduling cycle as a pure function, over hand-built NodeInfos."""

from __future__ import annotations

import random
from typing import Any, ClassVar

from apimachinery.meta import Object
from scheduler.cycle import schedule, select_host
from scheduler.framework import NodeInfo, Profile, Status
from scheduler.plugins import default_profile
from scheduler.plugins.node_resources_fit import NodeResourcesFit
from tests.unit.scheduler.builders import make_node, make_pod, node_info

PROFILE = default_profile()


def three_nodes(**kwargs: Any) -> list[NodeInfo]:
    return [node_info(make_node(name, **kwargs)) for name in ("n1", "n2", "n3")]


def test_no_nodes() -> None:
    result = schedule(make_pod("p"), [], PROFILE)
    assert result.node is None and result.message == "no nodes available to schedule pods"


def test_too_big_for_every_node() -> None:
    result = schedule(make_pod("p", cpu="8"), three_nodes(cpu="4"), PROFILE)
    assert result.node is None and not result.error
    assert result.message == "0/3 nodes are available: 3 Insufficient cpu."


def test_message_mixes_the_first_reason_of_each_node() -> None:
    nodes = [node_info(make_node("n1", cpu="1")),
             node_info(make_node("n2", cpu="1", unschedulable=True)),
             node_info(make_node("n3", taints=[{"key": "node.kubernetes.io/unreachable",
                                                 "effect": "NoSchedule"}]))]
    result = schedule(make_pod("p", cpu="2"), nodes, PROFILE)
    assert result.message == (
        "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint "
        "{node.kubernetes.io/unreachable: }, 1 node(s) were unschedulable.")


def test_the_only_feasible_node_wins_without_scoring() -> None:
    nodes = [*three_nodes(cpu="1"), node_info(make_node("big", cpu="16"))]
    result = schedule(make_pod("p", cpu="2"), nodes, PROFILE)
    assert (result.node, result.feasible, dict(result.scores)) == ("big", 1, {})


def test_scores_pick_the_least_loaded_node() -> None:
    nodes = [node_info(make_node("n1"), make_pod("a", cpu="3")),
             node_info(make_node("n2"), make_pod("b", cpu="1")),
             node_info(make_node("n3"), make_pod("c", cpu="2"))]
    result = schedule(make_pod("p", cpu="500m"), nodes, PROFILE)
    assert result.node == "n2" and result.feasible == 3
    assert result.scores["n2"] > result.scores["n3"] > result.scores["n1"]


def test_node_selector_and_taints_narrow_the_choice() -> None:
    nodes = [node_info(make_node("gpu", labels={"accel": "gpu"},
                                 taints=[{"key": "dedicated", "value": "gpu",
                                          "effect": "NoSchedule"}])),
             node_info(make_node("plain"))]
    assert schedule(make_pod("p"), nodes, PROFILE).node == "plain"
    picky = make_pod("p", node_selector={"accel": "gpu"})
    assert schedule(picky, nodes, PROFILE).message == (
        "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
        "1 node(s) had untolerated taint {dedicated: gpu}.")
    picky["spec"]["tolerations"] = [{"key": "dedicated", "operator": "Exists"}]
    assert schedule(picky, nodes, PROFILE).node == "gpu"


def test_ties_go_to_the_first_node_or_a_random_one() -> None:
    assert select_host({"a": 5, "b": 5, "c": 1}) == "a"
    picks = {select_host({"a": 5, "b": 5, "c": 1}, random.Random(seed)) for seed in range(20)}
    assert picks == {"a", "b"}


class Exploding:
    name: ClassVar[str] = "Exploding"

    def filter(self, pod: Object, node_info: NodeInfo) -> Status:
        raise RuntimeError("boom")


class Rejecting:
    name: ClassVar[str] = "Rejecting"

    def pre_filter(self, pod: Object) -> Status:
        return Status.unresolvable("pod wants the moon")


class Erroring:
    name: ClassVar[str] = "Erroring"

    def filter(self, pod: Object, node_info: NodeInfo) -> Status:
        return Status.error("cannot tell")


class OutOfRange:
    name: ClassVar[str] = "OutOfRange"

    def score(self, pod: Object, node_info: NodeInfo) -> int:
        return 101


def test_a_crashing_plugin_is_an_error_not_a_rejection() -> None:
    result = schedule(make_pod("p"), three_nodes(), Profile([NodeResourcesFit(), Exploding()]))
    assert result.node is None and result.error
    assert result.message == "running \"Exploding\" filter plugin: RuntimeError('boom')"
    result = schedule(make_pod("p"), three_nodes(), Profile([Erroring()]))
    assert result.error and "cannot tell" in result.message


def test_a_score_out_of_range_is_an_error() -> None:
    result = schedule(make_pod("p"), three_nodes(), Profile([OutOfRange()]))
    assert result.error and "invalid score 101" in result.message


def test_a_pre_filter_rejection_covers_all_nodes() -> None:
    result = schedule(make_pod("p"), three_nodes(), Profile([Rejecting(), NodeResourcesFit()]))
    assert result.message == "0/3 nodes are available: pod wants the moon."


def test_the_cycle_does_not_touch_its_inputs() -> None:
    pod, nodes = make_pod("p", cpu="1"), three_nodes()
    before = (repr(pod), [repr(n) for n in nodes])
    schedule(pod, nodes, PROFILE, rng=random.Random(1))
    assert before == (repr(pod), [repr(n) for n in nodes])
