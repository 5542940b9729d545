"""The lease endpoint reconciler against fakes: which writes it makes, in order."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from apimachinery import errors
from apimachinery.meta import Object
from apimachinery.resources import ResourceInfo
from apiserver import listeners
from apiserver.kinds.core.service.endpointreconciler import (
    SERVICE_NAME_LABEL,
    SKIP_MIRROR_LABEL,
    EndpointReconciler,
    desired_endpoints,
    desired_slice,
    needs_write,
    unusable_reason,
)

ENDPOINTS = ResourceInfo("", "v1", "Endpoints", "endpoints", True)
SLICES = ResourceInfo("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", True)


class FakeLeases:
    """Records with no clock: a test expires one by deleting it."""

    def __init__(self, *ips: str) -> None:
        self.ips = set(ips)

    async def update(self, ip: str) -> None:
        self.ips.add(ip)

    async def list(self) -> list[str]:
        return sorted(self.ips)

    async def remove(self, ip: str) -> None:
        self.ips.discard(ip)


class FakeObjects:
    """A store that records every write as (verb, plural)."""

    def __init__(self) -> None:
        self.store: dict[str, Object] = {}
        self.actions: list[tuple[str, str]] = []
        self.rv = 0

    async def get(self, resource: ResourceInfo, namespace: str | None, name: str) -> Object:
        if resource.plural not in self.store:
            raise errors.NotFound(f"{resource.plural} {name} not found")
        return self.store[resource.plural]

    def _keep(self, resource: ResourceInfo, body: Object) -> Object:
        self.rv += 1
        obj = {**body, "metadata": {**body["metadata"], "resourceVersion": str(self.rv)}}
        self.store[resource.plural] = obj
        return obj

    async def create(self, resource: ResourceInfo, namespace: str | None,
                     body: Object) -> Object:
        self.actions.append(("create", resource.plural))
        return self._keep(resource, body)

    async def update(self, resource: ResourceInfo, namespace: str | None, name: str,
                     body: Object, *, subresource: str | None = None) -> Object:
        self.actions.append(("update", resource.plural))
        assert body["metadata"]["resourceVersion"] == \
            self.store[resource.plural]["metadata"]["resourceVersion"]
        return self._keep(resource, body)


def reconciler(objects: FakeObjects, leases: FakeLeases, ip: str,
               **kwargs: Any) -> EndpointReconciler:
    return EndpointReconciler(objects, leases, ip, 6443, endpoints=ENDPOINTS, slices=SLICES,
                              **kwargs)


def ips_of(objects: FakeObjects) -> tuple[list[str], list[str]]:
    ep = [a["ip"] for a in objects.store["endpoints"]["subsets"][0]["addresses"]]
    sl = [e["addresses"][0] for e in objects.store["endpointslices"]["endpoints"]]
    return ep, sl


def test_the_first_apiserver_creates_both_with_kubernetes_labels_and_port() -> None:
    objects, leases = FakeObjects(), FakeLeases()
    asyncio.run(reconciler(objects, leases, "10.0.0.2").reconcile())
    assert objects.actions == [("create", "endpoints"), ("create", "endpointslices")]
    ep, sl = objects.store["endpoints"], objects.store["endpointslices"]
    assert ep["metadata"]["labels"] == {SKIP_MIRROR_LABEL: "true"}
    assert ep["subsets"] == [{"addresses": [{"ip": "10.0.0.2"}],
                              "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]
    assert sl["metadata"]["labels"] == {SERVICE_NAME_LABEL: "kubernetes"}
    assert "endpointslice.kubernetes.io/managed-by" not in sl["metadata"]["labels"]
    assert sl["addressType"] == "IPv4"
    assert sl["endpoints"] == [{"addresses": ["10.0.0.2"], "conditions": {"ready": True}}]
    assert leases.ips == {"10.0.0.2"}


def test_a_second_apiserver_joins_and_an_unchanged_round_writes_nothing() -> None:
    objects, leases = FakeObjects(), FakeLeases()
    first, second = (reconciler(objects, leases, ip) for ip in ("10.0.0.10", "10.0.0.9"))
    asyncio.run(first.reconcile())
    asyncio.run(second.reconcile())
    assert ips_of(objects) == (["10.0.0.9", "10.0.0.10"], ["10.0.0.9", "10.0.0.10"])
    objects.actions.clear()
    asyncio.run(first.reconcile())
    asyncio.run(second.reconcile())
    assert objects.actions == []


def test_an_expired_record_leaves_at_the_next_round_of_a_live_apiserver() -> None:
    objects, leases = FakeObjects(), FakeLeases()
    live, dead = reconciler(objects, leases, "10.0.0.1"), reconciler(objects, leases, "10.0.0.2")
    asyncio.run(live.reconcile())
    asyncio.run(dead.reconcile())
    leases.ips.discard("10.0.0.2")  # etcd's TTL ran out: the apiserver was kill -9'd
    objects.actions.clear()
    asyncio.run(live.reconcile())
    assert objects.actions == [("update", "endpoints"), ("update", "endpointslices")]
    assert ips_of(objects) == (["10.0.0.1"], ["10.0.0.1"])


def test_a_clean_stop_removes_itself_at_once_but_the_last_never_empties_them() -> None:
    objects, leases = FakeObjects(), FakeLeases()
    one, two = reconciler(objects, leases, "10.0.0.1"), reconciler(objects, leases, "10.0.0.2")
    asyncio.run(one.reconcile())
    asyncio.run(two.reconcile())
    asyncio.run(two.stop())
    assert ips_of(objects) == (["10.0.0.1"], ["10.0.0.1"]) and leases.ips == {"10.0.0.1"}
    objects.actions.clear()
    asyncio.run(one.stop())
    assert objects.actions == [] and leases.ips == set()
    assert ips_of(objects) == (["10.0.0.1"], ["10.0.0.1"])


def test_a_label_or_port_someone_changed_is_put_back() -> None:
    """As Kubernetes' reconciler, the labels are set whole: an added one goes too."""
    objects, leases = FakeObjects(), FakeLeases()
    server = reconciler(objects, leases, "10.0.0.1")
    asyncio.run(server.reconcile())
    ep = objects.store["endpoints"]
    ep["metadata"]["labels"] = {"team": "a"}
    ep["subsets"][0]["ports"][0]["port"] = 443
    objects.actions.clear()
    asyncio.run(server.reconcile())
    assert objects.actions == [("update", "endpoints")]
    assert objects.store["endpoints"]["metadata"]["labels"] == {SKIP_MIRROR_LABEL: "true"}
    assert objects.store["endpoints"]["subsets"][0]["ports"][0]["port"] == 6443


