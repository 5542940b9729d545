"""Service allocation decisions: what is claimed, released and filled in, with no etcd.

The fake storage only answers `list_keys` (the taken values of a range); the
transactions that write the claims are covered by tests/integration/test_services.py.
"""

from __future__ import annotations

import asyncio
import copy
import random
from typing import Any

import pytest

from apimachinery import errors
from apiserver.kinds.core.service import ipallocator, portallocator
from apiserver.kinds.core.service.allocation import (
    ServiceAllocator,
    drop_type_dependent_fields,
    normalize_cluster_ips,
    patch_allocated_values,
)
from apiserver.kinds.core.service.ipallocator import ServiceIPRange
from apiserver.kinds.core.service.portallocator import PortRange
from apiserver.storage import Reservations

OWNER = "ns/web/uid-1"


class FakeRanges:
    """The reservation keys etcd would hold: `list_keys` is all the allocator reads."""

    def __init__(self, keys: dict[str, str] | None = None) -> None:
        self.keys = dict(keys or {})

    async def list_keys(self, prefix: str) -> set[str]:
        return {k[len(prefix):] for k in self.keys if k.startswith(prefix)}

    def apply(self, reservations: Reservations) -> None:
        for key in reservations.release:
            del self.keys[key]
        for key, owner in reservations.claim.items():
            assert key not in self.keys, f"{key} claimed twice"
            self.keys[key] = owner


def service(svc_type: str = "ClusterIP", ports: list[dict[str, Any]] | None = None,
            **spec: Any) -> dict[str, Any]:
    return {"metadata": {"namespace": "ns", "name": "web", "uid": "uid-1"},
            "spec": {"type": svc_type, "ports": ports or [{"name": "http", "port": 80}],
                     **spec}}


def allocator(ranges: FakeRanges, node_ports: str = "30000-32767") -> ServiceAllocator:
    return ServiceAllocator(ranges, ServiceIPRange.parse("172.28.255.0/24"),  # type: ignore[arg-type]
                            PortRange.parse(node_ports), random.Random(42))


def allocate(alloc: ServiceAllocator, new: dict[str, Any],
             old: dict[str, Any] | None = None) -> Reservations:
    return asyncio.run(alloc.allocate(new, old))


def field_errors(exc: pytest.ExceptionInfo[errors.Invalid]) -> list[str]:
    return [str(e) for e in exc.value.errors]


# -- create -------------------------------------------------------------------------


def test_cluster_ip_service_gets_a_free_ip_and_claims_it() -> None:
    ranges = FakeRanges()
    svc = service()
    res = allocate(allocator(ranges), svc)
    ip = svc["spec"]["clusterIP"]
    assert svc["spec"]["clusterIPs"] == [ip]
    assert svc["spec"]["ipFamilies"] == ["IPv4"]
    assert svc["spec"]["ipFamilyPolicy"] == "SingleStack"
    assert res.claim == {ipallocator.key(ip): OWNER} and not res.release
    assert ip != "172.28.255.1"


def test_explicit_ip_is_honoured_or_rejected_with_the_field_path() -> None:
    ranges = FakeRanges({ipallocator.key("172.28.255.10"): "other/svc/u"})
    svc = service(clusterIP="172.28.255.20")
    assert allocate(allocator(ranges), svc).claim == {
        ipallocator.key("172.28.255.20"): OWNER}
    with pytest.raises(errors.Invalid) as exc:
        allocate(allocator(ranges), service(clusterIP="10.0.0.1"))
    assert field_errors(exc) == [
        'spec.clusterIP: Invalid value: "10.0.0.1": provided IP is not in the valid range. '
        "The range of valid IPs is 172.28.255.0/24"]
    with pytest.raises(errors.Invalid) as exc:
        allocate(allocator(ranges), service(clusterIP="172.28.255.10"))
    assert field_errors(exc) == [
        'spec.clusterIP: Invalid value: "172.28.255.10": provided IP is already allocated']


