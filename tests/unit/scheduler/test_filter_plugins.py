"""Each filter plugin alone, with Kubernetes' reason strings."""

from __future__ import annotations

from typing import Any

import pytest

from scheduler.framework import SKIP, SUCCESS, Code
from scheduler.plugins.node_affinity import NodeAffinity, requirement_matches, term_matches
from scheduler.plugins.node_name import NodeName
from scheduler.plugins.node_ports import NodePorts
from scheduler.plugins.node_ready import NodeReady
from scheduler.plugins.node_resources_fit import NodeResourcesFit
from scheduler.plugins.node_unschedulable import NodeUnschedulable
from scheduler.plugins.taint_toleration import TaintToleration, tolerates
from tests.unit.scheduler.builders import make_node, make_pod, node_info

UNREACHABLE = {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}

# -- NodeUnschedulable ------------------------------------------------------------------


def test_cordoned_node_rejects_unless_the_pod_tolerates_it() -> None:
    cordoned = node_info(make_node("n", unschedulable=True))
    status = NodeUnschedulable().filter(make_pod("p"), cordoned)
    assert status.code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    assert status.reasons == ("node(s) were unschedulable",)
    tolerant = make_pod("p", tolerations=[{"key": "node.kubernetes.io/unschedulable",
                                           "operator": "Exists", "effect": "NoSchedule"}])
    assert NodeUnschedulable().filter(tolerant, cordoned) == SUCCESS
    assert NodeUnschedulable().filter(make_pod("p"), node_info(make_node("n"))) == SUCCESS


# -- NodeReady ---------------------------------------------------------------------------


@pytest.mark.parametrize(("ready", "taint"), [
    ("False", "node.kubernetes.io/not-ready"),
    (None, "node.kubernetes.io/not-ready"),
    ("Unknown", "node.kubernetes.io/unreachable"),
])
def test_node_that_is_not_ready_rejects_as_its_condition_taint_would(
        ready: str | None, taint: str) -> None:
    status = NodeReady().filter(make_pod("p"), node_info(make_node("n", ready=ready)))
    assert status.reasons == (f"node(s) had untolerated taint {{{taint}: }}",)
    tolerant = make_pod("p", tolerations=[{"key": taint, "operator": "Exists"}])
    assert NodeReady().filter(tolerant, node_info(make_node("n", ready=ready))) == SUCCESS


def test_ready_node_passes() -> None:
    assert NodeReady().filter(make_pod("p"), node_info(make_node("n"))) == SUCCESS


# -- NodeName ------------------------------------------------------------------------------


def test_node_name() -> None:
    n1 = node_info(make_node("n1"))
    assert NodeName().filter(make_pod("p"), n1) == SUCCESS
    assert NodeName().filter(make_pod("p", node_name="n1"), n1) == SUCCESS
    assert NodeName().filter(make_pod("p", node_name="n2"), n1).reasons == (
        "node(s) didn't match the requested node name",)


# -- NodeResourcesFit -------------------------------------------------------------------


def test_fit_counts_requests_of_pods_already_on_the_node() -> None:
    info = node_info(make_node("n", cpu="2", memory="2Gi"), make_pod("a", cpu="1500m"))
    assert NodeResourcesFit().filter(make_pod("p", cpu="500m"), info) == SUCCESS
    status = NodeResourcesFit().filter(make_pod("p", cpu="501m"), info)
    assert status.code is Code.UNSCHEDULABLE
    assert status.reasons == ("Insufficient cpu",)


def test_fit_reports_every_short_resource_and_the_pod_count() -> None:
    info = node_info(make_node("n", cpu="1", memory="1Gi", pods=1), make_pod("a"))
    status = NodeResourcesFit().filter(make_pod("p", cpu="2", memory="2Gi"), info)
    assert status.reasons == ("Too many pods", "Insufficient cpu", "Insufficient memory")


def test_fit_checks_extended_resources_by_name() -> None:
    node = make_node("n")
    node["status"]["allocatable"]["example.com/gpu"] = "1"
    pod = make_pod("p")
    pod["spec"]["containers"][0]["resources"] = {"limits": {"example.com/gpu": "2"}}
    assert NodeResourcesFit().filter(pod, node_info(node)).reasons == (
        "Insufficient example.com/gpu",)


def test_best_effort_pod_fits_a_full_node_with_pod_room() -> None:
    info = node_info(make_node("n", cpu="1"), make_pod("a", cpu="1"))
    assert NodeResourcesFit().filter(make_pod("p"), info) == SUCCESS


# -- TaintToleration --------------------------------------------------------------------


