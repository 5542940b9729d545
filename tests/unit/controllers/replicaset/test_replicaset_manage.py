"""ReplicaSet decisions as pure functions: how many to create, whom to delete, status."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from apimachinery.meta import Object
from controllers.common.pods import is_pod_available
from controllers.replicaset.controller import (
    calculate_status,
    manage_replicas,
    pod_from_template,
    slow_start_batch,
)
from controllers.replicaset.deletion_order import pods_to_delete, sort_for_deletion
from tests.unit.controllers.controller_fakes import obj

NOW = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)


def pod(name: str, *, node: str = "n1", phase: str = "Running", ready: bool = True,
        ready_since: str = "2024-01-01T10:00:00Z", created: str = "2024-01-01T09:00:00Z",
        restarts: int = 0, cost: int | None = None) -> Object:
    annotations = {} if cost is None else {"controller.kubernetes.io/pod-deletion-cost": str(cost)}
    conditions = [{"type": "Ready", "status": "True" if ready else "False",
                   "lastTransitionTime": ready_since}]
    return obj("pods", name, metadata={"creationTimestamp": created, "annotations": annotations},
               spec={"nodeName": node},
               status={"phase": phase, "conditions": conditions,
                       "containerStatuses": [{"name": "c", "restartCount": restarts}]})


def rs(replicas: int, min_ready: int = 0) -> Object:
    return obj("replicasets", "web", metadata={"generation": 4}, spec={
        "replicas": replicas, "minReadySeconds": min_ready,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}, "annotations": {"a": "b"}},
                     "spec": {"containers": [{"name": "c", "image": "busybox"}]}}})


@pytest.mark.parametrize(("replicas", "have", "burst", "create", "delete"), [
    (3, 0, 500, 3, 0),
    (3, 3, 500, 0, 0),
    (1, 3, 500, 0, 2),
    (0, 2, 500, 0, 2),
    (800, 0, 500, 500, 0),   # BurstReplicas caps one sync
    (0, 10, 4, 0, 4),
])
def test_manage_replicas_table(replicas: int, have: int, burst: int, create: int,
                               delete: int) -> None:
    pods = [pod(f"p{i}") for i in range(have)]
    decision = manage_replicas(rs(replicas), pods, burst=burst)
    assert (decision.create, len(decision.delete)) == (create, delete)


@pytest.mark.parametrize(("first", "second", "rule"), [
    (pod("a", node=""), pod("b"), "unscheduled before scheduled"),
    (pod("a", phase="Pending"), pod("b", phase="Unknown"), "Pending before Unknown"),
    (pod("a", phase="Unknown"), pod("b", phase="Running"), "Unknown before Running"),
    (pod("a", ready=False), pod("b"), "not ready before ready"),
    (pod("a", cost=-5), pod("b", cost=10), "lower pod-deletion-cost first"),
    (pod("a", ready_since="2024-01-01T11:00:00Z"), pod("b"), "ready more recently first"),
    (pod("a", restarts=5), pod("b", restarts=1), "more restarts first"),
    (pod("a", created="2024-01-01T09:30:00Z"), pod("b"), "newer before older"),
])
def test_victim_ranking(first: Object, second: Object, rule: str) -> None:
    assert sort_for_deletion([second, first]) == [first, second], rule
    assert sort_for_deletion([first, second]) == [first, second], rule


def test_doubled_up_pods_go_first() -> None:
    alone, crowded = pod("alone", node="n1"), pod("crowded", node="n2")
    related = [alone, crowded, pod("other", node="n2")]
    assert sort_for_deletion([alone, crowded], related) == [crowded, alone]


def test_pods_to_delete_picks_the_cheapest() -> None:
    pods = [pod("old"), pod("pending", phase="Pending"), pod("unready", ready=False)]
    victims = pods_to_delete(pods, None, 2)
    assert [p["metadata"]["name"] for p in victims] == ["pending", "unready"]


def test_availability_needs_min_ready_seconds() -> None:
    fresh = pod("a", ready_since="2024-01-01T11:59:50Z")
    assert is_pod_available(fresh, 0, NOW)
    assert not is_pod_available(fresh, 30, NOW)
    assert is_pod_available(fresh, 5, NOW)
    assert not is_pod_available(pod("b", ready=False), 0, NOW)


def test_status_counts_labels_ready_and_available() -> None:
    pods = [pod("a"), pod("b", ready=False), pod("c", ready_since="2024-01-01T11:59:59Z")]
    pods[1]["metadata"]["labels"] = {"app": "web"}
    pods[2]["metadata"]["labels"] = {"app": "web"}
    status = calculate_status(rs(3, min_ready=10), pods, NOW)
    assert status == {"replicas": 3, "fullyLabeledReplicas": 2, "readyReplicas": 2,
                      "availableReplicas": 1, "observedGeneration": 4}


def test_status_reports_a_replica_failure() -> None:
    status = calculate_status(rs(3), [], NOW, RuntimeError("quota"))
    assert status["conditions"][0]["type"] == "ReplicaFailure"
    assert status["conditions"][0]["reason"] == "FailedCreate"


def test_pod_from_template_is_owned_and_labelled() -> None:
    made = pod_from_template(rs(1))
    assert made["metadata"] == {
        "generateName": "web-", "namespace": "ns", "labels": {"app": "web"},
        "annotations": {"a": "b"},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
                             "uid": "uid-web", "controller": True,
                             "blockOwnerDeletion": True}]}
    assert made["spec"]["containers"][0]["image"] == "busybox"


def test_slow_start_batches_double_and_stop_at_a_failure() -> None:
    async def scenario(fail_at: int | None) -> tuple[int, str, int]:
        calls = 0

        async def create() -> None:
            nonlocal calls
            calls += 1
            if calls == fail_at:
                raise RuntimeError("rejected")

        created, error = await slow_start_batch(10, 1, create)
        return created, str(error), calls

    assert asyncio.run(scenario(None)) == (10, "None", 10)  # batches 1, 2, 4, 3
    # batch 1 succeeds; the batch of 2 has a failure: 3 calls made, 2 created, stop.
    assert asyncio.run(scenario(2)) == (2, "rejected", 3)
    # a failure in the batch of 4 (calls 4-7): 7 calls, 6 created, the last 3 never tried.
    assert asyncio.run(scenario(5)) == (6, "rejected", 7)
