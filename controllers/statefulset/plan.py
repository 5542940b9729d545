"""What a StatefulSet's controller does next, and the status it writes, in pure functions.

The decision half of Kubernetes' stateful_set_control.go. `plan_pods` is
updateStatefulSet's walk, without the I/O: with the OrderedReady policy
("monotonic") it creates the first missing ordinal and stops, waits until
every lower ordinal is Running and Ready (and available for
minReadySeconds), scales down from the highest ordinal one pod at a time;
with Parallel it creates and deletes every pod that needs it at once. Then,
for the RollingUpdate strategy, it deletes the highest-ordinal pod not at the
update revision (down to `partition`), one pod at a time, each Ready before
the next; the pod is recreated at the new revision on a later sync, once it
is gone. OnDelete changes nothing until a pod is deleted. Names, ordinals and
revisions are `identity`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from apimachinery import meta
from apimachinery.conditions import is_ready
from apimachinery.meta import Object

from ..common import controller_ref as refs
from ..common.pods import is_pod_available
from .identity import (
    allows_burst,
    identity_matches,
    min_ready_seconds,
    ordinal_of,
    partition,
    pod_name,
    pod_revision,
    revision_for_ordinal,
    spec_replicas,
    update_strategy,
)

# -- pod health --------------------------------------------------------------------------------

def is_terminating(pod: Object) -> bool:
    return bool(meta.metadata(pod).get("deletionTimestamp"))


def is_finished(pod: Object) -> bool:
    """Failed or Succeeded: Kubernetes deletes such a pod and recreates it."""
    return (pod.get("status") or {}).get("phase") in ("Failed", "Succeeded")


def is_running_and_ready(pod: Object) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and is_ready(pod)


def is_running_and_available(pod: Object, min_ready: int, now: datetime) -> bool:
    return is_running_and_ready(pod) and is_pod_available(pod, min_ready, now)


def is_unavailable(pod: Object | None, min_ready: int, now: datetime) -> bool:
    """isUnavailable: missing, terminating, or not Running+Ready for minReadySeconds."""
    return pod is None or is_terminating(pod) or not is_running_and_available(
        pod, min_ready, now)


# -- the decision ------------------------------------------------------------------------------

@dataclass
class Plan:
    """What one sync does: create these (ordinal, revision), delete these pods, relabel these.

    `wait` says, for the log, why the walk stopped before the end (empty: it did not).
    """

    create: list[tuple[int, str]] = field(default_factory=list)
    delete: list[tuple[Object, str]] = field(default_factory=list)
    relabel: list[Object] = field(default_factory=list)
    wait: str = ""

    def stop(self, reason: str) -> Plan:
        self.wait = reason
        return self


def split_by_ordinal(sts: Object, pods: list[Object]) -> tuple[list[Object | None],
                                                                  list[Object]]:
    """(replicas indexed by ordinal, None where missing; condemned, highest ordinal first)."""
    slots: list[Object | None] = [None] * spec_replicas(sts)
    condemned: list[Object] = []
    for pod in pods:
        ordinal = ordinal_of(pod)
        if 0 <= ordinal < len(slots):
            slots[ordinal] = pod
        elif ordinal >= len(slots):
            condemned.append(pod)
    condemned.sort(key=ordinal_of, reverse=True)
    return slots, condemned


def plan_pods(sts: Object, pods: list[Object], current: str, update: str,
              now: datetime) -> Plan:
    """updateStatefulSet's decisions over the StatefulSet's own pods (pure)."""
    plan = Plan()
    if refs.is_deleting(sts):
        return plan.stop("statefulset-deleting")
    min_ready = min_ready_seconds(sts)
    slots, condemned = split_by_ordinal(sts, pods)
    unhealthy = [p for p in [*slots, *reversed(condemned)] if is_unavailable(p, min_ready, now)]
    first_unhealthy = unhealthy[0] if unhealthy else None
    monotonic = not allows_burst(sts)
    doomed: set[str] = set()

    for ordinal, pod in enumerate(slots):
        if pod is None:
            plan.create.append((ordinal, revision_for_ordinal(sts, ordinal, current, update)))
            if monotonic:
                return plan.stop(f"created {pod_name(sts, ordinal)}")
            continue
        name = meta.name_of(pod)
        if is_finished(pod):  # recreated on a later sync, once it is gone
            if not is_terminating(pod):
                plan.delete.append((pod, "finished"))
                doomed.add(name)
            if monotonic:
                return plan.stop(f"{name} finished")
            continue
        if monotonic and is_terminating(pod):
            return plan.stop(f"{name} terminating")
        if monotonic and not is_running_and_ready(pod):
            return plan.stop(f"{name} not running and ready")
        if monotonic and not is_running_and_available(pod, min_ready, now):
            return plan.stop(f"{name} not available")
        if not identity_matches(sts, pod):
            plan.relabel.append(pod)

    for pod in condemned:  # highest ordinal first
        name = meta.name_of(pod)
        if is_terminating(pod):
            if monotonic:
                return plan.stop(f"{name} terminating for scale down")
            continue
        if monotonic and is_unavailable(pod, min_ready, now) and pod is not first_unhealthy:
            return plan.stop(f"{meta.name_of(first_unhealthy or pod)} unhealthy before "
                             "scale down")
        plan.delete.append((pod, "scale-down"))
        doomed.add(name)
        if monotonic:
            return plan.stop(f"deleting {name}")

    if update_strategy(sts) == "OnDelete":
        return plan
    for target in range(len(slots) - 1, partition(sts) - 1, -1):
        pod = slots[target]
        if pod is not None and meta.name_of(pod) in doomed:
            return plan.stop(f"{meta.name_of(pod)} being replaced")
        if pod is not None and pod_revision(pod) != update and not is_terminating(pod):
            plan.delete.append((pod, "update"))
            return plan.stop(f"updating {meta.name_of(pod)}")
        if is_unavailable(pod, min_ready, now):
            return plan.stop(f"{pod_name(sts, target)} unavailable during update")
    return plan


# -- status ------------------------------------------------------------------------------------

def compute_status(sts: Object, pods: list[Object], current: str, update: str,
                   now: datetime) -> Object:
    """updateStatus + completeRollingUpdate over the pods with an ordinal.

    Once every pod is at the update revision and ready, the update revision becomes
    the current one (RollingUpdate only: Kubernetes never completes an OnDelete
    rollout in status either).
    """
    min_ready = min_ready_seconds(sts)
    counted = [p for p in pods if ordinal_of(p) >= 0]
    live = [p for p in counted if not is_terminating(p)]
    ready = [p for p in counted if is_running_and_ready(p)]
    status: Object = {
        "observedGeneration": int(meta.metadata(sts).get("generation") or 0),
        "replicas": len(counted),
        "readyReplicas": len(ready),
        "currentReplicas": sum(1 for p in live if pod_revision(p) == current),
        "updatedReplicas": sum(1 for p in live if pod_revision(p) == update),
        "availableReplicas": sum(1 for p in ready
                                 if is_running_and_available(p, min_ready, now)),
        "currentRevision": current,
        "updateRevision": update,
        "collisionCount": 0,
    }
    if update_strategy(sts) == "RollingUpdate" and \
            status["updatedReplicas"] == status["replicas"] == status["readyReplicas"]:
        status["currentReplicas"] = status["updatedReplicas"]
        status["currentRevision"] = update
    return status


STATUS_FIELDS = ("observedGeneration", "replicas", "readyReplicas", "currentReplicas",
                 "updatedReplicas", "availableReplicas", "currentRevision", "updateRevision",
                 "collisionCount")


def status_changed(sts: Object, status: Object) -> bool:
    """inconsistentStatus: any counted field or revision differs from what is stored."""
    old = sts.get("status") or {}
    return any(old.get(f) != status.get(f) for f in STATUS_FIELDS)
