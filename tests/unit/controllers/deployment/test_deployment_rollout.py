"""Rollout arithmetic, table-driven: maxSurge/maxUnavailable rounding and each step's plan."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apimachinery.conditions import find_condition
from apimachinery.meta import Object
from controllers.deployment import rollout as r
from controllers.deployment.status import paused_status, rollout_status, stuck_requeue_after
from tests.unit.controllers.controller_fakes import obj


def deploy(replicas: int, surge: int | str = "25%", unavailable: int | str = "25%",
           strategy: str = "RollingUpdate", status: Object | None = None) -> Object:
    spec_strategy: Object = {"type": strategy}
    if strategy == "RollingUpdate":
        spec_strategy["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    return obj("deployments", "d", spec={"replicas": replicas, "strategy": spec_strategy,
                                         "progressDeadlineSeconds": 600},
               status=status or {})


def rset(name: str, replicas: int, available: int | None = None, *, created: str = "",
         desired: int | None = None, max_replicas: int | None = None,
         revision: int | None = None) -> Object:
    annotations = {}
    if desired is not None:
        annotations[r.DESIRED_REPLICAS] = str(desired)
    if max_replicas is not None:
        annotations[r.MAX_REPLICAS] = str(max_replicas)
    if revision is not None:
        annotations[r.REVISION] = str(revision)
    avail = replicas if available is None else available
    return obj("replicasets", name, metadata={
        "creationTimestamp": created or f"2024-01-01T00:00:{len(name):02d}Z",
        "annotations": annotations},
        spec={"replicas": replicas},
        status={"replicas": replicas, "availableReplicas": avail, "observedGeneration": 1})


@pytest.mark.parametrize(("surge", "unavailable", "desired", "expected"), [
    ("25%", "25%", 10, (3, 2)),     # surge rounds up, unavailable rounds down
    ("25%", "25%", 3, (1, 0)),
    ("25%", "25%", 1, (1, 0)),
    (0, 0, 5, (0, 1)),              # both zero would deadlock: unavailable becomes 1
    ("0%", "0%", 5, (0, 1)),
    (2, 1, 5, (2, 1)),
    ("50%", "50%", 5, (3, 2)),
    ("100%", 0, 4, (4, 0)),
    ("10%", "10%", 0, (0, 1)),
])
def test_resolve_fenceposts(surge: int | str, unavailable: int | str, desired: int,
                            expected: tuple[int, int]) -> None:
    assert r.resolve_fenceposts(surge, unavailable, desired) == expected


def test_scaled_value_rejects_a_non_percent_string() -> None:
    with pytest.raises(ValueError, match="not a percentage"):
        r.scaled_value("3", 10, True)


@pytest.mark.parametrize(("d", "surge", "unavailable"), [
    (deploy(10), 3, 2),
    (deploy(2, "50%", "100%"), 1, 2),
    (deploy(2, 0, 5), 0, 2),          # never more unavailable than replicas
    (deploy(0), 0, 0),
    (deploy(5, strategy="Recreate"), 0, 0),
])
def test_max_surge_and_max_unavailable(d: Object, surge: int, unavailable: int) -> None:
    assert (r.max_surge(d), r.max_unavailable(d)) == (surge, unavailable)


@pytest.mark.parametrize(("d", "old", "new", "expected"), [
    (deploy(3), 3, 0, 1),              # 3 + surge 1 = 4 allowed: grow by 1
    (deploy(3), 2, 1, 2),
    (deploy(3), 3, 1, 1),              # already at 4: cannot grow
    (deploy(10), 10, 0, 3),
    (deploy(10, 20, 0), 10, 0, 10),   # never beyond the desired replicas
    (deploy(4, strategy="Recreate"), 4, 0, 4),
])
def test_new_rs_new_replicas(d: Object, old: int, new: int, expected: int) -> None:
    old_rs, new_rs = rset("old", old), rset("new", new)
    assert r.new_rs_new_replicas(d, [old_rs, new_rs], new_rs) == expected


def test_plan_new_rs_scales_down_an_oversized_new_rs() -> None:
    assert r.plan_new_rs(deploy(3), [rset("new", 5)], rset("new", 5)) == 3
    assert r.plan_new_rs(deploy(3), [rset("new", 3)], rset("new", 3)) is None


@pytest.mark.parametrize(("d", "olds", "new", "expected"), [
    # 3 replicas, surge 1, unavailable 0: the new pod must be available first.
    (deploy(3), [rset("old", 3)], rset("new", 1, 0), []),
    (deploy(3), [rset("old", 3)], rset("new", 1, 1), [("old", 2)]),
    # unhealthy old replicas go first, even when nothing else may.
    (deploy(3), [rset("old", 3, 1)], rset("new", 1, 0), []),
    (deploy(4, 1, 1), [rset("old", 4, 2)], rset("new", 1, 0), [("old", 3)]),
    # the oldest ReplicaSet is scaled down first.
    (deploy(4, 0, 2), [rset("aa", 2, created="2024-01-01T00:00:01Z"),
                       rset("bb", 2, created="2024-01-01T00:00:02Z")],
     rset("new", 0, 0), [("aa", 0)]),
])
def test_plan_old_rses(d: Object, olds: list[Object], new: Object,
                       expected: r.Plan) -> None:
    assert r.plan_old_rses(d, [*olds, new], olds, new) == expected


def test_plan_scale_resizes_the_only_active_replicaset() -> None:
    olds = [rset("old", 0, desired=3)]
    new = rset("new", 3, desired=3)
    assert r.plan_scale(deploy(5), new, olds) == [("new", 5)]
    assert r.plan_scale(deploy(3), new, olds) == []


def test_plan_scale_scales_old_to_zero_when_new_is_saturated() -> None:
    new = rset("new", 5, desired=5)
    assert r.plan_scale(deploy(5), new, [rset("old", 2)]) == [("old", 0)]


def test_plan_scale_is_proportional_during_a_rollout() -> None:
    # Sized for 10 replicas (max 13 with surge); now 20 (max 25): both grow by 25/13.
    old = rset("old", 8, desired=10, max_replicas=13, created="2024-01-01T00:00:01Z")
    new = rset("new", 5, desired=10, max_replicas=13, created="2024-01-01T00:00:02Z")
    plan = dict(r.plan_scale(deploy(20), new, [old]))
    assert plan == {"old": 15, "new": 10}
    assert sum(plan.values()) == 20 + r.max_surge(deploy(20))


def test_is_scaling_event_reads_the_desired_replicas_annotation() -> None:
    assert r.is_scaling_event(deploy(5), rset("new", 3, desired=3), [])
    assert not r.is_scaling_event(deploy(3), rset("new", 3, desired=3), [])
    assert not r.is_scaling_event(deploy(5), rset("new", 3), [])


def test_find_active_or_latest() -> None:
    a = rset("a", 0, created="2024-01-01T00:00:01Z")
    b = rset("b", 0, created="2024-01-01T00:00:02Z")
    assert r.find_active_or_latest(None, [a, b]) is b
    newest = rset("n", 0)
    assert r.find_active_or_latest(newest, [a, b]) is newest
    assert r.find_active_or_latest(None, [rset("x", 1), rset("y", 2)]) is None


def test_history_keeps_the_limit_and_only_deletes_idle_replicasets() -> None:
    olds = [rset(f"r{i}", 0, revision=i) for i in range(1, 5)]
    olds[0]["spec"]["replicas"] = 1  # revision 1 still has pods: kept
    victims = r.history_to_delete(olds, 2)
    assert [v["metadata"]["name"] for v in victims] == ["r2"]
    assert r.history_to_delete(olds, None) == []


def test_complete_progressing_and_timed_out() -> None:
    d = deploy(3, status={"updatedReplicas": 1, "replicas": 3, "availableReplicas": 3})
    done = {"updatedReplicas": 3, "replicas": 3, "availableReplicas": 3,
            "observedGeneration": 1}
    assert r.deployment_complete(d, done)
    assert not r.deployment_complete(d, {**done, "observedGeneration": 0})
    assert r.deployment_progressing(d, {"updatedReplicas": 2, "replicas": 3})
    assert not r.deployment_progressing(d, {"updatedReplicas": 1, "replicas": 3,
                                            "availableReplicas": 3})
    stuck = {"conditions": [{"type": "Progressing", "reason": "ReplicaSetUpdated",
                             "lastUpdateTime": "2024-01-01T00:00:00Z"}]}
    assert not r.deployment_timed_out(d, stuck, datetime(2024, 1, 1, 0, 9, tzinfo=UTC))
    assert r.deployment_timed_out(d, stuck, datetime(2024, 1, 1, 0, 11, tzinfo=UTC))


NOW = datetime(2024, 1, 1, 1, 0, tzinfo=UTC)


def test_rollout_status_moves_progressing_along() -> None:
    new = rset("new", 3, 1)
    progressing = rollout_status(deploy(3), [rset("old", 1), new], new, NOW)
    assert (progressing["replicas"], progressing["updatedReplicas"],
            progressing["availableReplicas"], progressing["unavailableReplicas"]) == (4, 3, 2, 2)
    cond = find_condition(progressing.get("conditions"), "Progressing")
    assert cond is not None and cond["reason"] == "ReplicaSetUpdated"
    assert cond["message"] == 'ReplicaSet "new" is progressing.'
    available = find_condition(progressing.get("conditions"), "Available")
    assert available is not None and available["status"] == "False"  # 2 < 3 - 0

    done = rset("new", 3)
    complete = rollout_status(deploy(3), [done], done, NOW)
    cond = find_condition(complete.get("conditions"), "Progressing")
    assert cond is not None and cond["reason"] == "NewReplicaSetAvailable"


def test_no_progress_within_the_deadline_times_out_and_requeues_before() -> None:
    stalled: Object = {"replicas": 3, "updatedReplicas": 1, "availableReplicas": 2,
                       "readyReplicas": 2, "conditions": [
        {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
         "lastUpdateTime": "2024-01-01T00:55:00Z", "lastTransitionTime": "2024-01-01T00:55:00Z"}]}
    d = deploy(3, status=stalled)
    new, old = rset("new", 1, 0), rset("old", 2, 2)
    same = rollout_status(d, [old, new], new, NOW)
    assert find_condition(same.get("conditions"), "Progressing") == stalled["conditions"][0]
    assert stuck_requeue_after(d, same, NOW) == 301.0  # 5 minutes left, plus 1s
    later = datetime(2024, 1, 1, 1, 6, tzinfo=UTC)
    timed_out = find_condition(
        rollout_status(d, [old, new], new, later).get("conditions"), "Progressing")
    assert timed_out is not None and timed_out["status"] == "False"
    assert timed_out["reason"] == "ProgressDeadlineExceeded"


def test_pausing_and_resuming_show_on_progressing() -> None:
    d = deploy(3)
    assert paused_status(d, NOW) is None
    d["spec"]["paused"] = True
    paused = paused_status(d, NOW) or {}
    assert (find_condition(paused.get("conditions"), "Progressing") or {}).get("reason") == \
        "DeploymentPaused"
    d["status"], d["spec"]["paused"] = paused, False
    resumed = paused_status(d, NOW) or {}
    assert (find_condition(resumed.get("conditions"), "Progressing") or {}).get("reason") == \
        "DeploymentResumed"
