"""The Deployment's new ReplicaSet: which one it is, its revision, its annotations.

Kubernetes' deployment/util/deployment_util.go (FindNewReplicaSet,
SetNewReplicaSetAnnotations) and the ReplicaSet that sync.go's getNewReplicaSet
builds, in pure functions. `new_rs_annotations` copies the Deployment's
annotations over (minus kubectl's and the controller's own) and raises the
revision to max(old revisions) + 1 when the ReplicaSet becomes new, keeping
the revisions an old ReplicaSet had in `deployment.kubernetes.io/revision-history`.
"""

from __future__ import annotations

from apimachinery import meta
from apimachinery.meta import Object

from ..common.template_hash import POD_TEMPLATE_HASH, equal_ignore_hash
from .rollout import (
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    REVISION,
    by_creation,
    max_surge,
    revision_of,
    spec_replicas,
)

REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ROLLBACK_TO = "deprecated.deployment.rollback.to"
# Also the auto-rollback controller's bookkeeping (autorollback.decisions.BOOKKEEPING): it is
# about the Deployment, and `rollout undo` would otherwise copy a stale value back.
_NOT_COPIED = {LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
               ROLLBACK_TO, "schooner.io/last-available-revision",
               "schooner.io/auto-rollback-reason", "schooner.io/auto-rollback-failed-hash"}
REVISION_HISTORY_LIMIT_CHARS = 2000


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
