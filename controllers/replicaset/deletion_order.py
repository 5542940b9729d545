"""Which pods a ReplicaSet deletes first when it scales down.

Kubernetes' controller_utils ActivePodsWithRanks and the ReplicaSet
controller's getPodsToDelete, as pure functions over wire-format pod dicts:
unassigned before assigned, Pending before Unknown before Running, not ready
before ready, lower pod-deletion-cost first, pods doubled up on a node (with
the related ReplicaSets' pods counted) before lonely ones, recently ready
before long ready, more restarts before fewer, newer before older.
"""

from __future__ import annotations

import functools
from collections import Counter
from datetime import datetime

from apimachinery import meta
from apimachinery.conditions import is_ready
from apimachinery.meta import Object

from ..common.pods import is_pod_active, pod_ready_time

DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"
_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}


def max_restarts(pod: Object) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return max((int(s.get("restartCount") or 0) for s in statuses), default=0)


def deletion_cost(pod: Object) -> int:
    """The pod-deletion-cost annotation (0 when absent or not an integer)."""
    raw = (meta.metadata(pod).get("annotations") or {}).get(DELETION_COST_ANNOTATION)
    try:
        return int(raw) if raw is not None else 0
    except ValueError:
        return 0


def _after_or_zero(t1: datetime | None, t2: datetime | None) -> bool:
    """Kubernetes' afterOrZero: a missing time sorts first, then the later time."""
    if t1 is None or t2 is None:
        return t1 is None
    return t1 > t2


def _less(a: Object, rank_a: int, b: Object, rank_b: int) -> bool:
    """ActivePodsWithRanks.Less: True when `a` should be deleted before `b`."""
    node_a = (a.get("spec") or {}).get("nodeName") or ""
    node_b = (b.get("spec") or {}).get("nodeName") or ""
    if node_a != node_b and (not node_a or not node_b):
        return not node_a  # 1. unscheduled < scheduled
    phase_a = _PHASE_ORDINAL.get((a.get("status") or {}).get("phase") or "", 0)
    phase_b = _PHASE_ORDINAL.get((b.get("status") or {}).get("phase") or "", 0)
    if phase_a != phase_b:
        return phase_a < phase_b  # 2. Pending < Unknown < Running
    ready_a, ready_b = is_ready(a), is_ready(b)
    if ready_a != ready_b:
        return not ready_a  # 3. not ready < ready
    if deletion_cost(a) != deletion_cost(b):
        return deletion_cost(a) < deletion_cost(b)  # 4. lower deletion cost first
    if rank_a != rank_b:
        return rank_a > rank_b  # 5. doubled up on a node < alone
    if ready_a and ready_b:
        time_a, time_b = pod_ready_time(a), pod_ready_time(b)
        if time_a != time_b:
            return _after_or_zero(time_a, time_b)  # 6. ready more recently first
    restarts_a, restarts_b = max_restarts(a), max_restarts(b)
    if restarts_a != restarts_b:
        return restarts_a > restarts_b  # 7. more restarts first
    created_a = meta.parse_time(meta.metadata(a).get("creationTimestamp"))
    created_b = meta.parse_time(meta.metadata(b).get("creationTimestamp"))
    if created_a != created_b:
        return _after_or_zero(created_a, created_b)  # 8. newer first
    return False


def rank_by_related_pods(pods: list[Object], related: list[Object]) -> list[int]:
    """For each pod, how many active related pods share its node (its 'doubled up' rank)."""
    on_node = Counter((p.get("spec") or {}).get("nodeName") or ""
                      for p in related if is_pod_active(p))
    return [on_node[(p.get("spec") or {}).get("nodeName") or ""] for p in pods]


def sort_for_deletion(pods: list[Object], related: list[Object] | None = None) -> list[Object]:
    """Pods in the order a ReplicaSet deletes them: the cheapest to lose first."""
    ranks = rank_by_related_pods(pods, related if related is not None else pods)
    ranked = list(zip(pods, ranks, strict=True))

    def compare(x: tuple[Object, int], y: tuple[Object, int]) -> int:
        if _less(x[0], x[1], y[0], y[1]):
            return -1
        return 1 if _less(y[0], y[1], x[0], x[1]) else 0

    return [p for p, _ in sorted(ranked, key=functools.cmp_to_key(compare))]


def pods_to_delete(pods: list[Object], related: list[Object] | None, count: int) -> list[Object]:
    """getPodsToDelete: `count` pods, ranked only when some must be kept."""
    if count >= len(pods):
        return list(pods)
    return sort_for_deletion(pods, related)[:count]
