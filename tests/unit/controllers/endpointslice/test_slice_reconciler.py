"""Planning slice writes: in-place updates, filling, 100 per slice, stale and placeholder."""

from __future__ import annotations

from typing import Any

from apimachinery.meta import Object
from controllers.endpointslice.desired import Group, desired_groups
from controllers.endpointslice.reconciler import Plan, plan_slices, slice_labels
from tests.unit.controllers.controller_fakes import obj
from tests.unit.controllers.endpointslice.test_slice_desired import NODES, pod, service

PORTS = [{"name": "http", "port": 8080, "protocol": "TCP"}]


def pods(count: int, start: int = 0) -> list[Object]:
    return [pod(f"p{i:03}", f"10.0.{i // 250}.{i % 250 + 1}") for i in range(start, count)]


def groups_for(svc: Object, items: list[Object]) -> dict[Any, Group]:
    return desired_groups(svc, items, NODES)[0]


def stored(plan: Plan, svc: Object) -> list[Object]:
    """The plan's creates, as the apiserver would store them (named, versioned)."""
    out = []
    for i, body in enumerate(plan.create):
        s = obj("endpointslices", f"web-{i:05}", metadata=dict(body["metadata"]),
                addressType=body["addressType"], endpoints=body["endpoints"],
                ports=body["ports"])
        s["metadata"].pop("generateName")
        s["metadata"]["name"] = f"web-{i:05}"
        out.append(s)
    return out


def plan(svc: Object, items: list[Object], existing: list[Object], **kw: Any) -> Plan:
    return plan_slices(svc, groups_for(svc, items), existing, "IPv4", **kw)


def test_a_new_service_gets_one_labelled_owned_slice() -> None:
    svc = service(clusterIP="None")
    svc["metadata"]["labels"] = {"team": "a", "kubernetes.io/service-name": "spoof"}
    p = plan(svc, pods(2), [])
    ((body,),) = [p.create]
    assert (p.update, p.delete) == ([], [])
    assert body["metadata"]["generateName"] == "web-"
    assert body["metadata"]["labels"] == {
        "team": "a", "service.kubernetes.io/headless": "",
        "kubernetes.io/service-name": "web",
        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}
    assert body["metadata"]["ownerReferences"] == [{
        "apiVersion": "v1", "kind": "Service", "name": "web", "uid": "uid-web",
        "controller": True, "blockOwnerDeletion": True}]
    assert body["addressType"] == "IPv4" and body["ports"] == PORTS
    assert [e["addresses"] for e in body["endpoints"]] == [["10.0.0.1"], ["10.0.0.2"]]


def test_at_most_a_hundred_endpoints_per_slice() -> None:
    p = plan(service(), pods(250), [])
    assert [len(b["endpoints"]) for b in p.create] == [100, 100, 50]
    assert len(plan(service(), pods(5), [], max_per_slice=2).create) == 3


def test_nothing_to_write_when_up_to_date() -> None:
    svc = service()
    existing = stored(plan(svc, pods(150), []), svc)
    assert plan(svc, pods(150), existing).empty()


def test_a_new_pod_fills_the_slice_with_room_in_place() -> None:
    svc = service()
    existing = stored(plan(svc, pods(150), []), svc)
    p = plan(svc, pods(151), existing)
    assert (p.create, p.delete) == ([], [])
    ((updated,),) = [p.update]
    assert updated["metadata"]["name"] == "web-00001"
    assert updated["metadata"]["resourceVersion"] == "1"  # an update of the cached object
    assert len(updated["endpoints"]) == 51


def test_a_changed_pod_rewrites_only_its_slice() -> None:
    svc = service()
    items = pods(150)
    existing = stored(plan(svc, items, []), svc)
    items[0]["status"]["conditions"][0]["status"] = "False"
    p = plan(svc, items, existing)
    assert [u["metadata"]["name"] for u in p.update] == ["web-00000"]
    first = p.update[0]["endpoints"][0]
    assert first["conditions"] == {"ready": False, "serving": False, "terminating": False}


def test_a_slice_left_empty_is_deleted() -> None:
    svc = service()
    items = pods(150)
    existing = stored(plan(svc, items, []), svc)
    second = {e["targetRef"]["name"] for e in existing[1]["endpoints"]}
    p = plan(svc, [i for i in items if i["metadata"]["name"] not in second], existing)
    assert [s["metadata"]["name"] for s in p.delete] == ["web-00001"]
    assert (p.create, p.update) == ([], [])


def test_slices_of_ports_no_longer_served_are_replaced() -> None:
    svc = service()
    existing = stored(plan(svc, pods(3), []), svc)
    svc["spec"]["ports"][0]["targetPort"] = 9090
    p = plan(svc, pods(3), existing)
    assert [s["metadata"]["name"] for s in p.delete] == ["web-00000"]
    assert [b["ports"][0]["port"] for b in p.create] == [9090]


def test_no_endpoints_keeps_one_empty_placeholder() -> None:
    svc = service()
    (body,) = plan(svc, [], []).create
    assert (body["endpoints"], body["ports"], body["addressType"]) == ([], [], "IPv4")
    placeholder = stored(plan(svc, [], []), svc)
    assert plan(svc, [], placeholder).empty()
    existing = stored(plan(svc, pods(2), []), svc)
    p = plan(svc, [], existing)
    assert [s["metadata"]["name"] for s in p.delete] == ["web-00000"]
    assert [b["endpoints"] for b in p.create] == [[]]


def test_the_placeholder_goes_once_there_are_endpoints() -> None:
    svc = service()
    placeholder = stored(plan(svc, [], []), svc)
    p = plan(svc, pods(1), placeholder)
    assert [s["metadata"]["name"] for s in p.delete] == ["web-00000"]
    assert len(p.create) == 1


def test_labels_follow_the_service() -> None:
    svc = service()
    existing = stored(plan(svc, pods(1), []), svc)
    svc["metadata"]["labels"] = {"tier": "front"}
    (updated,) = plan(svc, pods(1), existing).update
    assert updated["metadata"]["labels"] == slice_labels(svc)
    assert updated["metadata"]["labels"]["tier"] == "front"
