"""A Deployment's revisions, and the patches `rollout undo|restart|pause|resume` send.

Pure functions over plain dicts, mirroring k8s.io/kubectl/pkg/polymorphichelpers:
history.go (a revision is a ReplicaSet the Deployment controls, numbered by its
`deployment.kubernetes.io/revision` annotation and explained by its
`kubernetes.io/change-cause`), rollback.go (undo copies a revision's pod
template, minus `pod-template-hash`, back into the Deployment with that
ReplicaSet's annotations, and skips when the templates already match),
objectrestarter.go, objectpauser.go and objectresumer.go. The caller does the
I/O; errors are raised as `CommandError` with kubectl's wording.
"""

from __future__ import annotations

import copy
from datetime import datetime

from apimachinery.meta import Object, canonical, metadata, name_of, rfc3339
from apimachinery.resources import ResourceInfo
from cli.output_formats import tabwrite

from .commands import CommandError
from .rollout_status import REVISION

CHANGE_CAUSE = "kubernetes.io/change-cause"
POD_TEMPLATE_HASH = "pod-template-hash"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
# rollback.go's annotationsToSkip: the Deployment keeps its own values of these on undo.
ANNOTATIONS_TO_SKIP = frozenset({
    "kubectl.kubernetes.io/last-applied-configuration", REVISION,
    "deployment.kubernetes.io/revision-history", "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas", "deprecated.deployment.rollback.to",
})
NO_HISTORY = "No rollout history found."


def _annotations(obj: Object) -> dict[str, str]:
    return dict(metadata(obj).get("annotations") or {})


def controlled_by(obj: Object, owner: Object) -> bool:
    """metav1.IsControlledBy: a `controller: true` owner reference to the owner's UID."""
    uid = metadata(owner).get("uid")
    return any(ref.get("controller") and ref.get("uid") == uid
               for ref in metadata(obj).get("ownerReferences") or [])


def revisions(deployment: Object, replica_sets: list[Object]) -> dict[int, Object]:
    """The Deployment's own ReplicaSets by revision (GetAllReplicaSets + Revision)."""
    out: dict[int, Object] = {}
    for rs in replica_sets:
        if not controlled_by(rs, deployment):
            continue
        try:
            out[int(_annotations(rs)[REVISION])] = rs
        except (KeyError, ValueError):
            continue  # kubectl skips a ReplicaSet whose revision it cannot read
    return out


def history_table(by_revision: dict[int, Object]) -> str:
    """`REVISION  CHANGE-CAUSE` rows in revision order (tabwriter padding 2), as kubectl."""
    if not by_revision:
        return NO_HISTORY + "\n"
    lines = ["REVISION\tCHANGE-CAUSE"]
    lines += [f"{rev}\t{_annotations(rs).get(CHANGE_CAUSE) or '<none>'}"
              for rev, rs in sorted(by_revision.items())]
    return tabwrite(lines, padding=2)


def revision_template(by_revision: dict[int, Object], revision: int) -> Object:
    """The pod template of one revision, its change-cause among the template's annotations."""
    rs = by_revision.get(revision)
    if rs is None:
        raise CommandError("unable to find the specified revision")
    template = copy.deepcopy((rs.get("spec") or {}).get("template") or {})
    cause = _annotations(rs).get(CHANGE_CAUSE)
    if cause:
        template.setdefault("metadata", {}).setdefault("annotations", {})[CHANGE_CAUSE] = cause
    return template


def rollback_target(deployment: Object, by_revision: dict[int, Object],
                    to_revision: int) -> Object:
    """deploymentRevision: the ReplicaSet of `to_revision`, or of the previous one for 0."""
    if to_revision < 0 or (to_revision > 0 and to_revision not in by_revision):
        raise CommandError(f"unable to find specified revision {to_revision} in history")
    if to_revision > 0:
        return by_revision[to_revision]
    ordered = sorted(by_revision)
    if len(ordered) < 2:
        raise CommandError(f'no rollout history found for deployment "{name_of(deployment)}"')
    return by_revision[ordered[-2]]


def without_hash(template: Object | None) -> Object:
    """A copy of a pod template without the pod-template-hash label."""
    out = copy.deepcopy(template or {})
    labels = (out.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(POD_TEMPLATE_HASH, None)
    return out


def equal_ignore_hash(a: Object | None, b: Object | None) -> bool:
    """rollback.go's equalIgnoreHash, with Go's semantic equality for empty values."""
    return bool(canonical(without_hash(a)) == canonical(without_hash(b)))


def rollback_patch(deployment: Object, rs: Object) -> list[Object] | None:
    """The JSON patch `rollout undo` sends, or None when the templates already match.

    The template is the ReplicaSet's without pod-template-hash; the annotations
    are the Deployment's own skipped ones plus the ReplicaSet's other ones, so
    the change-cause of the restored revision comes back with it.
    """
    template = (rs.get("spec") or {}).get("template")
    if equal_ignore_hash(template, (deployment.get("spec") or {}).get("template")):
        return None
    current = _annotations(deployment)
    annotations = {k: v for k, v in current.items() if k in ANNOTATIONS_TO_SKIP}
    annotations.update({k: v for k, v in _annotations(rs).items()
                        if k not in ANNOTATIONS_TO_SKIP})
    return [{"op": "replace", "path": "/spec/template", "value": without_hash(template)},
            {"op": "replace" if "annotations" in metadata(deployment) else "add",
             "path": "/metadata/annotations", "value": annotations}]


def _paused(obj: Object) -> bool:
    return bool((obj.get("spec") or {}).get("paused"))


def _refuse(resource: ResourceInfo, name: str, why: str) -> CommandError:
    """kubectl's `error: deployments.apps "web" is already paused` form."""
    return CommandError(f'{resource.group_resource} "{name}" {why}')


def restart_patch(resource: ResourceInfo, obj: Object, now: datetime) -> Object:
    """objectrestarter: stamp the pod template, so every pod is replaced (a new revision)."""
    if resource.kind not in ("Deployment", "StatefulSet"):
        raise _refuse(resource, name_of(obj), "restarting is not supported")
    if resource.kind == "Deployment" and _paused(obj):
        raise _refuse(resource, name_of(obj),
                      "can't restart paused deployment (run rollout resume first)")
    return {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: rfc3339(now)}}}}}


def pause_patch(resource: ResourceInfo, obj: Object, *, paused: bool) -> Object:
    """objectpauser / objectresumer: set or clear spec.paused on a Deployment."""
    if resource.kind != "Deployment":
        raise _refuse(resource, name_of(obj),
                      "pausing is not supported" if paused else "resuming is not supported")
    if _paused(obj) == paused:
        raise _refuse(resource, name_of(obj), "is already paused" if paused else "is not paused")
    return {"spec": {"paused": True if paused else None}}
