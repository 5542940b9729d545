"""The framework's pure pieces: requests, NodeInfo, Status, scores, and the FitError message."""

from __future__ import annotations

import pytest

from scheduler.framework import (
    DEFAULT_MEMORY_REQUEST,
    Code,
    HostPort,
    NodeInfo,
    Profile,
    Resource,
    Status,
    default_normalize_score,
    host_port_conflicts,
    pod_host_ports,
    pod_requests,
    unschedulable_message,
)
from scheduler.plugins import WEIGHTS, default_profile
from tests.unit.scheduler.builders import make_node, make_pod

# -- the FitError message, exactly as Kubernetes prints it ---------------------------------


def test_message_counts_each_reason_once_per_node() -> None:
    assert unschedulable_message(3, ["Insufficient cpu"] * 3) == (
        "0/3 nodes are available: 3 Insufficient cpu.")


def test_message_sorts_the_count_prefixed_strings_like_go_sort_strings() -> None:
    reasons = ["Insufficient cpu", "Insufficient cpu",
               "node(s) had untolerated taint {node.kubernetes.io/unreachable: }"]
    assert unschedulable_message(3, reasons) == (
        "0/3 nodes are available: 1 node(s) had untolerated taint "
        "{node.kubernetes.io/unreachable: }, 2 Insufficient cpu.")


def test_message_with_several_reasons_for_one_node() -> None:
    reasons = ["Insufficient cpu", "Insufficient memory", "node(s) were unschedulable"]
    assert unschedulable_message(2, reasons) == (
        "0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, "
        "1 node(s) were unschedulable.")


def test_message_from_a_pre_filter_replaces_the_histogram() -> None:
    assert unschedulable_message(4, ["ignored"], pre_filter_message="pod has conflicts") == (
        "0/4 nodes are available: pod has conflicts.")


def test_message_without_reasons_ends_at_the_colon() -> None:
    assert unschedulable_message(0, []) == "0/0 nodes are available:"


# -- Status -------------------------------------------------------------------------------


def test_status_kinds() -> None:
    assert Status().is_success
    rejected = Status.unschedulable("Insufficient cpu", "Insufficient memory")
    assert rejected.is_rejected and not rejected.is_success
    assert rejected.message == "Insufficient cpu, Insufficient memory"
    assert Status.unresolvable("x").code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    assert Status.error("boom").code is Code.ERROR and not Status.error("boom").is_rejected


# -- requests -----------------------------------------------------------------------------


def test_resource_list_parses_quantities_and_keeps_extended_resources() -> None:
    res = Resource.from_list({"cpu": "1.5", "memory": "1Gi", "pods": "110",
                              "nvidia.com/gpu": "2", "ephemeral-storage": "1G"})
    assert res == Resource(1500, 2**30, 10**9, {"nvidia.com/gpu": 2})


def test_pod_requests_sum_containers_and_use_limits_when_requests_are_missing() -> None:
    pod = make_pod("p", cpu="250m", memory="64Mi")
    pod["spec"]["containers"].append({"name": "b", "image": "x", "resources": {
        "limits": {"cpu": "1", "memory": "128Mi"}}})
    assert pod_requests(pod) == Resource(1250, 192 * 2**20)


def test_init_containers_count_as_their_peak_and_sidecars_add_up() -> None:
    pod = make_pod("p", cpu="100m")
    pod["spec"]["initContainers"] = [
        {"name": "big", "image": "x", "resources": {"requests": {"cpu": "2"}}},
        {"name": "side", "image": "x", "restartPolicy": "Always",
         "resources": {"requests": {"cpu": "200m"}}},
    ]
    pod["spec"]["overhead"] = {"cpu": "10m"}
    # max(100m + 200m sidecar, 2000m init peak) + 10m overhead
    assert pod_requests(pod).milli_cpu == 2010


def test_non_zero_requests_give_best_effort_containers_defaults() -> None:
    request = pod_requests(make_pod("p"), non_zero=True)
    assert (request.milli_cpu, request.memory) == (100, DEFAULT_MEMORY_REQUEST)
    assert pod_requests(make_pod("p", cpu="2"), non_zero=True).milli_cpu == 2000


# -- NodeInfo and host ports ----------------------------------------------------------------


def test_node_info_adds_up_its_pods() -> None:
    info = NodeInfo.build(make_node("n1", cpu="4", pods=10),
                          [make_pod("a", cpu="1", host_ports=[80]), make_pod("b", memory="1Gi")])
    assert info.name == "n1"
    assert info.requested == Resource(1000, 2**30)
    assert info.non_zero_requested == Resource(1100, 2**30 + DEFAULT_MEMORY_REQUEST)
    assert info.used_ports == {HostPort("0.0.0.0", "TCP", 80)}
    assert info.allocatable.milli_cpu == 4000 and info.allowed_pod_number == 10


def test_with_pod_leaves_the_original_alone() -> None:
    info = NodeInfo.build(make_node("n1"))
    bigger = info.with_pod(make_pod("a", cpu="1"))
    assert info.pods == () and len(bigger.pods) == 1


@pytest.mark.parametrize(("wanted", "used", "conflict"), [
    (HostPort("0.0.0.0", "TCP", 80), HostPort("10.0.0.1", "TCP", 80), True),
    (HostPort("10.0.0.1", "TCP", 80), HostPort("0.0.0.0", "TCP", 80), True),
    (HostPort("10.0.0.1", "TCP", 80), HostPort("10.0.0.1", "TCP", 80), True),
    (HostPort("10.0.0.1", "TCP", 80), HostPort("10.0.0.2", "TCP", 80), False),
    (HostPort("0.0.0.0", "UDP", 80), HostPort("0.0.0.0", "TCP", 80), False),
    (HostPort("0.0.0.0", "TCP", 81), HostPort("0.0.0.0", "TCP", 80), False),
])
def test_host_port_conflicts(wanted: HostPort, used: HostPort, conflict: bool) -> None:
    assert host_port_conflicts(wanted, [used]) is conflict


def test_pod_host_ports_default_ip_and_protocol() -> None:
    pod = make_pod("p")
    pod["spec"]["containers"][0]["ports"] = [
        {"containerPort": 53, "hostPort": 53, "protocol": "UDP", "hostIP": "10.0.0.1"},
        {"containerPort": 8080}]
    assert pod_host_ports(pod) == [HostPort("10.0.0.1", "UDP", 53)]


# -- scores and the profile -------------------------------------------------------------


def test_default_normalize_score() -> None:
    assert default_normalize_score({"a": 2, "b": 4, "c": 0}) == {"a": 50, "b": 100, "c": 0}
    assert default_normalize_score({"a": 2, "b": 4}, reverse=True) == {"a": 50, "b": 0}
    assert default_normalize_score({"a": 0, "b": 0}, reverse=True) == {"a": 100, "b": 100}
    assert default_normalize_score({"a": 0}) == {"a": 0}


def test_default_profile_sorts_plugins_by_extension_point() -> None:
    profile = default_profile()
    assert [p.name for p in profile.filters] == [
        "NodeUnschedulable", "NodeName", "NodeReady", "TaintToleration", "NodeAffinity",
        "NodePorts", "NodeResourcesFit"]
    assert {p.name for p in profile.pre_filters} == {"NodeAffinity", "NodePorts"}
    assert {p.name for p in profile.scorers} == set(WEIGHTS)
    assert profile.weight(profile.scorers[0]) == WEIGHTS[profile.scorers[0].name]
    assert Profile(plugins=()).filters == []
