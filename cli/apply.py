"""Client-side `apply`: create what is missing, patch what changed, as `kubectl apply` does.

kubectl's client-side apply keeps the manifest it last applied in the
`kubectl.kubernetes.io/last-applied-configuration` annotation. On the next
apply it computes a three-way patch from that (what the user said last time),
the new manifest (what the user says now) and the live object (what the
cluster holds, including fields other writers own), so a field removed from
the file is removed from the object while fields set by controllers survive.

The decision (`plan_apply`) is a pure function of plain objects; `apply_one`
does the I/O around it. Schooner sends a JSON merge patch where kubectl sends
a strategic merge patch for built-in kinds: lists are replaced whole.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from apimachinery import errors
from apimachinery.applypatch import three_way_merge_patch
from apimachinery.meta import Object
from apimachinery.resources import ResourceInfo
from cli.manifests import Manifest, ManifestError

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

Action = Literal["created", "configured", "unchanged"]


class ApplyClient(Protocol):
    """The part of `apimachinery.client.Client` that apply uses."""

    def get(self, resource: ResourceInfo, name: str, namespace: str | None = None) -> Object: ...

    def create(self, resource: ResourceInfo, obj: Object,
               namespace: str | None = None) -> Object: ...

    def patch(self, resource: ResourceInfo, name: str, patch: Any,
              namespace: str | None = None, *, patch_type: str = "merge") -> Object: ...


@dataclass(frozen=True)
class ApplyPlan:
    """What to do for one object: create it (body = object), patch it (body = patch), or not."""

    action: Literal["create", "patch", "none"]
    body: Object
    missing_annotation: bool = False


@dataclass(frozen=True)
class ApplyResult:
    ref: str
    action: Action
    object: Object
    warning: str | None = None

    def __str__(self) -> str:
        """kubectl's line: `deployment.apps/web configured`."""
        return f"{self.ref} {self.action}"


def object_ref(resource: ResourceInfo, name: str) -> str:
    """`deployment.apps/web` or `service/web`: kubectl's `-o name` spelling."""
    kind = resource.kind.lower()
    return f"{kind}.{resource.group}/{name}" if resource.group else f"{kind}/{name}"


def last_applied_configuration(obj: Object) -> str:
    """The annotation's value: compact JSON, sorted keys, without the annotation itself."""
    clean = copy.deepcopy(obj)
    meta = clean.get("metadata") or {}
    annotations = meta.get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(LAST_APPLIED, None)
        if not annotations:
            del meta["annotations"]
    return json.dumps(clean, sort_keys=True, separators=(",", ":"))


def with_last_applied(obj: Object) -> Object:
    """A copy of the manifest carrying its own last-applied annotation (kubectl's `modified`)."""
    value = last_applied_configuration(obj)
    out = copy.deepcopy(obj)
    meta = out.setdefault("metadata", {})
    meta["annotations"] = {**(meta.get("annotations") or {}), LAST_APPLIED: value}
    return out


def _original(live: Object) -> Object | None:
    """The manifest last applied to `live`, or None (created imperatively, or unreadable)."""
    raw = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    if not raw:
        return None
    try:
        parsed = json.loads(raw)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def plan_apply(manifest: Object, live: Object | None) -> ApplyPlan:
    """Decide create / patch / nothing for one manifest against its live object (or None)."""
    modified = with_last_applied(manifest)
    if live is None:
        return ApplyPlan("create", modified)
    original = _original(live)
    patch = three_way_merge_patch(original, modified, live)
    return ApplyPlan("patch" if patch else "none", patch, missing_annotation=original is None)


def with_namespace(manifest: Manifest, namespace: str, *, explicit: bool) -> Object:
    """The object with its namespace defaulted, as kubectl's builder does.

    A namespaced object without `metadata.namespace` lands in `namespace` (the
    `-n` flag or the kubeconfig context's). One that names a different
    namespace than an explicit `-n` is refused, with kubectl's message.
    """
    obj = copy.deepcopy(manifest.obj)
    if not manifest.resource.namespaced:
        return obj
    own = manifest.namespace
    if own and explicit and own != namespace:
        raise ManifestError(
            f'the namespace from the provided object "{own}" does not match the namespace '
            f'"{namespace}". You must pass \'--namespace={own}\' to perform this operation.'
        )
    if not own:
        obj.setdefault("metadata", {})["namespace"] = namespace
    return obj


def _missing_annotation_warning(resource: ResourceInfo, name: str) -> str:
    return (f"Warning: resource {resource.group_resource}/{name} is missing the {LAST_APPLIED} "
            "annotation which is required by apply; it will be patched automatically.")


def apply_one(client: ApplyClient, resource: ResourceInfo, obj: Object) -> ApplyResult:
    """GET the live object, then create, merge-patch, or leave it, per `plan_apply`."""
    meta = obj.get("metadata") or {}
    name, namespace = str(meta.get("name") or ""), meta.get("namespace") or None
    ns = namespace if resource.namespaced else None
    ref = object_ref(resource, name)
    try:
        live: Object | None = client.get(resource, name, ns)
    except errors.NotFound:
        live = None
    plan = plan_apply(obj, live)
    if live is None:
        return ApplyResult(ref, "created", client.create(resource, plan.body, ns))
    warning = _missing_annotation_warning(resource, name) if plan.missing_annotation else None
    if plan.action == "none":
        return ApplyResult(ref, "unchanged", live, warning)
    patched = client.patch(resource, name, plan.body, ns, patch_type="merge")
    return ApplyResult(ref, "configured", patched, warning)
