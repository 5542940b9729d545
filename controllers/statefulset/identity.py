"""A StatefulSet's pods: names and ordinals, spec fields, revisions, the pod for an ordinal.

Kubernetes' pkg/controller/statefulset/stateful_set_utils.go, in pure
functions. Pods are named `NAME-0 .. NAME-(N-1)`; each keeps its name,
hostname and storage across being replaced.

Revisions: Kubernetes stores each template in a ControllerRevision and labels
pods `controller-revision-hash: NAME-HASH`. Schooner has no ControllerRevision
kind yet, so the revision name is the same `NAME-HASH` computed from the
template (`common.template_hash`), and the templates of older revisions are
only known to the controller's memory (see `controller.py`).
"""

from __future__ import annotations

import re

from apimachinery import meta
from apimachinery.meta import Object

from ..common import controller_ref as refs
from ..common.template_hash import template_hash

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