@pytest.mark.parametrize(("spec", "expected"), [
    ({"clusterIPs": ["172.28.255.9"]}, "must be empty when `clusterIP` is not specified"),
    ({"clusterIP": "172.28.255.9", "clusterIPs": ["172.28.255.8"]},
     "first value must match `clusterIP`"),
    ({"clusterIP": "172.28.255.9", "clusterIPs": ["172.28.255.9", "fd00::9"]},
     "single-stack"),
])
def test_cluster_ips_must_agree_with_cluster_ip(spec: dict[str, Any], expected: str) -> None:
    with pytest.raises(errors.Invalid) as exc:
        allocate(allocator(FakeRanges()), service(**spec))
    assert exc.value.errors[0].path == "spec.clusterIPs"
    assert expected in exc.value.errors[0].message


def test_headless_and_external_name_hold_no_address() -> None:
    headless = service(clusterIP="None")
    assert not allocate(allocator(FakeRanges()), headless).claim
    assert headless["spec"]["clusterIPs"] == ["None"]
    external = service("ExternalName", externalName="db.example.com")
    assert not allocate(allocator(FakeRanges()), external).claim
    assert "clusterIP" not in external["spec"]


def test_node_ports_are_allocated_for_each_port_and_explicit_ones_checked() -> None:
    ranges = FakeRanges({portallocator.key(30080): "other/svc/u"})
    svc = service("NodePort", [{"name": "a", "port": 80, "nodePort": 30081},
                               {"name": "b", "port": 81}])
    res = allocate(allocator(ranges), svc)
    auto = svc["spec"]["ports"][1]["nodePort"]
    assert 30000 <= auto <= 32767 and auto not in (30080, 30081)
    assert set(res.claim) == {ipallocator.key(svc["spec"]["clusterIP"]),
                              portallocator.key(30081), portallocator.key(auto)}
    with pytest.raises(errors.Invalid) as exc:
        allocate(allocator(ranges), service("NodePort", [{"port": 80, "nodePort": 30080}]))
    assert field_errors(exc) == [
        "spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated"]


def test_node_port_out_of_a_configured_range_names_the_range() -> None:
    with pytest.raises(errors.Invalid) as exc:
        allocate(allocator(FakeRanges(), "31000-31999"),
                 service("NodePort", [{"port": 80, "nodePort": 30080}]))
    assert "The range of valid ports is 31000-31999" in field_errors(exc)[0]


def test_one_node_port_may_serve_tcp_and_udp_but_not_twice_one_protocol() -> None:
    dns = service("NodePort", [{"name": "udp", "port": 53, "protocol": "UDP", "nodePort": 30053},
                               {"name": "tcp", "port": 53, "protocol": "TCP", "nodePort": 30053}])
    res = allocate(allocator(FakeRanges()), dns)
    assert portallocator.key(30053) in res.claim
    twice = service("NodePort", [{"name": "a", "port": 1, "nodePort": 30001},
                                 {"name": "b", "port": 2, "nodePort": 30001}])
    with pytest.raises(errors.Invalid) as exc:
        allocate(allocator(FakeRanges()), twice)
    assert field_errors(exc) == ["spec.ports[1].nodePort: Duplicate value: 30001"]


def test_load_balancer_may_opt_out_of_node_ports() -> None:
    svc = service("LoadBalancer", allocateLoadBalancerNodePorts=False)
    res = allocate(allocator(FakeRanges()), svc)
    assert "nodePort" not in svc["spec"]["ports"][0]
    assert all(k.startswith(ipallocator.PREFIX) for k in res.claim)


def test_full_ranges_are_internal_errors() -> None:
    tiny = ServiceAllocator(FakeRanges({ipallocator.key("10.0.0.2"): "x"}),  # type: ignore[arg-type]
                            ServiceIPRange.parse("10.0.0.0/30"), PortRange.parse("30000"))
    with pytest.raises(errors.InternalError, match="range is full"):
        asyncio.run(tiny.allocate(service(), None))


# -- update and delete --------------------------------------------------------------


def created(ranges: FakeRanges, svc: dict[str, Any]) -> dict[str, Any]:
    ranges.apply(allocate(allocator(ranges), svc))
    return svc


def test_an_unchanged_update_claims_and_releases_nothing() -> None:
    ranges = FakeRanges()
    old = created(ranges, service("NodePort"))
    res = allocate(allocator(ranges), copy.deepcopy(old), old)
    assert res == Reservations()


