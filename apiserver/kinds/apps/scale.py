"""`{workload}/scale`: a workload seen as an `autoscaling/v1 Scale`.

What `kubectl scale` and autoscalers read and write: `spec.replicas`, and the
current replicas with the selector as a string. Deployments, ReplicaSets and
StatefulSets share it (Kubernetes' ScaleREST per kind, the same logic each).
"""

from __future__ import annotations

from typing import Any

from fastapi import Response

from apimachinery import errors
from apimachinery.errors import FieldError
from apimachinery.meta import Object, deep_copy
from apimachinery.selectors import selector_from_dict
from apiserver.bodies import require_object
from apiserver.kind import Call, Subresource
from apiserver.patch import apply_patch
from apiserver.wire import check_kind, respond

INT32_MAX = 2**31 - 1  # Scale.spec.replicas is an int32


def to_scale(obj: Object) -> Object:
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


def apply_scale(obj: Object, scale: Object) -> Object:
    """The workload with `scale.spec.replicas` written into it (validated here: >= 0)."""
    name = (obj.get("metadata") or {}).get("name", "")
    replicas = require_object(scale.get("spec"), "spec", "the Scale").get("replicas")
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas > INT32_MAX:
        raise errors.Invalid("Scale", name, [FieldError(
            "spec.replicas", f"Invalid value: {replicas!r}: must be a 32-bit integer",
            replicas)],
            group="autoscaling")
    if replicas < 0:
        raise errors.Invalid("Scale", name, [FieldError(
            "spec.replicas", f"Invalid value: {replicas}: must be greater than or equal to 0",
            replicas)], group="autoscaling")
    updated = deep_copy(obj)
    updated["spec"]["replicas"] = replicas
    rv = require_object(scale.get("metadata"), "metadata", "the Scale").get("resourceVersion")
    if not isinstance(rv, str | None):
        raise errors.BadRequest(f"the Scale is not valid: metadata.resourceVersion: {rv!r}")
    updated["metadata"]["resourceVersion"] = rv or ""
    return updated


class ScaleSubresource(Subresource):
    """GET, PUT and PATCH of the Scale view; writes go to the workload's spec.replicas."""

    name, verbs = "scale", ("get", "patch", "update")
    group, version, kind = "autoscaling", "v1", "Scale"

    async def get(self, call: Call) -> Response:
        return respond(call.request, to_scale(await call.registry.get(call.resource, call.namespace,
                                                              call.name)))

    async def update(self, call: Call) -> Response:
        body = await call.object()
        check_kind("autoscaling/v1", "Scale", body, check_version=False)
        return await self._write(call, lambda scale: body)

    async def patch(self, call: Call) -> Response:
        body, content_type = await call.body(), call.content_type
        return await self._write(call, lambda scale: apply_patch(content_type, scale, body,
                                                                 "Scale"))

    async def _write(self, call: Call, new_scale: Any) -> Response:
        def change(current: Object) -> Object:
            scale = new_scale(to_scale(current))
            if not isinstance(scale, dict):
                raise errors.BadRequest("the request body must be a Scale object")
            return apply_scale(current, scale)

        updated = await call.registry.update_with(call.resource, call.namespace, call.name,
                                                  change)
        return respond(call.request, to_scale(updated))


SCALE = ScaleSubresource()
