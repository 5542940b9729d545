"""The endpointslice controller's pure part: pods to endpoints, grouped by their ports."""

from __future__ import annotations

from typing import Any

import pytest

from apimachinery.meta import Object
from controllers.endpointslice.desired import (
    address_types,
    desired_groups,
    endpoint_ports,
    should_be_in_slices,
)
from tests.unit.controllers.controller_fakes import obj

NAMED = [{"name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"}]


def service(ports: list[Object] | None = None, **spec: Any) -> Object:
    return obj("services", "web", spec={
        "selector": {"app": "web"}, "ipFamilies": ["IPv4"],
        "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]
        if ports is None else ports, **spec})


def pod(name: str, ip: str = "", *, ready: bool = True, phase: str = "Running",
        deleting: bool = False, container_ports: list[Object] | None = None,
        node: str = "n1", **spec: Any) -> Object:
    metadata: Object = {"labels": {"app": "web"}}
    if deleting:
        metadata["deletionTimestamp"] = "2024-01-01T00:01:00Z"
    status: Object = {"phase": phase, "conditions": [
        {"type": "Ready", "status": "True" if ready else "False"}]}
    if ip:
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
    return obj("pods", name, metadata=metadata, spec={
        "nodeName": node, **spec,
        "containers": [{"name": "c", "image": "busybox", "ports": container_ports or []}]},
        status=status)


def node(name: str = "n1", zone: str | None = None) -> Object:
    labels = {"topology.kubernetes.io/zone": zone} if zone else {}
    return obj("nodes", name, metadata={"labels": labels})


NODES = {"n1": node()}


def endpoints_of(svc: Object, pods: list[Object], nodes: dict[str, Object] = NODES
                 ) -> list[list[Object]]:
    groups, _ = desired_groups(svc, pods, nodes)
    return [list(g.endpoints.values()) for g in groups.values()]


def test_an_endpoint_is_kubernetes_shape() -> None:
    ((endpoint,),) = endpoints_of(service(), [pod("a", "10.0.0.1")],
                                  {"n1": node(zone="zone-a")})
    assert endpoint == {
        "addresses": ["10.0.0.1"],
        "conditions": {"ready": True, "serving": True, "terminating": False},
        "targetRef": {"kind": "Pod", "namespace": "ns", "name": "a", "uid": "uid-a"},
        "nodeName": "n1", "zone": "zone-a"}


@pytest.mark.parametrize(("kwargs", "publish", "conditions"), [
    ({}, False, (True, True, False)),
    ({"ready": False}, False, (False, False, False)),
    ({"deleting": True}, False, (False, True, True)),
    ({"deleting": True, "ready": False}, False, (False, False, True)),
    ({"ready": False}, True, (True, False, False)),
    ({"deleting": True}, True, (True, True, True)),
], ids=["ready", "not-ready", "terminating-serving", "terminating-not-serving",
        "publish-not-ready", "publish-terminating"])
def test_conditions_as_kubernetes_computes_them(kwargs: dict[str, Any], publish: bool,
                                                conditions: tuple[bool, bool, bool]) -> None:
    svc = service(publishNotReadyAddresses=publish)
    ((endpoint,),) = endpoints_of(svc, [pod("a", "10.0.0.1", **kwargs)])
    c = endpoint["conditions"]
    assert (c["ready"], c["serving"], c["terminating"]) == conditions


def test_pods_without_ip_or_finished_are_left_out_terminating_stay() -> None:
    assert not should_be_in_slices(pod("a"))
    assert should_be_in_slices(pod("a", "10.0.0.1", deleting=True))
    assert should_be_in_slices(pod("a", "10.0.0.1", phase="Pending"))
    for phase in ("Succeeded", "Failed"):
        assert not should_be_in_slices(pod("a", "10.0.0.1", phase=phase))


def test_named_target_ports_resolve_per_pod_into_separate_groups() -> None:
    pods = [pod("a", "10.0.0.1", container_ports=[{"name": "web", "containerPort": 8080}]),
            pod("b", "10.0.0.2", container_ports=[{"name": "web", "containerPort": 9090}]),
            pod("c", "10.0.0.3", container_ports=[{"name": "web", "containerPort": 8080}])]
    groups, _ = desired_groups(service(NAMED), pods, NODES)
    shown = sorted((tuple(p["port"] for p in g.ports),
                    sorted(e["targetRef"]["name"] for e in g.endpoints.values()))
                   for g in groups.values())
    assert shown == [((8080,), ["a", "c"]), ((9090,), ["b"])]


def test_a_pod_without_the_named_port_serves_no_ports_but_stays() -> None:
    groups, _ = desired_groups(service(NAMED), [pod("a", "10.0.0.1")], NODES)
    ((group),) = groups.values()
    assert group.ports == [] and len(group.endpoints) == 1


def test_endpoint_ports_carry_name_protocol_and_app_protocol() -> None:
    svc = service([{"port": 53, "targetPort": 5353, "protocol": "UDP"},
                   {"name": "h2", "port": 443, "targetPort": 8443, "appProtocol": "http2"}])
    assert endpoint_ports(svc, pod("a", "10.0.0.1")) == [
        {"name": "", "port": 5353, "protocol": "UDP"},
        {"name": "h2", "port": 8443, "protocol": "TCP", "appProtocol": "http2"}]


def test_hostname_only_when_the_pods_subdomain_is_the_service() -> None:
    pods = [pod("web-0", "10.0.0.1", hostname="web-0", subdomain="web"),
            pod("x-0", "10.0.0.2", hostname="x-0", subdomain="other")]
    ((first, second),) = endpoints_of(service(), pods)
    assert first["hostname"] == "web-0" and "hostname" not in second


def test_pods_on_unknown_nodes_wait_and_unselected_pods_are_ignored() -> None:
    other = pod("o", "10.0.0.9")
    other["metadata"]["labels"] = {"app": "other"}
    groups, waiting = desired_groups(service(), [pod("a", "10.0.0.1", node="gone"), other],
                                     NODES)
    assert (groups, waiting) == ({}, ["a"])


def test_address_types_follow_ip_families_then_the_cluster_ip() -> None:
    assert address_types(service(ipFamilies=["IPv6", "IPv4"])) == ["IPv6", "IPv4"]
    assert address_types(service(ipFamilies=[], clusterIP="fd00::1")) == ["IPv6"]
    assert address_types(service(ipFamilies=[], clusterIP="None")) == ["IPv4"]


def test_an_ipv6_slice_takes_only_the_pods_ipv6_address() -> None:
    p = pod("a", "10.0.0.1")
    p["status"]["podIPs"] = [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}]
    groups, _ = desired_groups(service(ipFamilies=["IPv4", "IPv6"]), [p], NODES)
    assert sorted((g.address_type, e["addresses"]) for g in groups.values()
                  for e in g.endpoints.values()) == [("IPv4", ["10.0.0.1"]),
                                                     ("IPv6", ["fd00::1"])]
