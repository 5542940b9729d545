"""Per-kind strategies: what the generic registry does differently for each kind.

Mirrors Kubernetes' `rest.RESTCreateStrategy`/`RESTUpdateStrategy`
(pkg/registry/*/strategy.go): defaulting and validation, how a create resets
fields the client may not set, how a spec update keeps the status and a status
update keeps the spec, and when `metadata.generation` moves.
"""

from __future__ import annotations

from typing import Any

from apimachinery import errors
from apimachinery.errors import FieldError
from apimachinery.meta import deep_copy
from apimachinery.resources import ResourceInfo

from . import defaults, servicealloc, validation

Object = dict[str, Any]


def _spec_part(obj: Object) -> Object:
    """Everything that counts as the object's desired state (not metadata, not status)."""
    return {k: v for k, v in obj.items()
            if k not in ("metadata", "status", "apiVersion", "kind")}


class Strategy:
    """The default behaviour; kinds override what differs."""

    # Kinds with a status subresource keep spec and status apart on writes.
    has_status_subresource = True

    def __init__(self, resource: ResourceInfo) -> None:
        self.resource = resource

    # -- create -----------------------------------------------------------------------

    def prepare_for_create(self, obj: Object) -> None:
        """Reset what a client may not set on create (Kubernetes clears status)."""
        if self.has_status_subresource:
            obj.pop("status", None)
        obj["metadata"]["generation"] = 1

    # -- update -----------------------------------------------------------------------

    def prepare_for_update(self, new: Object, old: Object) -> None:
        """A normal update: keep the stored status; bump generation on a spec change."""
        if self.has_status_subresource:
            if "status" in old:
                new["status"] = deep_copy(old["status"])
            else:
                new.pop("status", None)
        generation = int(old["metadata"].get("generation") or 1)
        if _spec_part(new) != _spec_part(old):
            generation += 1
        new["metadata"]["generation"] = generation

    def prepare_for_status_update(self, new: Object, old: Object) -> Object:
        """A status update changes status only: everything else comes from the stored object."""
        merged = deep_copy(old)
        merged["metadata"]["resourceVersion"] = new.get("metadata", {}).get(
            "resourceVersion", "")
        if "status" in new:
            merged["status"] = new["status"]
        else:
            merged.pop("status", None)
        return merged

    # -- both -------------------------------------------------------------------------

    def default(self, obj: Object) -> None:
        defaults.apply_defaults(self.resource, obj)

    def validate(self, obj: Object, old: Object | None) -> None:
        """Raise errors.Invalid with every offending field path."""
        problems = validation.validate(self.resource, obj, old)
        if problems:
            meta = obj.get("metadata") or {}
            raise errors.Invalid(self.resource.kind, str(meta.get("name") or ""), problems,
                                 group=self.resource.group)


class NoStatusStrategy(Strategy):
    """ConfigMap, Secret, Endpoints, Event, Lease: the whole object is one unit."""

    has_status_subresource = False


class NamespaceStrategy(Strategy):
    """Namespaces carry the `kubernetes` finalizer and a phase, as in Kubernetes."""

    def prepare_for_create(self, obj: Object) -> None:
        super().prepare_for_create(obj)
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj["status"] = {"phase": "Active"}


class PodStrategy(Strategy):
    """Pods start Pending; their status belongs to the agent."""

    def prepare_for_create(self, obj: Object) -> None:
        super().prepare_for_create(obj)
        obj["status"] = {"phase": "Pending", "qosClass": _qos_class(obj)}


class ServiceStrategy(Strategy):
    """A Service update keeps the ClusterIP and nodePorts the apiserver allocated when the
    client omits them, and drops those a type change makes meaningless (Kubernetes'
    patchAllocatedValues and dropTypeDependentFields); `servicealloc` reserves them."""

    def prepare_for_update(self, new: Object, old: Object) -> None:
        servicealloc.patch_allocated_values(new, old)
        servicealloc.drop_type_dependent_fields(new, old)
        super().prepare_for_update(new, old)


class NodeStrategy(Strategy):
    """Node status (capacity, conditions) is written by its agent on create too."""

    def prepare_for_create(self, obj: Object) -> None:
        obj["metadata"]["generation"] = 1


def _qos_class(pod: Object) -> str:
    """Kubernetes' QoS class: Guaranteed, Burstable or BestEffort from requests and limits."""
    containers = (pod.get("spec") or {}).get("containers") or []
    resources = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    for r in resources:
        limits, requests = r.get("limits") or {}, r.get("requests") or {}
        if not all(k in limits for k in ("cpu", "memory")):
            return "Burstable"
        if any(requests.get(k, limits[k]) != limits[k] for k in ("cpu", "memory")):
            return "Burstable"
    return "Guaranteed"


_STRATEGIES: dict[str, type[Strategy]] = {
    "namespaces": NamespaceStrategy,
    "pods": PodStrategy,
    "nodes": NodeStrategy,
    "services": ServiceStrategy,
    "configmaps": NoStatusStrategy,
    "secrets": NoStatusStrategy,
    "endpoints": NoStatusStrategy,
    "events": NoStatusStrategy,
    "leases": NoStatusStrategy,
}


def strategy_for(resource: ResourceInfo) -> Strategy:
    return _STRATEGIES.get(resource.plural, Strategy)(resource)


def reject(resource: ResourceInfo, name: str, path: str, message: str,
           value: Any = None) -> errors.Invalid:
    """A one-field Invalid error, for checks the registry makes itself."""
    return errors.Invalid(resource.kind, name, [FieldError(path, message, value)],
                          group=resource.group)