@pytest.mark.parametrize(("toleration", "ok"), [
    ({"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"}, True),
    ({"key": "k", "value": "v"}, True),  # empty operator is Equal, empty effect is any
    ({"key": "k", "operator": "Equal", "value": "w"}, False),
    ({"key": "k", "operator": "Exists"}, True),
    ({"operator": "Exists"}, True),  # empty key with Exists tolerates everything
    ({"key": "k", "operator": "Exists", "effect": "NoExecute"}, False),
    ({"key": "other", "operator": "Exists"}, False),
    ({"key": "k", "operator": "Bogus", "value": "v"}, False),
])
def test_tolerates(toleration: dict[str, Any], ok: bool) -> None:
    assert tolerates(toleration, {"key": "k", "value": "v", "effect": "NoSchedule"}) is ok


def test_taints_reject_with_the_first_untolerated_hard_taint() -> None:
    node = make_node("n", taints=[{"key": "soft", "effect": "PreferNoSchedule"},
                                  {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
                                  UNREACHABLE])
    status = TaintToleration().filter(make_pod("p"), node_info(node))
    assert status.code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    assert status.reasons == ("node(s) had untolerated taint {dedicated: gpu}",)
    pod = make_pod("p", tolerations=[{"key": "dedicated", "value": "gpu"}])
    assert TaintToleration().filter(pod, node_info(node)).reasons == (
        "node(s) had untolerated taint {node.kubernetes.io/unreachable: }",)
    pod["spec"]["tolerations"].append({"key": "node.kubernetes.io/unreachable",
                                       "operator": "Exists", "effect": "NoExecute"})
    assert TaintToleration().filter(pod, node_info(node)) == SUCCESS


# -- NodeAffinity ------------------------------------------------------------------------

LABELS = {"zone": "a", "gen": "5"}


@pytest.mark.parametrize(("op", "values", "ok"), [
    ("In", ["a", "b"], True), ("In", ["b"], False),
    ("NotIn", ["b"], True), ("NotIn", ["a"], False),
    ("Exists", [], True), ("DoesNotExist", [], False),
    ("Gt", ["4"], True), ("Gt", ["5"], False), ("Lt", ["6"], True), ("Lt", ["5"], False),
    ("Gt", ["x"], False), ("Gt", ["1", "2"], False), ("Near", ["a"], False),
])
def test_requirement_operators(op: str, values: list[str], ok: bool) -> None:
    key = "gen" if op in ("Gt", "Lt") else "zone"
    assert requirement_matches({"key": key, "operator": op, "values": values}, LABELS) is ok


def test_absent_label_satisfies_not_in_and_does_not_exist_only() -> None:
    for op, ok in (("NotIn", True), ("DoesNotExist", True), ("In", False), ("Gt", False)):
        assert requirement_matches({"key": "x", "operator": op, "values": ["1"]}, {}) is ok


def test_terms_match_fields_on_the_node_name_and_empty_terms_match_nothing() -> None:
    node = make_node("n1", labels=LABELS)
    by_name = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}
    assert term_matches(by_name, node)
    assert not term_matches({"matchFields": [{"key": "metadata.uid", "operator": "In",
                                              "values": ["n1"]}]}, node)
    assert not term_matches({}, node)
    both = {**by_name, "matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]}
    assert not term_matches(both, node)


def _required(*terms: dict[str, Any]) -> dict[str, Any]:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": list(terms)}}}


def test_node_selector_and_required_affinity() -> None:
    plugin, node = NodeAffinity(), node_info(make_node("n1", labels=LABELS))
    assert plugin.pre_filter(make_pod("p")) == SKIP
    assert plugin.filter(make_pod("p", node_selector={"zone": "a"}), node) == SUCCESS
    wrong = plugin.filter(make_pod("p", node_selector={"zone": "b"}), node)
    assert wrong.code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    assert wrong.reasons == ("node(s) didn't match Pod's node affinity/selector",)
    terms = [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]},
             {"matchExpressions": [{"key": "gen", "operator": "Gt", "values": ["3"]}]}]
    ored = make_pod("p", affinity=_required(*terms))
    assert plugin.pre_filter(ored) == SUCCESS
    assert plugin.filter(ored, node) == SUCCESS
    assert plugin.filter(make_pod("p", affinity=_required(terms[0])), node).is_rejected
    assert plugin.filter(make_pod("p", affinity=_required()), node).is_rejected
    both = make_pod("p", node_selector={"zone": "b"}, affinity=_required(terms[1]))
    assert plugin.filter(both, node).is_rejected


# -- NodePorts ---------------------------------------------------------------------------


def test_host_ports() -> None:
    plugin = NodePorts()
    info = node_info(make_node("n"), make_pod("a", host_ports=[80]))
    assert plugin.pre_filter(make_pod("p")) == SKIP
    assert plugin.pre_filter(make_pod("p", host_ports=[80])) == SUCCESS
    assert plugin.filter(make_pod("p", host_ports=[8080]), info) == SUCCESS
    clash = plugin.filter(make_pod("p", host_ports=[8080, 80]), info)
    assert clash.code is Code.UNSCHEDULABLE
    assert clash.reasons == ("node(s) didn't have free ports for the requested pod ports",)
