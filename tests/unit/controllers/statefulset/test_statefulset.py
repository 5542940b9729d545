"""The StatefulSet controller: its pure decisions, then its actions on a fake client."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from apimachinery import errors
from apimachinery.meta import Object
from controllers.common.expectations import EXPECTATIONS_TIMEOUT
from controllers.statefulset import StatefulSetController
from controllers.statefulset.identity import new_stateful_pod, revision_name
from controllers.statefulset.plan import Plan, compute_status, plan_pods
from tests.unit.controllers.controller_fakes import FakeClient, obj, run, started

NOW = datetime(2024, 1, 1, 1, 0, tzinfo=UTC)
KEY = "ns/web"


def sts(replicas: int = 3, *, policy: str = "OrderedReady", image: str = "busybox:1",
        strategy: Object | None = None, **spec: Any) -> Object:
    return obj("statefulsets", "web", spec={
        "replicas": replicas, "serviceName": "web", "podManagementPolicy": policy,
        "selector": {"matchLabels": {"app": "web"}},
        "updateStrategy": strategy or {"type": "RollingUpdate",
                                       "rollingUpdate": {"partition": 0}},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "c", "image": image}]}}, **spec})


REV1 = revision_name(sts())
REV2 = revision_name(sts(image="busybox:2"))


def pod(ordinal: int, *, ready: bool = True, phase: str = "Running", rev: str = REV1,
        deleting: bool = False, owned: bool = True) -> Object:
    p = new_stateful_pod(sts(), ordinal, rev)
    md = p["metadata"]
    md.update(uid=f"uid-web-{ordinal}", resourceVersion="1",
              creationTimestamp="2024-01-01T00:00:00Z")
    if deleting:
        md["deletionTimestamp"] = "2024-01-01T00:30:00Z"
    if not owned:
        md.pop("ownerReferences")
    p["status"] = {"phase": phase, "conditions": [
        {"type": "Ready", "status": "True" if ready else "False",
         "lastTransitionTime": "2024-01-01T00:00:00Z"}]}
    return p


def summary(plan: Plan) -> tuple[list[int], list[tuple[str, str]]]:
    return ([o for o, _ in plan.create],
            [(p["metadata"]["name"], reason) for p, reason in plan.delete])


# -- plan_pods, table-driven ----------------------------------------------------------------

PARTITIONED = {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}
CASES: list[tuple[str, Object, list[Object], tuple[list[int], list[tuple[str, str]]]]] = [
    ("ordered: the first pod only", sts(), [], ([0], [])),
    ("ordered: the next once its predecessor is ready", sts(), [pod(0)], ([1], [])),
    ("ordered: waits for a not ready predecessor", sts(), [pod(0, ready=False)], ([], [])),
    ("ordered: waits for a pending predecessor", sts(), [pod(0, phase="Pending")], ([], [])),
    ("ordered: waits for a terminating predecessor", sts(), [pod(0, deleting=True)], ([], [])),
    ("ordered: fills a gap first", sts(), [pod(0), pod(2)], ([1], [])),
    ("parallel: every missing pod at once", sts(policy="Parallel"), [pod(1, ready=False)],
     ([0, 2], [])),
    ("ordered: scale down from the highest ordinal, one at a time",
     sts(1), [pod(0), pod(1), pod(2)], ([], [("web-2", "scale-down")])),
    ("ordered: scale down waits for a terminating pod",
     sts(1), [pod(0), pod(1), pod(2, deleting=True)], ([], [])),
    ("ordered: an unhealthy pod goes only if it is the first unhealthy one",
     sts(1), [pod(0), pod(1, ready=False), pod(2, ready=False)], ([], [])),
    ("ordered: a healthy pod goes even if a lower one is unhealthy",
     sts(1), [pod(0), pod(1, ready=False), pod(2)], ([], [("web-2", "scale-down")])),
    ("ordered: an unhealthy highest pod may go",
     sts(1), [pod(0), pod(1), pod(2, ready=False)], ([], [("web-2", "scale-down")])),
    ("parallel: scale down all at once",
     sts(1, policy="Parallel"), [pod(0), pod(1), pod(2)],
     ([], [("web-2", "scale-down"), ("web-1", "scale-down")])),
    ("a finished pod is deleted, recreated once gone",
     sts(), [pod(0, phase="Failed", ready=False)], ([], [("web-0", "finished")])),
    ("rolling update: the highest old pod first",
     sts(image="busybox:2"), [pod(0), pod(1), pod(2)], ([], [("web-2", "update")])),
    ("rolling update: then recreate it", sts(image="busybox:2"), [pod(0), pod(1)], ([2], [])),
    ("rolling update: wait until the new pod is ready",
     sts(image="busybox:2"), [pod(0), pod(1), pod(2, rev=REV2, ready=False)], ([], [])),
    ("rolling update: the next lower once it is",
     sts(image="busybox:2"), [pod(0), pod(1), pod(2, rev=REV2)], ([], [("web-1", "update")])),
    ("rolling update: one terminating pod at a time",
     sts(image="busybox:2", policy="Parallel"), [pod(0), pod(1), pod(2, deleting=True)],
     ([], [])),
    ("rolling update: the partition's ordinals stay",
     sts(image="busybox:2", strategy=PARTITIONED), [pod(0), pod(1), pod(2, rev=REV2)],
     ([], [])),
    ("on delete: nothing is replaced",
     sts(image="busybox:2", strategy={"type": "OnDelete"}), [pod(0), pod(1), pod(2)],
     ([], [])),
    ("scaling comes before updating",
     sts(2, image="busybox:2"), [pod(0), pod(1), pod(2)], ([], [("web-2", "scale-down")])),
]


@pytest.mark.parametrize(("sts_obj", "pods", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_plan_pods(sts_obj: Object, pods: list[Object],
                   expected: tuple[list[int], list[tuple[str, str]]]) -> None:
    update = revision_name(sts_obj)
    assert summary(plan_pods(sts_obj, pods, REV1, update, NOW)) == expected


def test_plan_waits_for_min_ready_seconds_before_the_next_pod() -> None:
    s = sts(minReadySeconds=600)  # pod 0 became ready an hour ago
    assert summary(plan_pods(s, [pod(0)], REV1, REV1, NOW)) == ([1], [])
    s = sts(minReadySeconds=7200)
    plan = plan_pods(s, [pod(0)], REV1, REV1, NOW)
    assert summary(plan) == ([], []) and plan.wait == "web-0 not available"


def test_a_new_pod_below_the_partition_gets_the_current_revision() -> None:
    s = sts(image="busybox:2", strategy=PARTITIONED)
    plan = plan_pods(s, [pod(1), pod(2, rev=REV2)], REV1, REV2, NOW)
    assert plan.create == [(0, REV1)]
    plan = plan_pods(s, [pod(0), pod(1)], REV1, REV2, NOW)
    assert plan.create == [(2, REV2)]


def test_a_deleting_statefulset_changes_no_pods() -> None:
    s = sts()
    s["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    assert summary(plan_pods(s, [], REV1, REV1, NOW)) == ([], [])


# -- identity, storage, status ------------------------------------------------------------------

def test_new_pod_identity_and_storage() -> None:
    s = sts(volumeClaimTemplates=[{"metadata": {"name": "data"}}])
    s["spec"]["template"]["spec"]["volumes"] = [
        {"name": "data", "emptyDir": {}}, {"name": "conf", "configMap": {"name": "c"}}]
    p = new_stateful_pod(s, 1, REV1)
    assert p["metadata"]["name"] == "web-1"
    assert p["metadata"]["labels"] == {
        "app": "web", "statefulset.kubernetes.io/pod-name": "web-1",
        "apps.kubernetes.io/pod-index": "1", "controller-revision-hash": REV1}
    assert p["metadata"]["ownerReferences"] == [{
        "apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "uid-web",
        "controller": True, "blockOwnerDeletion": True}]
    assert (p["spec"]["hostname"], p["spec"]["subdomain"]) == ("web-1", "web")
    assert p["spec"]["volumes"] == [
        {"name": "data", "persistentVolumeClaim": {"claimName": "data-web-1"}},
        {"name": "conf", "configMap": {"name": "c"}}]
    assert "hostname" not in s["spec"]["template"]["spec"]  # the template is not touched


def test_revisions_follow_the_template() -> None:
    assert REV1.startswith("web-") and REV1 != REV2
    assert revision_name(sts(replicas=7)) == REV1  # replicas are not the template


def test_status_counts_and_completes_a_rollout() -> None:
    s = sts(image="busybox:2")
    status = compute_status(s, [pod(0), pod(1, rev=REV2), pod(2, rev=REV2, ready=False)],
                                 REV1, REV2, NOW)
    assert status == {"observedGeneration": 1, "replicas": 3, "readyReplicas": 2,
                      "currentReplicas": 1, "updatedReplicas": 2, "availableReplicas": 2,
                      "currentRevision": REV1, "updateRevision": REV2, "collisionCount": 0}
    done = compute_status(s, [pod(i, rev=REV2) for i in range(3)], REV1, REV2, NOW)
    assert (done["currentRevision"], done["currentReplicas"]) == (REV2, 3)


# -- the controller -----------------------------------------------------------------------------

def build(client: FakeClient, factory: Any, clock: Any) -> StatefulSetController:
    return StatefulSetController(client, factory, clock=clock)


def verbs(client: FakeClient) -> list[tuple[str, str, str]]:
    return [(a[0], a[1], a[2]) for a in client.actions]


def test_creates_the_first_pod_then_writes_status() -> None:
    client = FakeClient([sts()])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile(KEY)
        assert verbs(client) == [("create", "pods", "web-0"),
                                 ("update_status", "statefulsets", "web")]
        created = client.writes("create")[0][3]
        assert created["metadata"]["labels"]["controller-revision-hash"] == REV1
        assert client.writes("update_status")[0][3]["updateRevision"] == REV1
    run(scenario)


def test_a_burst_of_syncs_never_creates_twice_until_expectations_expire() -> None:
    client = FakeClient([sts(policy="Parallel")])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, clock):
            await ctrl.reconcile(KEY)
            await ctrl.reconcile(KEY)  # the cache has not seen the 3 pods yet
            assert len(client.writes("create")) == 3
            clock.step(EXPECTATIONS_TIMEOUT + 1)
            await ctrl.reconcile(KEY)
            assert len(client.writes("create")) == 6
    run(scenario)


def test_deletes_with_the_uid_as_precondition() -> None:
    client = FakeClient([sts(1), pod(0), pod(1)])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile(KEY)
            await ctrl.reconcile(KEY)  # the deletion is not observed yet: nothing more
        assert client.writes("delete") == [("delete", "pods", "web-1", None,
                                            {"uid": "uid-web-1"})]
    run(scenario)


def test_a_failed_create_is_retried_not_awaited() -> None:
    client = FakeClient([sts()])
    client.fail("create", "pods", errors.already_exists("pods", "web-0"))

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            with pytest.raises(errors.AlreadyExists):
                await ctrl.reconcile(KEY)
            await ctrl.reconcile(KEY)  # no creation pending: tries again at once
        assert len(client.writes("create")) == 2
    run(scenario)


def test_adopts_an_orphan_member_and_fixes_its_identity() -> None:
    orphan = pod(0, owned=False)
    del orphan["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"]
    client = FakeClient([sts(1), orphan, obj("pods", "other-0", metadata={
        "labels": {"app": "web"}})])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile(KEY)
        patches = client.writes("patch")
        assert [p[2] for p in patches] == ["web-0", "web-0"]  # adopt, relabel; not other-0
        assert patches[0][3]["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet"
        assert patches[1][3]["metadata"]["labels"] == {
            "statefulset.kubernetes.io/pod-name": "web-0"}
    run(scenario)


def test_recreates_below_the_partition_from_the_remembered_template() -> None:
    old = sts(image="busybox:1", strategy=PARTITIONED)
    client = FakeClient([old])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            ctrl._remember(KEY, old, REV1, REV1)  # seen before the template changed
            new = sts(image="busybox:2", strategy=PARTITIONED)
            new["status"] = {"currentRevision": REV1}
            ctrl.sts_informer.store._put(new)
            ctrl.pod_informer.store._put(pod(1))
            ctrl.pod_informer.store._put(pod(2, rev=REV2))
            await ctrl.reconcile(KEY)
        created = client.writes("create")[0][3]
        assert created["metadata"]["name"] == "web-0"
        assert created["metadata"]["labels"]["controller-revision-hash"] == REV1
        assert created["spec"]["containers"][0]["image"] == "busybox:1"
    run(scenario)


def test_forgets_a_deleted_statefulset() -> None:
    client = FakeClient([])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            ctrl.creations.expect_creations(KEY, 1)
            await ctrl.reconcile(KEY)
            assert ctrl.creations.pending(KEY) is None
        assert client.actions == []
    run(scenario)
