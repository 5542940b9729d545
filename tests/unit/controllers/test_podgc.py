"""PodGC: pods of deleted nodes (after the quarantine) and of out-of-service nodes go."""

from __future__ import annotations

from apimachinery.clock import FakeClock
from apimachinery.meta import Object
from controllers.base import SharedInformerFactory
from controllers.podgc import OUT_OF_SERVICE, PodGCController, out_of_service
from tests.unit.controllers.controller_fakes import FakeClient, obj, run, started


def node(name: str, ready: str = "True", taints: list[Object] | None = None) -> Object:
    return obj("nodes", name, ns="", spec={"taints": taints or []},
               status={"conditions": [{"type": "Ready", "status": ready}]})


def pod(name: str, node_name: str, terminating: bool = False) -> Object:
    p = obj("pods", name, spec={"nodeName": node_name, "containers": [{"name": "c"}]})
    p["metadata"]["uid"] = f"uid-{name}"
    if terminating:
        p["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return p


def build(client: FakeClient, factory: SharedInformerFactory, clock: FakeClock
          ) -> PodGCController:
    return PodGCController(client, factory, quarantine=40, clock=clock)


def force_deletes(client: FakeClient) -> list[str]:
    return [a[2] for a in client.actions if a[0] == "delete"]


def test_out_of_service_needs_the_taint_and_a_node_not_ready() -> None:
    taint = [{"key": OUT_OF_SERVICE, "effect": "NoExecute"}]
    assert out_of_service(node("n", ready="Unknown", taints=taint))
    assert not out_of_service(node("n", ready="True", taints=taint))
    assert not out_of_service(node("n", ready="Unknown"))


def test_pods_of_a_missing_node_go_only_after_the_quarantine() -> None:
    async def scenario() -> None:
        client = FakeClient([node("alive"), pod("a", "gone", terminating=True), pod("b", "gone"),
                             pod("c", "alive")])
        async with started(client, build) as (ctl, clock):
            await ctl.reconcile("gone")
            assert force_deletes(client) == []
            clock.step(41)
            await ctl.reconcile("gone")
            assert sorted(force_deletes(client)) == ["a", "b"]
            await ctl.reconcile("alive")
            assert "c" not in force_deletes(client)
    run(scenario)


def test_a_node_that_appears_during_the_quarantine_keeps_its_pods() -> None:
    async def scenario() -> None:
        client = FakeClient([pod("a", "late")])
        async with started(client, build) as (ctl, clock):
            await ctl.reconcile("late")
            await client.create("nodes", node("late"))  # registered, cache not caught up yet
            clock.step(41)
            await ctl.reconcile("late")
            assert force_deletes(client) == []
    run(scenario)


def test_terminating_pods_of_an_out_of_service_node_are_force_deleted() -> None:
    async def scenario() -> None:
        taint = [{"key": OUT_OF_SERVICE, "effect": "NoExecute"}]
        client = FakeClient([node("n1", ready="Unknown", taints=taint),
                             pod("stuck", "n1", terminating=True), pod("running", "n1")])
        async with started(client, build) as (ctl, _clock):
            await ctl.reconcile("n1")
        assert force_deletes(client) == ["stuck"]
        delete = next(a for a in client.actions if a[0] == "delete")
        assert delete[4] == {"uid": "uid-stuck"}
    run(scenario)
