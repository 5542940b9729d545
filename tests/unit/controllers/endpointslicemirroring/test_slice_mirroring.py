"""The endpointslicemirroring controller: hand-made Endpoints mirrored into slices."""

from __future__ import annotations

from typing import Any

from apimachinery.meta import Object
from controllers.endpointslicemirroring import EndpointSliceMirroringController
from controllers.endpointslicemirroring.desired import (
    mirror_owner,
    mirrored_groups,
    should_mirror,
)
from tests.unit.controllers.controller_fakes import FakeClient, obj, run, started

PORTS = [{"name": "pg", "port": 5432, "protocol": "TCP"}]
MIRRORED_PORTS = [{"name": "pg", "port": 5432, "protocol": "TCP"}]


def service(**spec: Any) -> Object:
    return obj("services", "db", spec={"ports": [{"name": "pg", "port": 5432}], **spec})


def endpoints(*ips: str, not_ready: tuple[str, ...] = (), labels: dict[str, str] | None = None,
              **md: Any) -> Object:
    return obj("endpoints", "db", metadata={"labels": labels or {}, **md}, subsets=[{
        "addresses": [{"ip": ip} for ip in ips],
        "notReadyAddresses": [{"ip": ip} for ip in not_ready], "ports": PORTS}])


def mirrored(name: str, endpoint_list: list[Object], service_name: str = "db") -> Object:
    return obj("endpointslices", name, metadata={
        "labels": {"kubernetes.io/service-name": service_name,
                   "endpointslice.kubernetes.io/managed-by":
                       "endpointslicemirroring-controller.k8s.io"},
        "ownerReferences": [{"apiVersion": "v1", "kind": "Endpoints", "name": "db",
                             "uid": "uid-db", "controller": True,
                             "blockOwnerDeletion": True}]},
        addressType="IPv4", endpoints=endpoint_list, ports=MIRRORED_PORTS)


def ep(ip: str, ready: bool = True) -> Object:
    return {"addresses": [ip], "conditions": {"ready": ready}}


def build(client: FakeClient, factory: Any, clock: Any) -> EndpointSliceMirroringController:
    return EndpointSliceMirroringController(client, factory, clock=clock)


def test_ready_and_not_ready_addresses_become_endpoints_with_hostname_and_node() -> None:
    eps = obj("endpoints", "db", subsets=[{
        "addresses": [{"ip": "10.0.0.1", "hostname": "db-0", "nodeName": "n1"},
                      {"ip": "fd00::0001"}, {"ip": "nope"}],
        "notReadyAddresses": [{"ip": "10.0.0.2"}], "ports": [{"port": 5432}]}])
    groups, skipped = mirrored_groups(eps)
    by_type = {g.address_type: g for g in groups.values()}
    assert skipped == 0
    assert list(by_type["IPv4"].endpoints.values()) == [
        {"addresses": ["10.0.0.1"], "conditions": {"ready": True}, "hostname": "db-0",
         "nodeName": "n1"}, ep("10.0.0.2", ready=False)]
    assert by_type["IPv4"].ports == [{"name": "", "port": 5432, "protocol": "TCP"}]
    assert list(by_type["IPv6"].endpoints.values()) == [ep("fd00::1")]


def test_at_most_max_per_subset_addresses_are_mirrored_ready_first() -> None:
    groups, skipped = mirrored_groups(endpoints("10.0.0.1", "10.0.0.2", not_ready=("10.0.0.3",)),
                                      max_per_subset=2)
    (group,) = groups.values()
    assert [e["addresses"][0] for e in group.endpoints.values()] == ["10.0.0.1", "10.0.0.2"]
    assert skipped == 1


def test_skip_mirror_and_leader_election_endpoints_are_not_mirrored() -> None:
    assert should_mirror(endpoints("10.0.0.1"))
    assert not should_mirror(endpoints(labels={"endpointslice.kubernetes.io/skip-mirror": "true"}))
    assert not should_mirror(endpoints(annotations={
        "control-plane.alpha.kubernetes.io/leader": "{}"}))


def test_the_owner_keeps_the_endpoints_labels_and_sets_the_reserved_ones() -> None:
    owner = mirror_owner(endpoints(labels={"app": "db", "kubernetes.io/service-name": "x"}))
    assert owner.labels == {"app": "db", "kubernetes.io/service-name": "db",
                            "endpointslice.kubernetes.io/managed-by":
                                "endpointslicemirroring-controller.k8s.io"}
    assert owner.reference["kind"] == "Endpoints" and owner.reference["controller"] is True
    assert not owner.placeholder


def test_creates_a_mirrored_slice_for_a_selectorless_service() -> None:
    client = FakeClient([service(), endpoints("10.0.0.1", not_ready=("10.0.0.2",))])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("ns/db")
        ((verb, plural, name, body),) = client.actions
        assert (verb, plural, name) == ("create", "endpointslices", "db-1")
        assert body["endpoints"] == [ep("10.0.0.1"), ep("10.0.0.2", ready=False)]
        assert body["ports"] == MIRRORED_PORTS
        assert body["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == \
            "endpointslicemirroring-controller.k8s.io"
        assert body["metadata"]["ownerReferences"][0]["kind"] == "Endpoints"
    run(scenario)


def test_updates_in_place_and_writes_nothing_when_up_to_date() -> None:
    client = FakeClient([service(), endpoints("10.0.0.1", "10.0.0.3"),
                         mirrored("db-x", [ep("10.0.0.1")])])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("ns/db")
        ((verb, _, name, body),) = client.actions
        assert (verb, name) == ("update", "db-x")
        assert body["endpoints"] == [ep("10.0.0.1"), ep("10.0.0.3")]
    run(scenario)
    same = FakeClient([service(), endpoints("10.0.0.1"), mirrored("db-x", [ep("10.0.0.1")])])

    async def unchanged() -> None:
        async with started(same, build) as (ctrl, _):
            await ctrl.reconcile("ns/db")
        assert same.actions == []
    run(unchanged)


def test_mirrored_slices_go_when_the_service_has_a_selector_or_is_gone() -> None:
    for objects in ([service(selector={"app": "db"}), endpoints("10.0.0.1")],
                    [endpoints("10.0.0.1")],
                    [service()],
                    [service(), endpoints("10.0.0.1",
                                          labels={"endpointslice.kubernetes.io/skip-mirror":
                                                  "true"})]):
        client = FakeClient([*objects, mirrored("db-x", [ep("10.0.0.1")])])

        async def scenario(client: FakeClient = client) -> None:
            async with started(client, build) as (ctrl, _):
                await ctrl.reconcile("ns/db")
            assert [(a[0], a[2]) for a in client.actions] == [("delete", "db-x")]
        run(scenario)


def test_an_endpoints_without_addresses_gets_no_slice_and_loses_its_old_one() -> None:
    client = FakeClient([service(), endpoints(), mirrored("db-x", [ep("10.0.0.1")])])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("ns/db")
        assert [(a[0], a[2]) for a in client.actions] == [("delete", "db-x")]
    run(scenario)


def test_slices_of_other_managers_are_left_alone() -> None:
    other = mirrored("db-hand", [ep("10.0.0.9")])
    other["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] = "me.example.com"
    client = FakeClient([service(), endpoints("10.0.0.1"), other])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("ns/db")
        assert [(a[0], a[2]) for a in client.actions] == [("create", "db-1")]
    run(scenario)
