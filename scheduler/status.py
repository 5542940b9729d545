"""The PodScheduled=False condition the scheduler writes when a pod fits nowhere.

Mirrors `updatePod` in kube-scheduler's schedule_one.go: a strategic merge
patch of `status.conditions` (merged by `type`, so the agent's conditions are
kept) through the status subresource, and no write at all when the pod
already carries the same condition, so a pod retried every few seconds does
not rewrite itself (and wake every watcher) each time.
"""

from __future__ import annotations

from datetime import datetime

from apimachinery.meta import Object, pod_status
from apimachinery.typeddicts import Pod, PodCondition

UNSCHEDULABLE = "Unschedulable"
SCHEDULER_ERROR = "SchedulerError"


def pod_scheduled_condition(pod: Pod) -> PodCondition | None:
    for condition in pod_status(pod).get("conditions") or []:
        if condition.get("type") == "PodScheduled":
            return condition
    return None


def unschedulable_patch(pod: Pod, reason: str, message: str,
                        now: datetime) -> Object | None:
    """The status patch recording `PodScheduled=False`, or None if already recorded.

    lastTransitionTime moves only when the status changes, as Kubernetes keeps it.
    """
    current: PodCondition = pod_scheduled_condition(pod) or {}
    if (current.get("status"), current.get("reason"), current.get("message")) == (
            "False", reason, message):
        return None
    since = current.get("lastTransitionTime") if current.get("status") == "False" else None
    condition: PodCondition = {
        "type": "PodScheduled", "status": "False", "reason": reason, "message": message,
        "lastTransitionTime": since or now.strftime("%Y-%m-%dT%H:%M:%SZ")}
    return {"status": {"conditions": [condition]}}