def test_changing_a_node_port_claims_the_new_and_releases_the_old() -> None:
    ranges = FakeRanges()
    old = created(ranges, service("NodePort", [{"name": "http", "port": 80,
                                                "nodePort": 30100}]))
    new = copy.deepcopy(old)
    new["spec"]["ports"][0]["nodePort"] = 30200
    res = allocate(allocator(ranges), new, old)
    assert res.claim == {portallocator.key(30200): OWNER}
    assert res.release == {portallocator.key(30100): OWNER}


def test_type_change_to_cluster_ip_releases_node_ports() -> None:
    ranges = FakeRanges()
    old = created(ranges, service("NodePort"))
    new = copy.deepcopy(old)
    new["spec"]["type"] = "ClusterIP"
    drop_type_dependent_fields(new, old)
    assert "nodePort" not in new["spec"]["ports"][0]
    assert "externalTrafficPolicy" not in new["spec"]
    res = allocate(allocator(ranges), new, old)
    assert res.release == {portallocator.key(old["spec"]["ports"][0]["nodePort"]): OWNER}
    assert not res.claim


def test_type_change_to_external_name_releases_the_address() -> None:
    ranges = FakeRanges()
    old = created(ranges, service())
    new = copy.deepcopy(old)
    new["spec"].update(type="ExternalName", externalName="db.example.com")
    drop_type_dependent_fields(new, old)
    assert not {"clusterIP", "clusterIPs", "ipFamilies"} & set(new["spec"])
    res = allocate(allocator(ranges), new, old)
    assert res.release == {ipallocator.key(old["spec"]["clusterIP"]): OWNER}


def test_delete_releases_everything_held() -> None:
    ranges = FakeRanges()
    old = created(ranges, service("NodePort"))
    ranges.apply(allocator(ranges).release(old))
    assert ranges.keys == {}


# -- what an update keeps -----------------------------------------------------------


def test_patch_allocated_values_keeps_what_the_client_omitted() -> None:
    old = service("NodePort", [{"name": "http", "port": 80, "nodePort": 30100},
                               {"name": "admin", "port": 81, "nodePort": 30101}],
                  clusterIP="172.28.255.7", clusterIPs=["172.28.255.7"])
    new = service("NodePort", [{"name": "http", "port": 8080}, {"name": "admin", "port": 81}])
    patch_allocated_values(new, old)
    assert new["spec"]["clusterIP"] == "172.28.255.7"
    assert new["spec"]["clusterIPs"] == ["172.28.255.7"]
    assert [p["nodePort"] for p in new["spec"]["ports"]] == [30100, 30101]


def test_patch_allocated_values_never_gives_one_node_port_to_two_ports() -> None:
    old = service("NodePort", [{"name": "a", "port": 1, "nodePort": 30100},
                               {"name": "b", "port": 2, "nodePort": 30101}])
    new = service("NodePort", [{"name": "a", "port": 1}, {"name": "b", "port": 2,
                                                          "nodePort": 30100}])
    patch_allocated_values(new, old)
    assert "nodePort" not in new["spec"]["ports"][0]


def test_a_changed_node_port_survives_a_type_change_for_validation_to_judge() -> None:
    old = service("NodePort", [{"name": "http", "port": 80, "nodePort": 30100}])
    new = service("ClusterIP", [{"name": "http", "port": 80, "nodePort": 30999}])
    drop_type_dependent_fields(new, old)
    assert new["spec"]["ports"][0]["nodePort"] == 30999


@pytest.mark.parametrize(("new_spec", "old_spec", "expected"), [
    ({"clusterIP": "1.1.1.1"}, None, ["1.1.1.1"]),
    ({"clusterIP": "1.1.1.1"}, {"clusterIP": "1.1.1.1", "clusterIPs": ["1.1.1.1"]},
     ["1.1.1.1"]),
    ({}, {"clusterIP": "1.1.1.1", "clusterIPs": ["1.1.1.1"]}, None),
])
def test_normalize_cluster_ips(new_spec: dict[str, Any], old_spec: dict[str, Any] | None,
                               expected: list[str] | None) -> None:
    new = {"spec": dict(new_spec)}
    normalize_cluster_ips(new, None if old_spec is None else {"spec": old_spec})
    assert new["spec"].get("clusterIPs") == expected
