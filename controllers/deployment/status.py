"""The Deployment's status: counts over its ReplicaSets, the Available and Progressing conditions.

Kubernetes' deployment/util/deployment_util.go (SetDeploymentCondition,
calculateStatus) and the decision halves of sync.go's syncRolloutStatus,
checkPausedConditions and progress.go's requeueStuckDeployment, in pure
functions: the controller (`controller.py`) writes what they return.
"""

from __future__ import annotations

from datetime import datetime

from apimachinery import meta
from apimachinery.conditions import find_condition, get_condition
from apimachinery.meta import Object

from .rollout import (
    deployment_complete,
    deployment_progressing,
    deployment_timed_out,
    max_unavailable,
    progress_deadline,
    spec_replicas,
)

# -- conditions --------------------------------------------------------------------------------

rfc3339 = meta.rfc3339  # condition timestamps, as everywhere


def new_condition(kind: str, status: str, reason: str, message: str, now: datetime) -> Object:
    stamp = rfc3339(now)
    return {"type": kind, "status": status, "lastUpdateTime": stamp,
            "lastTransitionTime": stamp, "reason": reason, "message": message}


def set_condition(status: Object, cond: Object) -> None:
    """SetDeploymentCondition: same status and reason is no change; same status keeps the
    lastTransitionTime."""
    current = find_condition(status.get("conditions"), cond["type"])
    if current is not None and current.get("status") == cond["status"] \
            and current.get("reason") == cond["reason"]:
        return
    if current is not None and current.get("status") == cond["status"]:
        cond = {**cond, "lastTransitionTime": current.get("lastTransitionTime")}
    remove_condition(status, cond["type"])
    status.setdefault("conditions", []).append(cond)


def remove_condition(status: Object, kind: str) -> None:
    status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != kind]


# -- status ------------------------------------------------------------------------------------

def calculate_status(d: Object, all_rses: list[Object], new_rs: Object | None,
                     now: datetime) -> Object:
    """calculateStatus: counts over the ReplicaSets, observedGeneration, Available condition."""
    def total(rses: list[Object], field: str) -> int:
        return sum(int((rs.get("status") or {}).get(field) or 0) for rs in rses)

    old = d.get("status") or {}
    available = total(all_rses, "availableReplicas")
    wanted = sum(spec_replicas(rs) for rs in all_rses)
    status: Object = {
        "observedGeneration": int(meta.metadata(d).get("generation") or 0),
        "replicas": total(all_rses, "replicas"),
        "updatedReplicas": total([new_rs], "replicas") if new_rs is not None else 0,
        "readyReplicas": total(all_rses, "readyReplicas"),
        "availableReplicas": available,
        "unavailableReplicas": max(0, wanted - available),
        "conditions": meta.deep_copy(old.get("conditions") or []),
    }
    if old.get("collisionCount") is not None:
        status["collisionCount"] = old["collisionCount"]
    if available >= spec_replicas(d) - max_unavailable(d):
        cond = new_condition("Available", "True", "MinimumReplicasAvailable",
                             "Deployment has minimum availability.", now)
    else:
        cond = new_condition("Available", "False", "MinimumReplicasUnavailable",
                             "Deployment does not have minimum availability.", now)
    set_condition(status, cond)
    return status


def same_status(old: Object | None, new: Object) -> bool:
    """Whether writing `new` would change nothing (absent counts equal zero)."""
    old = old or {}
    keys = ("observedGeneration", "replicas", "updatedReplicas", "readyReplicas",
            "availableReplicas", "unavailableReplicas", "collisionCount")
    if any(int(old.get(k) or 0) != int(new.get(k) or 0) for k in keys):
        return False
    return (old.get("conditions") or []) == (new.get("conditions") or [])


def rollout_status(d: Object, all_rses: list[Object], new_rs: Object | None,
                   now: datetime) -> Object:
    """syncRolloutStatus's decision: the status, with Progressing moved on as Kubernetes does.

    Complete: NewReplicaSetAvailable. Progress since the last status: ReplicaSetUpdated
    (lastUpdateTime now, lastTransitionTime kept). No progress within
    progressDeadlineSeconds: ProgressDeadlineExceeded.
    """
    status = calculate_status(d, all_rses, new_rs, now)
    deadline = progress_deadline(d)
    if deadline is None:
        remove_condition(status, "Progressing")
        return status
    current = get_condition(d, "Progressing")
    finished = status["replicas"] == status["updatedReplicas"] and current is not None \
        and current.get("reason") == "NewReplicaSetAvailable"
    if finished:
        return status
    name = meta.name_of(new_rs) if new_rs is not None else meta.name_of(d)
    if deployment_complete(d, status):
        set_condition(status, new_condition("Progressing", "True", "NewReplicaSetAvailable",
                                            f'ReplicaSet "{name}" has successfully progressed.',
                                            now))
    elif deployment_progressing(d, status):
        cond = new_condition("Progressing", "True", "ReplicaSetUpdated",
                             f'ReplicaSet "{name}" is progressing.', now)
        if current is not None:
            if current.get("status") == "True":
                cond["lastTransitionTime"] = current.get("lastTransitionTime")
            remove_condition(status, "Progressing")
        set_condition(status, cond)
    elif deployment_timed_out(d, status, now):
        set_condition(status, new_condition("Progressing", "False", "ProgressDeadlineExceeded",
                                            f'ReplicaSet "{name}" has timed out progressing.',
                                            now))
    return status


def paused_status(d: Object, now: datetime) -> Object | None:
    """checkPausedConditions: the status to write when pausing or resuming, else None."""
    if progress_deadline(d) is None:
        return None
    status = meta.deep_copy(d.get("status") or {})
    cond = find_condition(status.get("conditions"), "Progressing")
    if cond is not None and cond.get("reason") == "ProgressDeadlineExceeded":
        return None  # a reported lack of progress is not overwritten
    shown = cond is not None and cond.get("reason") == "DeploymentPaused"
    paused = bool((d.get("spec") or {}).get("paused"))
    if paused == shown:
        return None
    reason, message = ("DeploymentPaused", "Deployment is paused") if paused else \
        ("DeploymentResumed", "Deployment is resumed")
    set_condition(status, new_condition("Progressing", "Unknown", reason, message, now))
    return status


def stuck_requeue_after(d: Object, status: Object, now: datetime) -> float | None:
    """requeueStuckDeployment: seconds until the progress deadline passes, if one applies."""
    deadline = progress_deadline(d)
    cond = get_condition(d, "Progressing")
    if deadline is None or cond is None or deployment_complete(d, status) \
            or cond.get("reason") == "ProgressDeadlineExceeded":
        return None
    since = meta.parse_time(cond.get("lastUpdateTime"))
    if since is None:
        return None
    return max((since - now).total_seconds() + deadline, 0.0) + 1.0
