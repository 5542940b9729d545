"""The subresources that are views of another object: `scale` and `binding`.

`scale` presents a workload as an `autoscaling/v1 Scale` (what `kubectl scale`
and autoscalers read and write); `binding` is how the scheduler assigns a pod
to a node without being allowed to rewrite the pod (Kubernetes' BindingREST).
"""

from __future__ import annotations

import copy
from typing import Any

from apimachinery import errors
from apimachinery.errors import FieldError
from apimachinery.resources import ResourceInfo
from apimachinery.selectors import selector_from_dict

Object = dict[str, Any]


def to_scale(resource: ResourceInfo, obj: Object) -> Object:
    """The Scale view of a Deployment, ReplicaSet or StatefulSet."""
    meta = obj.get("metadata") or {}
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                          "creationTimestamp") if k in meta},
        "spec": {"replicas": int(spec.get("replicas", 0))},
        "status": {"replicas": int(status.get("replicas", 0)),
                   "selector": str(selector_from_dict(spec.get("selector") or {}))},
    }


def apply_scale(resource: ResourceInfo, obj: Object, scale: Object) -> Object:
    """The workload with `scale.spec.replicas` written into it (validated here: >= 0)."""
    name = (obj.get("metadata") or {}).get("name", "")
    replicas = (scale.get("spec") or {}).get("replicas")
    if isinstance(replicas, bool) or not isinstance(replicas, int):
        raise errors.Invalid("Scale", name, [FieldError(
            "spec.replicas", f"Invalid value: {replicas!r}: must be an integer", replicas)],
            group="autoscaling")
    if replicas < 0:
        raise errors.Invalid("Scale", name, [FieldError(
            "spec.replicas", f"Invalid value: {replicas}: must be greater than or equal to 0",
            replicas)], group="autoscaling")
    updated = copy.deepcopy(obj)
    updated["spec"]["replicas"] = replicas
    rv = (scale.get("metadata") or {}).get("resourceVersion")
    updated["metadata"]["resourceVersion"] = rv or ""
    return updated


def bind(pod: Object, binding: Object) -> Object:
    """Assign `pod` to the binding's target node, once (BindingREST.setPodHostAndAnnotations)."""
    meta = pod["metadata"]
    target = binding.get("target") or {}
    node = target.get("name")
    if not node or not isinstance(node, str):
        raise errors.Invalid("Binding", meta.get("name", ""), [
            FieldError("target.name", "Required value")])
    if meta.get("deletionTimestamp"):
        raise errors.conflict("pods", meta["name"], "pod is being deleted, cannot be assigned "
                              "to a host")
    current = (pod.get("spec") or {}).get("nodeName")
    if current:
        raise errors.conflict("pods/binding", meta["name"],
                              f"pod {meta['name']} is already assigned to node {current!r}")
    bound = copy.deepcopy(pod)
    bound["spec"]["nodeName"] = node
    annotations = (binding.get("metadata") or {}).get("annotations")
    if annotations:
        bound["metadata"].setdefault("annotations", {}).update(annotations)
    return bound