def test_the_loop_survives_a_failed_round_and_keeps_reconciling() -> None:
    class Flaky(FakeLeases):
        calls = 0

        async def update(self, ip: str) -> None:
            Flaky.calls += 1
            if Flaky.calls == 1:
                raise errors.ServiceUnavailable("etcd request failed")
            await super().update(ip)

    async def run() -> FakeObjects:
        objects = FakeObjects()
        server = reconciler(objects, Flaky(), "10.0.0.1", interval=0.001)
        server.start()
        for _ in range(200):
            if "endpoints" in objects.store:
                break
            await asyncio.sleep(0.005)
        await server.stop(remove=False)
        return objects

    assert ips_of(asyncio.run(run())) == (["10.0.0.1"], ["10.0.0.1"])


def test_decisions() -> None:
    desired = desired_endpoints(["10.0.0.2", "10.0.0.1"], 6443)
    assert [a["ip"] for a in desired["subsets"][0]["addresses"]] == ["10.0.0.1", "10.0.0.2"]
    assert needs_write(None, desired)
    assert not needs_write({**desired, "metadata": {**desired["metadata"],
                                                    "resourceVersion": "7"}}, desired)
    assert desired_slice(["fd00::1"], 6443)["addressType"] == "IPv6"
    assert unusable_reason("127.0.0.1") is not None
    assert unusable_reason("0.0.0.0") is not None
    assert unusable_reason("172.28.1.1") is None


@pytest.mark.parametrize(("bind", "advertise", "expected"), [
    ("127.0.0.1", "", ["127.0.0.1"]),
    ("127.0.0.1", "172.28.1.1", ["127.0.0.1", "172.28.1.1"]),
    ("0.0.0.0", "172.30.1.1", ["0.0.0.0"]),
    ("172.28.1.1", "172.28.1.1", ["172.28.1.1"]),
])
def test_listen_addresses(bind: str, advertise: str, expected: list[str]) -> None:
    assert listeners.addresses(bind, advertise) == expected


def test_the_advertised_address_is_bound_before_it_exists() -> None:
    """IP_FREEBIND: 192.0.2.1 (TEST-NET-1) is on no interface here; the bind succeeds."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    socks = listeners.listen(["127.0.0.1", "192.0.2.1"], port)
    try:
        assert [s.getsockname() for s in socks] == [("127.0.0.1", port), ("192.0.2.1", port)]
    finally:
        for s in socks:
            s.close()


def test_a_stop_that_races_another_apiservers_write_tries_again() -> None:
    class Racing(FakeObjects):
        armed = raced = False

        async def update(self, resource: ResourceInfo, namespace: str | None, name: str,
                         body: Object, *, subresource: str | None = None) -> Object:
            if self.armed and not self.raced:
                self.raced = True
                raise errors.Conflict("the object has been modified")
            return await super().update(resource, namespace, name, body)

    objects, leases = Racing(), FakeLeases()
    one, two = reconciler(objects, leases, "10.0.0.1"), reconciler(objects, leases, "10.0.0.2")
    asyncio.run(one.reconcile())
    asyncio.run(two.reconcile())
    objects.armed = True
    asyncio.run(two.stop())
    assert objects.raced and ips_of(objects) == (["10.0.0.1"], ["10.0.0.1"])
