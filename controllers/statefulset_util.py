"""StatefulSet decisions in pure functions: identity, revisions, what to do next, status.

Kubernetes' pkg/controller/statefulset (stateful_set_utils.go and the decision
half of stateful_set_control.go). Pods are named `NAME-0 .. NAME-(N-1)`; each
keeps its name, hostname and storage across being replaced.

* `plan_pods` is updateStatefulSet's walk, without the I/O: with the
  OrderedReady policy ("monotonic") it creates the first missing ordinal and
  stops, waits until every lower ordinal is Running and Ready (and available
  for minReadySeconds), scales down from the highest ordinal one pod at a
  time; with Parallel it creates and deletes every pod that needs it at once.
  Then, for the RollingUpdate strategy, it deletes the highest-ordinal pod
  not at the update revision (down to `partition`), one pod at a time, each
  Ready before the next; the pod is recreated at the new revision on a later
  sync, once it is gone. OnDelete changes nothing until a pod is deleted.
* Revisions: Kubernetes stores each template in a ControllerRevision and labels
  pods `controller-revision-hash: NAME-HASH`. Schooner has no ControllerRevision
  kind yet, so the revision name is the same `NAME-HASH` computed from the
  template (`deployment_util.template_hash`), and the templates of older
  revisions are only known to the controller's memory (see `statefulset.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from apimachinery import meta
from apimachinery.conditions import is_ready

from . import controller_ref as refs
from .deployment_util import template_hash
from .pods import is_pod_available

Object = dict[str, Any]

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
REVISION_LABEL = "controller-revision-hash"
_ORDINAL_NAME = re.compile(r"^(.*)-([0-9]+)$")


# -- identity ----------------------------------------------------------------------------------

def parent_and_ordinal(pod: Object) -> tuple[str, int]:
    """getParentNameAndOrdinal: `web-2` -> ("web", 2); ("", -1) when the name has no ordinal."""
    match = _ORDINAL_NAME.match(meta.name_of(pod))
    if match is None:
        return "", -1
    return match.group(1), int(match.group(2))


def ordinal_of(pod: Object) -> int:
    return parent_and_ordinal(pod)[1]


def is_member_of(sts: Object, pod: Object) -> bool:
    """isMemberOf: the pod's name says it belongs to this StatefulSet (`NAME-<ordinal>`)."""
    return parent_and_ordinal(pod)[0] == meta.name_of(sts)


def pod_name(sts: Object, ordinal: int) -> str:
    return f"{meta.name_of(sts)}-{ordinal}"


def claim_name(template_name: str, sts: Object, ordinal: int) -> str:
    """getPersistentVolumeClaimName: `<template>-<statefulset>-<ordinal>`."""
    return f"{template_name}-{meta.name_of(sts)}-{ordinal}"


def identity_matches(sts: Object, pod: Object) -> bool:
    """identityMatches: right parent, name and pod-name label (what a repair can fix)."""
    return (is_member_of(sts, pod) and meta.namespace_of(pod) == meta.namespace_of(sts)
            and meta.labels_of(pod).get(POD_NAME_LABEL) == meta.name_of(pod))


# -- spec accessors ----------------------------------------------------------------------------

def _spec(sts: Object) -> Object:
    return sts.get("spec") or {}


def spec_replicas(sts: Object) -> int:
    replicas = _spec(sts).get("replicas")
    return 1 if replicas is None else int(replicas)


def min_ready_seconds(sts: Object) -> int:
    return int(_spec(sts).get("minReadySeconds") or 0)


def allows_burst(sts: Object) -> bool:
    """allowsBurst: podManagementPolicy Parallel; OrderedReady (the default) is monotonic."""
    return _spec(sts).get("podManagementPolicy") == "Parallel"


def update_strategy(sts: Object) -> str:
    return (_spec(sts).get("updateStrategy") or {}).get("type") or "RollingUpdate"


def partition(sts: Object) -> int:
    """RollingUpdate's partition: ordinals below it stay at the current revision."""
    strategy = _spec(sts).get("updateStrategy") or {}
    if update_strategy(sts) != "RollingUpdate":
        return 0
    return int((strategy.get("rollingUpdate") or {}).get("partition") or 0)


# -- revisions ---------------------------------------------------------------------------------

def revision_name(sts: Object) -> str:
    """The update revision: `NAME-HASH` of the pod template, as a ControllerRevision is named."""
    return f"{meta.name_of(sts)}-{template_hash(_spec(sts).get('template'))}"


def pod_revision(pod: Object) -> str:
    return meta.labels_of(pod).get(REVISION_LABEL, "")


def current_revision(sts: Object, update: str) -> str:
    """status.currentRevision, or the update revision for a StatefulSet never synced."""
    return (sts.get("status") or {}).get("currentRevision") or update


def revision_for_ordinal(sts: Object, ordinal: int, current: str, update: str) -> str:
    """newVersionedStatefulSetPod: below the partition a new pod is at the current revision."""
    if update_strategy(sts) == "RollingUpdate" and ordinal < partition(sts):
        return current
    return update


# -- new pods ----------------------------------------------------------------------------------

def new_stateful_pod(sts: Object, ordinal: int, revision: str,
                     template: Object | None = None) -> Object:
    """newStatefulSetPod + setPodRevision: the pod for `ordinal` from `template`.

    Labels are the template's plus pod-name, pod-index and controller-revision-hash;
    `spec.hostname` is the pod name and `spec.subdomain` the governing service, so the
    pod's DNS name is stable. Each volumeClaimTemplate becomes a volume of the same
    name whose `persistentVolumeClaim.claimName` is `<template>-<sts>-<ordinal>`
    (updateStorage). No PersistentVolumeClaim objects are created: the node agent
    backs each claim name with a named Docker volume, which outlives the pod, so a
    replacement pod with the same ordinal finds its data again.
    """
    tpl = template if template is not None else _spec(sts).get("template") or {}
    tmeta = tpl.get("metadata") or {}
    name = pod_name(sts, ordinal)
    labels = {**(tmeta.get("labels") or {}), POD_NAME_LABEL: name,
              POD_INDEX_LABEL: str(ordinal), REVISION_LABEL: revision}
    md: Object = {"name": name, "namespace": meta.namespace_of(sts), "labels": labels,
                  "ownerReferences": [refs.new_controller_ref(sts, "apps/v1", "StatefulSet")]}
    for key in ("annotations", "finalizers"):
        if tmeta.get(key):
            md[key] = meta.deep_copy(tmeta[key])
    spec = meta.deep_copy(tpl.get("spec") or {})
    spec["hostname"] = name
    if _spec(sts).get("serviceName"):
        spec["subdomain"] = _spec(sts)["serviceName"]
    claims = [((c.get("metadata") or {}).get("name") or "")
              for c in _spec(sts).get("volumeClaimTemplates") or []]
    claims = [c for c in claims if c]
    if claims:
        others = [v for v in spec.get("volumes") or [] if v.get("name") not in claims]
        spec["volumes"] = [{"name": c, "persistentVolumeClaim": {
            "claimName": claim_name(c, sts, ordinal)}} for c in claims] + others
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec}


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
