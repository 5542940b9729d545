"""The ReplicaSet controller's actions, in order, against a fake client and a FakeClock."""

from __future__ import annotations

from typing import Any

from apimachinery import errors
from apimachinery.meta import Object
from controllers.common.expectations import EXPECTATIONS_TIMEOUT
from controllers.replicaset import ReplicaSetController
from tests.unit.controllers.controller_fakes import (
    FakeClient,
    ListRecorder,
    obj,
    run,
    started,
)

KEY = "ns/web"


def rs(replicas: int, **metadata: Any) -> Object:
    return obj("replicasets", "web", metadata=metadata, spec={
        "replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "c", "image": "busybox"}]}}})


def owned_pod(name: str, *, phase: str = "Running", ready: bool = True,
              labels: dict[str, str] | None = None) -> Object:
    return obj("pods", name, metadata={
        "labels": {"app": "web"} if labels is None else labels,
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
                             "uid": "uid-web", "controller": True,
                             "blockOwnerDeletion": True}]},
        spec={"nodeName": "n1"},
        status={"phase": phase, "conditions": [
            {"type": "Ready", "status": "True" if ready else "False",
             "lastTransitionTime": "2023-12-31T00:00:00Z"}]})


def build(client: FakeClient, factory: Any, clock: Any) -> ReplicaSetController:
    return ReplicaSetController(client, factory, clock=clock)


def verbs(client: FakeClient) -> list[tuple[str, str]]:
    return [(a[0], a[1]) for a in client.actions]


def test_creates_missing_pods_in_slow_start_batches_then_writes_status() -> None:
    client = FakeClient([rs(3)])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile(KEY)
        assert verbs(client) == [("create", "pods")] * 3 + [("update_status", "replicasets")]
        pod = client.writes("create")[0][3]
        assert pod["metadata"]["generateName"] == "web-"
        assert pod["metadata"]["labels"] == {"app": "web"}
        assert pod["metadata"]["ownerReferences"][0]["uid"] == "uid-web"
        assert client.writes("update_status")[0][3] == {
            "replicas": 0, "fullyLabeledReplicas": 0, "readyReplicas": 0,
            "availableReplicas": 0, "observedGeneration": 1}
    run(scenario)


def test_a_burst_of_syncs_never_creates_twice_until_expectations_expire() -> None:
    client = FakeClient([rs(2)])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, clock):
            await ctrl.reconcile(KEY)
            await ctrl.reconcile(KEY)  # the cache has not seen the 2 new pods yet
            await ctrl.reconcile(KEY)
            assert len(client.writes("create")) == 2
            clock.step(EXPECTATIONS_TIMEOUT + 1)  # the pods' events were lost: retry
            await ctrl.reconcile(KEY)
            assert len(client.writes("create")) == 4
    run(scenario)


def test_after_a_restart_the_listed_pods_are_the_truth() -> None:
    client = FakeClient([rs(3), owned_pod("web-a"), owned_pod("web-b")])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile(KEY)
        assert len(client.writes("create")) == 1
    run(scenario)


def test_scales_down_the_cheapest_pods_first() -> None:
    client = FakeClient([rs(1), owned_pod("web-running"),
                         owned_pod("web-pending", phase="Pending", ready=False),
                         owned_pod("web-unready", ready=False)])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile(KEY)
            assert ctrl.expectations.pending(KEY) == (0, 2)
        assert [(a[0], a[2]) for a in client.actions] == [
            ("delete", "web-pending"), ("delete", "web-unready"),
            ("update_status", "web")]
    run(scenario)


def test_adopts_matching_orphans_and_releases_pods_that_no_longer_match() -> None:
    orphan = obj("pods", "stray", metadata={"labels": {"app": "web"}},
                 status={"phase": "Running"})
    relabelled = owned_pod("web-x", labels={"app": "other"})
    client = FakeClient([rs(1), orphan, relabelled])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile(KEY)
        patches = {a[2]: a[3] for a in client.writes("patch")}
        assert patches["stray"]["metadata"]["ownerReferences"][0]["uid"] == "uid-web"
        assert patches["stray"]["metadata"]["resourceVersion"] == "1"
        assert patches["web-x"]["metadata"]["ownerReferences"] is None
        assert client.writes("create") == []  # the adopted pod fills the one replica
    run(scenario)


def test_a_failed_create_stops_the_batch_and_lowers_expectations() -> None:
    client = FakeClient([rs(5)])
    client.fail("create", "pods", errors.Invalid("Pod", "", []))

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            try:
                await ctrl.reconcile(KEY)
            except errors.Invalid:
                pass
            else:
                raise AssertionError("the create error should surface for a retry")
            assert ctrl.expectations.satisfied(KEY)
        assert verbs(client) == [("create", "pods"), ("update_status", "replicasets")]
        status = client.writes("update_status")[0][3]
        assert status["conditions"][0]["reason"] == "FailedCreate"
    run(scenario)


def test_a_replicaset_being_deleted_only_gets_status() -> None:
    client = FakeClient([rs(3, deletionTimestamp="2024-01-01T00:00:00Z")])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile(KEY)
        assert verbs(client) == [("update_status", "replicasets")]
    run(scenario)


def test_pod_events_lower_expectations_and_enqueue_the_owner() -> None:
    client = FakeClient([rs(1)])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile(KEY)
            assert not ctrl.expectations.satisfied(KEY)
            ctrl._pod_added(owned_pod("web-1"))
            assert ctrl.expectations.satisfied(KEY)
            assert len(ctrl.queue) == 1
    run(scenario)


def test_a_gone_replicaset_is_forgotten() -> None:
    client = FakeClient([])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            ctrl.expectations.expect_creations(KEY, 3)
            await ctrl.reconcile(KEY)
            assert ctrl.expectations.pending(KEY) is None
        assert client.actions == []
    run(scenario)


def test_each_pod_created_or_deleted_is_an_event_on_the_replicaset() -> None:
    """SuccessfulCreate / SuccessfulDelete / FailedCreate, worded as Kubernetes words them."""
    recorder = ListRecorder()
    grow = FakeClient([rs(2)])
    shrink = FakeClient([rs(0), owned_pod("web-a")])
    broken = FakeClient([rs(1)])
    broken.fail("create", "pods", errors.Invalid(
        "Pod", "", [errors.FieldError("spec.containers", "Required value")]))

    def build_with(client: FakeClient, factory: Any, clock: Any) -> ReplicaSetController:
        return ReplicaSetController(client, factory, clock=clock, recorder=recorder)

    async def scenario() -> None:
        for client in (grow, shrink, broken):
            async with started(client, build_with) as (ctrl, _):
                try:
                    await ctrl.reconcile(KEY)
                except errors.Invalid:
                    assert client is broken
        created = [a[2] for a in grow.writes("create")]
        assert recorder.events == [
            *[("ReplicaSet", "web", "SuccessfulCreate", f"Created pod: {n}", False)
              for n in created],
            ("ReplicaSet", "web", "SuccessfulDelete", "Deleted pod: web-a", False),
            ("ReplicaSet", "web", "FailedCreate",
         'Error creating: Pod "" is invalid: spec.containers: Required value', True)]
        assert len(created) == 2
    run(scenario)
