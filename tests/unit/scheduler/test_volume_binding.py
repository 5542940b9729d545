"""VolumeBinding: a pod goes back to the node that holds its claim's volume."""

from __future__ import annotations

from apimachinery.meta import Object
from scheduler.cycle import schedule
from scheduler.plugins import default_profile
from scheduler.plugins.volume_binding import VolumeBinding, attached_claim
from tests.unit.scheduler.builders import make_node, make_pod, node_info


def with_claims(node: Object, *claims: str) -> Object:
    node["status"]["volumesAttached"] = [{"name": attached_claim("default", c),
                                          "devicePath": f"schooner-pvc-default-{c}"}
                                         for c in claims]
    return node


def claiming(pod: Object, claim: str) -> Object:
    pod["spec"]["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]
    return pod


def test_a_pod_without_claims_may_go_anywhere() -> None:
    nodes = [node_info(with_claims(make_node("n1"), "data-pg-0")), node_info(make_node("n2"))]
    assert VolumeBinding().candidate_nodes(make_pod("p"), nodes) is None


def test_a_claim_held_nowhere_lets_every_node_in() -> None:
    nodes = [node_info(make_node("n1")), node_info(make_node("n2"))]
    assert VolumeBinding().candidate_nodes(claiming(make_pod("p"), "data-pg-0"), nodes) is None


def test_the_pod_goes_to_the_node_holding_its_claim() -> None:
    nodes = [node_info(make_node("n1")), node_info(with_claims(make_node("n2"), "data-pg-0")),
             node_info(make_node("n3"))]
    pod = claiming(make_pod("pg-0"), "data-pg-0")
    for _ in range(10):
        assert schedule(pod, nodes, default_profile()).node == "n2"


def test_the_holding_node_full_leaves_the_pod_pending_with_kubernetes_reason() -> None:
    nodes = [node_info(with_claims(make_node("n1", cpu="1"), "data-pg-0")),
             node_info(make_node("n2")), node_info(make_node("n3"))]
    result = schedule(claiming(make_pod("pg-0", cpu="2"), "data-pg-0"), nodes, default_profile())
    assert result.node is None
    assert result.message == ("0/3 nodes are available: 1 Insufficient cpu, "
                              "2 node(s) had volume node affinity conflict.")


def test_a_claim_in_another_namespace_does_not_bind() -> None:
    node = make_node("n1")
    node["status"]["volumesAttached"] = [{"name": attached_claim("other", "data-pg-0")}]
    nodes = [node_info(node), node_info(make_node("n2"))]
    assert VolumeBinding().candidate_nodes(claiming(make_pod("p"), "data-pg-0"), nodes) is None
