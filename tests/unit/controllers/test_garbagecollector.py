"""The garbage collector's decision table and its actions against a fake client."""

from __future__ import annotations

from typing import Any

import pytest

from apimachinery.meta import Object
from controllers.garbagecollector import GarbageCollector, OwnerState, Verdict, decide
from tests.unit.controllers.controller_fakes import FakeClient, obj, run, started

S, D, W = OwnerState.SOLID, OwnerState.DANGLING, OwnerState.WAITING


def ref(uid: str, kind: str = "ReplicaSet", name: str = "web", block: bool = True) -> Object:
    return {"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": uid,
            "controller": True, "blockOwnerDeletion": block}


@pytest.mark.parametrize(("states", "has_deps", "finalizers", "expected"), [
    ([S], False, [], Verdict("keep")),
    ([S, D], False, [], Verdict("remove-owner-refs", ("u1",))),
    ([S, W], False, [], Verdict("remove-owner-refs", ("u1",))),
    ([D], False, [], Verdict("delete", policy="Background")),
    ([D, D], True, [], Verdict("delete", policy="Background")),
    ([W], True, [], Verdict("delete", policy="Foreground")),  # its own dependents go first
    ([W], False, [], Verdict("delete", policy="Background")),
    ([D], False, ["orphan"], Verdict("delete", policy="Orphan")),
    ([D], False, ["foregroundDeletion"], Verdict("delete", policy="Foreground")),
])
def test_decide(states: list[OwnerState], has_deps: bool, finalizers: list[str],
                expected: Verdict) -> None:
    refs = [ref("u0" if i == 0 else f"u{i}") for i in range(len(states))]
    assert decide(list(zip(refs, states, strict=True)), has_deps, finalizers) == expected


def pod(name: str, owner_uid: str, block: bool = True) -> Object:
    return obj("pods", name, metadata={"ownerReferences": [ref(owner_uid, block=block)]})


def build(client: FakeClient, factory: Any, clock: Any) -> GarbageCollector:
    return GarbageCollector(client, factory, clock=clock)


def test_a_dependent_of_a_deleted_owner_is_deleted_with_a_uid_precondition() -> None:
    client = FakeClient([pod("p1", "uid-gone")])

    async def scenario() -> None:
        async with started(client, build) as (gc, _):
            await gc.reconcile("pods/ns/p1")
        assert client.actions == [("delete", "pods", "p1", "Background", {"uid": "uid-p1"})]
    run(scenario)


def test_a_dependent_of_a_recreated_owner_is_deleted() -> None:
    client = FakeClient([pod("p1", "uid-old"), obj("replicasets", "web")])  # uid-web now

    async def scenario() -> None:
        async with started(client, build) as (gc, _):
            await gc.reconcile("pods/ns/p1")
        assert [a[0] for a in client.actions] == ["delete"]
    run(scenario)


def test_a_dependent_of_a_live_owner_is_kept() -> None:
    client = FakeClient([pod("p1", "uid-web"), obj("replicasets", "web")])

    async def scenario() -> None:
        async with started(client, build) as (gc, _):
            await gc.reconcile("pods/ns/p1")
        assert client.actions == []
    run(scenario)


def test_foreground_owner_waits_for_blocking_dependents_then_loses_its_finalizer() -> None:
    deleting = {"deletionTimestamp": "2024-01-01T00:00:00Z",
                "finalizers": ["foregroundDeletion"]}
    owner = obj("replicasets", "web", metadata=deleting)
    client = FakeClient([owner, pod("p1", "uid-web")])

    async def scenario() -> None:
        async with started(client, build) as (gc, _):
            await gc.reconcile("replicasets/ns/web")
            assert client.actions == []  # p1 blocks; it was queued for deletion
            await gc.reconcile("pods/ns/p1")
            assert client.actions == [("delete", "pods", "p1", "Background",
                                       {"uid": "uid-p1"})]
    run(scenario)

    empty = FakeClient([owner, pod("p2", "uid-web", block=False)])

    async def no_blockers() -> None:
        async with started(empty, build) as (gc, _):
            await gc.reconcile("replicasets/ns/web")
        assert empty.actions == [("patch", "replicasets", "web", {
            "metadata": {"finalizers": None, "resourceVersion": "1"}})]
    run(no_blockers)


def test_orphan_finalizer_strips_owner_references_then_goes() -> None:
    owner = obj("replicasets", "web", metadata={"deletionTimestamp": "2024-01-01T00:00:00Z",
                                                "finalizers": ["orphan"]})
    client = FakeClient([owner, pod("p1", "uid-web")])

    async def scenario() -> None:
        async with started(client, build) as (gc, _):
            await gc.reconcile("replicasets/ns/web")
        assert client.actions == [
            ("patch", "pods", "p1", {"metadata": {"resourceVersion": "1",
                                                  "ownerReferences": None}}),
            ("patch", "replicasets", "web", {"metadata": {"finalizers": None,
                                                          "resourceVersion": "1"}})]
    run(scenario)


def test_a_services_endpointslice_goes_when_the_service_is_deleted() -> None:
    service_ref = {"apiVersion": "v1", "kind": "Service", "name": "web", "uid": "uid-web",
                   "controller": True, "blockOwnerDeletion": True}
    es = obj("endpointslices", "web-abc", metadata={"ownerReferences": [service_ref]},
             addressType="IPv4", endpoints=[])
    client = FakeClient([es, obj("services", "web")])

    async def scenario() -> None:
        async with started(client, build) as (gc, _):
            while len(gc.queue):  # the slice is enqueued as a dependent on start
                gc.queue.done(await gc.queue.get())
            await gc.reconcile("endpointslices/ns/web-abc")
            assert client.actions == []  # its Service lives
            service = gc.informers["services"].store.get("ns/web")
            assert service is not None
            gc.informers["services"].store._pop("ns/web")
            del client.objects[("services", "ns/web")]
            _, _, on_delete = gc._handlers("services")  # what the watch's DELETED runs
            on_delete(service)
            assert await gc.queue.get() == "endpointslices/ns/web-abc"
            await gc.reconcile("endpointslices/ns/web-abc")
        assert client.actions == [("delete", "endpointslices", "web-abc", "Background",
                                   {"uid": "uid-web-abc"})]
    run(scenario)
