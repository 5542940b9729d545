"""Namespace (core/v1): the scope of namespaced objects, created and emptied with care.

As in Kubernetes: a Namespace carries the `kubernetes` finalizer, which the
namespace controller clears through the `finalize` subresource once every
object in it is gone; while it is being deleted its phase is `Terminating` and
nothing new may be created in it (the NamespaceLifecycle admission check
below); the system namespaces exist from the start and may not be deleted.
"""

from __future__ import annotations

from contextlib import suppress

from fastapi import Response

from apimachinery import errors
from apimachinery.meta import Object, deep_copy
from apimachinery.models import Namespace
from apimachinery.printers import LAYOUTS
from apimachinery.resources import ResourceInfo
from apiserver.config import ServerConfig
from apiserver.kind import STATUS, Call, Kind, Strategy, Subresource
from apiserver.registry import Registry
from apiserver.validation.fields import dns1123_label
from apiserver.wire import respond

RESOURCE = ResourceInfo("", "v1", "Namespace", "namespaces", False, ("ns",),
                        selectable_fields=("status.phase",))
# Kubernetes' system namespaces: created at start, never deleted.
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class NamespaceStrategy(Strategy):
    """The `kubernetes` finalizer and the phase, as Kubernetes' namespace strategy."""

    def prepare_for_create(self, obj: Object) -> None:
        super().prepare_for_create(obj)
        spec = obj.get("spec")
        if spec is None:  # absent, or `null` (which was an AttributeError: a 500)
            spec = obj["spec"] = {}
        if isinstance(spec, dict) and spec.get("finalizers") is None:  # else: a 422 on spec
            spec["finalizers"] = ["kubernetes"]
        obj["status"] = {"phase": "Active"}

    def check_delete(self, name: str) -> None:
        if name in SYSTEM_NAMESPACES:
            raise errors.Forbidden(f'namespaces "{name}" is forbidden: this namespace may '
                                   "not be deleted")

    def begin_delete(self, obj: Object) -> None:
        obj.setdefault("status", {})["phase"] = "Terminating"

    def has_finalizers(self, obj: Object) -> bool:
        return super().has_finalizers(obj) or bool((obj.get("spec") or {}).get("finalizers"))


class Finalize(Subresource):
    """`namespaces/{name}/finalize`: the namespace controller clears spec.finalizers here."""

    name, verbs = "finalize", ("update",)

    async def update(self, call: Call) -> Response:
        spec = (await call.object()).get("spec") or {}
        if not isinstance(spec, dict):  # was an AttributeError (a 500) for `"spec": [1]`
            raise errors.BadRequest('Namespace in version "v1" cannot be handled as a '
                                    f"Namespace: spec: expected an object, got {spec!r}")

        def finalize(namespace: Object) -> Object:
            updated = deep_copy(namespace)
            updated.setdefault("spec", {})["finalizers"] = spec.get("finalizers") or []
            return updated

        finalized = await call.registry.update_with(RESOURCE, None, call.name, finalize)
        return respond(call.request, finalized)


async def create_system_namespaces(registry: Registry, config: ServerConfig) -> None:
    """The namespaces every cluster has, as Kubernetes' system namespaces controller makes."""
    for name in SYSTEM_NAMESPACES:
        with suppress(errors.NotFound):
            await registry.get(RESOURCE, None, name)
            continue
        with suppress(errors.AlreadyExists):
            await registry.create(RESOURCE, None, {"metadata": {"name": name}})


async def admit_into_live_namespace(registry: Registry, resource: ResourceInfo,
                                    namespace: str | None, obj: Object,
                                    old: Object | None) -> None:
    """NamespaceLifecycle: a new namespaced object needs its namespace, and not a terminating
    one (updates of objects already inside are let through, so they can be finalized)."""
    if not resource.namespaced or old is not None:
        return
    ns = await registry.get(RESOURCE, None, namespace or "")
    if ns.get("metadata", {}).get("deletionTimestamp"):
        raise errors.Forbidden(
            f"unable to create new content in namespace {namespace} because it is being "
            "terminated")


KIND = Kind(
    resource=RESOURCE,
    model=Namespace,
    strategy=NamespaceStrategy(),
    name_rule=dns1123_label,
    table=LAYOUTS["Namespace"],
    subresources=(STATUS, Finalize()),
    bootstrap=create_system_namespaces,
    admission=admit_into_live_namespace,
)
