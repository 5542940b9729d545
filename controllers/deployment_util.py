"""Deployment helpers: pod-template-hash, revisions, annotations, conditions, status.

Kubernetes' deployment/util/deployment_util.go and pkg/controller/history's
template hashing, in pure functions:

* `template_hash` is FNV-1a (32 bit) over the pod template's canonical JSON
  (sorted keys; nulls, empty maps and empty lists dropped; the
  pod-template-hash label left out), plus the collision count, printed in
  Kubernetes' "safe" alphabet. It is stable across processes and releases,
  and a template that `kubectl rollout undo` sends back (with
  `creationTimestamp: null` and `resources: {}`) hashes and compares equal to
  the one it came from, so the old ReplicaSet is reused rather than cloned.
* `new_rs_annotations` is SetNewReplicaSetAnnotations: the Deployment's
  annotations copied over (minus kubectl's and the controller's own) and the
  revision raised to max(old revisions) + 1 when the ReplicaSet becomes new.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from apimachinery import meta
from apimachinery.conditions import find_condition, get_condition

from .deployment_rollout import (
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    REVISION,
    by_creation,
    deployment_complete,
    deployment_progressing,
    deployment_timed_out,
    max_surge,
    max_unavailable,
    progress_deadline,
    revision_of,
    spec_replicas,
)

Object = dict[str, Any]

POD_TEMPLATE_HASH = "pod-template-hash"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ROLLBACK_TO = "deprecated.deployment.rollback.to"
# Also the auto-rollback controller's bookkeeping (autorollback_util.BOOKKEEPING): it is
# about the Deployment, and `rollout undo` would otherwise copy a stale value back.
_NOT_COPIED = {LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
               ROLLBACK_TO, "schooner.io/last-available-revision",
               "schooner.io/auto-rollback-reason", "schooner.io/auto-rollback-failed-hash"}
REVISION_HISTORY_LIMIT_CHARS = 2000
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand


# -- templates ---------------------------------------------------------------------------------

def template_without_hash(template: Object | None) -> Object:
    """A canonical copy of a pod template with the pod-template-hash label removed."""
    tpl = meta.deep_copy(template or {})
    labels = (tpl.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(POD_TEMPLATE_HASH, None)
    result: Object = meta.canonical(tpl)
    return result


def _fnv1a_32(data: bytes) -> int:
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """rand.SafeEncodeString: no vowels, no look-alikes, so a hash never spells a word."""
    return "".join(_SAFE_ALPHABET[ord(ch) % len(_SAFE_ALPHABET)] for ch in text)


def template_hash(template: Object | None, collision_count: int | None = None) -> str:
    """controller.ComputeHash: the pod-template-hash label value for this template."""
    data = orjson.dumps(template_without_hash(template), option=orjson.OPT_SORT_KEYS)
    if collision_count is not None:
        data += str(collision_count).encode()
    return safe_encode(str(_fnv1a_32(data)))


def equal_ignore_hash(a: Object | None, b: Object | None) -> bool:
    """EqualIgnoreHash: same template apart from the pod-template-hash label."""
    return template_without_hash(a) == template_without_hash(b)


# -- finding the new ReplicaSet ------------------------------------------------------------------

def find_new_rs(d: Object, rses: list[Object]) -> Object | None:
    """FindNewReplicaSet: the oldest ReplicaSet whose template equals the Deployment's."""
    template = (d.get("spec") or {}).get("template")
    for rs in by_creation(rses):
        if equal_ignore_hash((rs.get("spec") or {}).get("template"), template):
            return rs
    return None


def max_revision(rses: list[Object]) -> int:
    return max((revision_of(rs) for rs in rses), default=0)


# -- annotations ---------------------------------------------------------------------------------

def replicas_annotations(d: Object) -> dict[str, str]:
    """desired-replicas and max-replicas: what proportional scaling reads back later."""
    return {DESIRED_REPLICAS: str(spec_replicas(d)),
            MAX_REPLICAS: str(spec_replicas(d) + max_surge(d))}


def new_rs_annotations(d: Object, rs_annotations: dict[str, str] | None, new_revision: int,
                       exists: bool) -> tuple[dict[str, str], bool]:
    """SetNewReplicaSetAnnotations: (annotations, whether anything changed)."""
    out = dict(rs_annotations or {})
    changed = False
    for key, value in (meta.metadata(d).get("annotations") or {}).items():
        if key in _NOT_COPIED or out.get(key) == value:
            continue
        out[key], changed = value, True
    old_raw = out.get(REVISION)
    try:
        old_revision = int(old_raw) if old_raw else 0
    except ValueError:
        return out, changed
    if old_revision < new_revision:
        out[REVISION], changed = str(new_revision), True
        if old_raw:  # an old ReplicaSet becomes new again (a rollback): keep its history
            history = [h for h in out.get(REVISION_HISTORY, "").split(",") if h]
            history.append(old_raw)
            while history and len(",".join(history)) > REVISION_HISTORY_LIMIT_CHARS:
                history.pop(0)
            out[REVISION_HISTORY] = ",".join(history)
    if not exists:
        for key, value in replicas_annotations(d).items():
            if out.get(key) != value:
                out[key], changed = value, True
    return out, changed


def build_new_rs(d: Object, pod_hash: str, replicas: int,
                 annotations: dict[str, str]) -> Object:
    """The ReplicaSet `{deployment}-{hash}`: template, labels and selector carry the hash."""
    spec = d.get("spec") or {}
    template = meta.deep_copy(spec.get("template") or {})
    tmeta = template.setdefault("metadata", {})
    labels = {**(tmeta.get("labels") or {}), POD_TEMPLATE_HASH: pod_hash}
    tmeta["labels"] = labels
    selector = meta.deep_copy(spec.get("selector") or {})
    selector["matchLabels"] = {**(selector.get("matchLabels") or {}),
                               POD_TEMPLATE_HASH: pod_hash}
    md = meta.metadata(d)
    rs_spec: Object = {"replicas": replicas, "selector": selector, "template": template}
    if spec.get("minReadySeconds"):
        rs_spec["minReadySeconds"] = spec["minReadySeconds"]
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {
            "name": f"{md.get('name')}-{pod_hash}", "namespace": md.get("namespace"),
            "labels": dict(labels), "annotations": annotations,
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                 "name": md.get("name"), "uid": md.get("uid"),
                                 "controller": True, "blockOwnerDeletion": True}],
        },
        "spec": rs_spec,
    }


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
