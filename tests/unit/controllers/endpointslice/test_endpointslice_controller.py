"""The endpointslice controller on a fake client: the writes a sync makes, in order."""

from __future__ import annotations

from typing import Any

import pytest

from apimachinery import errors
from apimachinery.meta import Object
from controllers.base import Requeue
from controllers.endpointslice import EndpointSliceController
from controllers.endpointslice.reconciler import slice_labels
from tests.unit.controllers.controller_fakes import FakeClient, obj, run, started
from tests.unit.controllers.endpointslice.test_slice_desired import node, pod, service


def build(client: FakeClient, factory: Any, clock: Any) -> EndpointSliceController:
    return EndpointSliceController(client, factory, clock=clock)


def managed(name: str, endpoints: list[Object], svc: Object | None = None,
            rv: str = "1") -> Object:
    svc = svc or service()
    return obj("endpointslices", name, metadata={
        "labels": slice_labels(svc), "resourceVersion": rv,
        "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": "web",
                             "uid": "uid-web", "controller": True,
                             "blockOwnerDeletion": True}]},
        addressType="IPv4", endpoints=endpoints,
        ports=[{"name": "http", "port": 8080, "protocol": "TCP"}])


def endpoint(name: str, ip: str, ready: bool = True) -> Object:
    return {"addresses": [ip],
            "conditions": {"ready": ready, "serving": ready, "terminating": False},
            "targetRef": {"kind": "Pod", "namespace": "ns", "name": name, "uid": f"uid-{name}"},
            "nodeName": "n1"}


def test_creates_a_slice_for_a_selector_service() -> None:
    client = FakeClient([service(), node(), pod("a", "10.0.0.1")])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("ns/web")
        ((verb, plural, name, body),) = client.actions
        assert (verb, plural, name) == ("create", "endpointslices", "web-1")
        assert body["endpoints"] == [endpoint("a", "10.0.0.1")]
        assert body["metadata"]["labels"]["kubernetes.io/service-name"] == "web"
    run(scenario)


def test_updates_the_existing_slice_in_place() -> None:
    client = FakeClient([service(), node(), pod("a", "10.0.0.1", ready=False),
                         managed("web-x", [endpoint("a", "10.0.0.1")])])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("ns/web")
        ((verb, _, name, body),) = client.actions
        assert (verb, name) == ("update", "web-x")
        assert body["endpoints"] == [endpoint("a", "10.0.0.1", ready=False)]
    run(scenario)


def test_writes_nothing_when_up_to_date() -> None:
    client = FakeClient([service(), node(), pod("a", "10.0.0.1"),
                         managed("web-x", [endpoint("a", "10.0.0.1")])])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("ns/web")
        assert client.actions == []
    run(scenario)


def test_creates_before_it_deletes_stale_slices() -> None:
    svc = service()
    svc["spec"]["ports"][0]["targetPort"] = 9090
    client = FakeClient([svc, node(), pod("a", "10.0.0.1"),
                         managed("web-x", [endpoint("a", "10.0.0.1")])])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("ns/web")
        assert [a[:3] for a in client.actions] == [
            ("create", "endpointslices", "web-1"), ("delete", "endpointslices", "web-x")]
    run(scenario)


@pytest.mark.parametrize("spec", [{"selector": {}}, {"type": "ExternalName"}],
                         ids=["no-selector", "external-name"])
def test_services_without_a_selector_or_external_name_get_no_slices(spec: Object) -> None:
    svc = service(**spec)
    client = FakeClient([svc, node(), pod("a", "10.0.0.1")])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("ns/web")
            await ctrl.reconcile("ns/gone")
        assert client.actions == []
    run(scenario)


def test_slices_of_others_are_left_alone() -> None:
    mine = managed("web-x", [endpoint("a", "10.0.0.1")])
    theirs = obj("endpointslices", "web-manual", metadata={
        "labels": {"kubernetes.io/service-name": "web",
                   "endpointslice.kubernetes.io/managed-by": "someone-else"}},
        addressType="IPv4", endpoints=[], ports=[])
    client = FakeClient([service(), node(), pod("a", "10.0.0.1"), mine, theirs])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("ns/web")
        assert client.actions == []
    run(scenario)


def test_waits_for_the_cache_to_show_its_own_writes() -> None:
    client = FakeClient([service(), node(), pod("a", "10.0.0.1")])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, clock):
            await ctrl.reconcile("ns/web")
            with pytest.raises(Requeue, match="cache older"):
                await ctrl.reconcile("ns/web")  # the created slice is not cached yet
            assert len(client.writes("create")) == 1
            clock.step(31.0)  # the expectation expires: the cache is trusted again
            await ctrl.reconcile("ns/web")
            assert len(client.writes("create")) == 2
    run(scenario)


def test_the_cache_catching_up_releases_the_sync() -> None:
    client = FakeClient([service(), node(), pod("a", "10.0.0.1")])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("ns/web")
            created = client.objects[("endpointslices", "ns/web-1")]
            ctrl.slice_informer.store._put(created)  # what the watch would bring
            await ctrl.reconcile("ns/web")
        assert len(client.actions) == 1
    run(scenario)


def test_a_pod_on_an_unknown_node_is_retried_soon() -> None:
    client = FakeClient([service(), pod("a", "10.0.0.1", node="late")])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            with pytest.raises(Requeue) as raised:
                await ctrl.reconcile("ns/web")
            assert raised.value.after == 1.0
        (create,) = client.writes("create")
        assert create[3]["endpoints"] == []  # the placeholder meanwhile
    run(scenario)


def test_the_zone_comes_from_the_node_and_node_changes_enqueue() -> None:
    client = FakeClient([service(), node(zone="z1"), pod("a", "10.0.0.1")])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("ns/web")
            while len(ctrl.queue):
                ctrl.queue.done(await ctrl.queue.get())
            ctrl._node_updated(node(zone="z1"), node(zone="z2"))
            assert await ctrl.queue.get() == "ns/web"
        assert client.writes("create")[0][3]["endpoints"][0]["zone"] == "z1"
    run(scenario)


def test_a_terminating_namespace_is_not_an_error() -> None:
    client = FakeClient([service(), node(), pod("a", "10.0.0.1")])
    client.fail("create", "endpointslices",
                errors.Forbidden("unable to create new content in namespace ns because it "
                                 "is being terminated"))

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("ns/web")
    run(scenario)
