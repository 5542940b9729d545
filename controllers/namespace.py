"""The namespace controller: empty a terminating namespace, then let it go.

Kubernetes' pkg/controller/namespace (namespaced_resources_deleter.go). A
DELETE of a namespace only marks it: deletionTimestamp, phase Terminating,
and the `kubernetes` entry in spec.finalizers keeps it in storage. For such
a namespace `reconcile(key)`:

1. deletes every object of every namespaced resource in it (a delete
   collection per resource; workloads first, so their controllers have
   nothing to recreate, and the apiserver refuses new objects there anyway);
2. lists again: what is left is either terminating gracefully (pods still
   bound to a node wait for their agent) or held by finalizers (the garbage
   collector's). Then it requeues with back-off and repeats;
3. once nothing is left, PUTs `namespaces/{name}/finalize` without the
   `kubernetes` finalizer, and the apiserver removes the namespace.
"""

from __future__ import annotations

from collections.abc import Sequence

from apimachinery import errors, meta
from apimachinery.clock import Clock, RealClock
from apimachinery.meta import Object
from apimachinery.resources import RESOURCES, ResourceInfo
from apimachinery.workqueue import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
)

from .base import Controller, ControllerClient, Requeue, SharedInformerFactory

FINALIZER = "kubernetes"
_FIRST = ("deployments", "statefulsets", "replicasets", "pods")


def namespaced_resources(resources: Sequence[ResourceInfo] = RESOURCES) -> list[ResourceInfo]:
    """What a namespace can hold and the deleter can remove: workloads first, then pods."""
    chosen = [r for r in resources
              if r.namespaced and {"list", "deletecollection"} <= set(r.verbs)]
    return sorted(chosen, key=lambda r: _FIRST.index(r.plural) if r.plural in _FIRST
                  else len(_FIRST))


def remaining_summary(counts: dict[str, int]) -> str:
    """`pods=2,replicasets=1`: what still keeps the namespace, for the log and the error."""
    return ",".join(f"{k}={v}" for k, v in sorted(counts.items()) if v)


class NamespaceController(Controller):
    """Deletes a terminating namespace's content, then finalizes the namespace."""

    name = "namespace"

    def __init__(self, client: ControllerClient, factory: SharedInformerFactory, *,
                 workers: int = 2, clock: Clock | None = None,
                 resources: Sequence[ResourceInfo] | None = None) -> None:
        clock = clock if clock is not None else RealClock()
        # Content often takes seconds to go (graceful pods, finalizers): start the
        # back-off at 100ms, not the default 5ms, and cap it at 30s.
        limiter = MaxOfRateLimiter(ItemExponentialFailureRateLimiter(0.1, 30.0),
                                   BucketRateLimiter(10.0, 100, clock))
        super().__init__(client, factory, workers=workers, clock=clock, rate_limiter=limiter)
        self.resources = namespaced_resources(resources if resources is not None else RESOURCES)
        self.ns_informer = factory.informer("namespaces")
        self.ns_informer.add_event_handler(self._maybe_enqueue,
                                           lambda _old, new: self._maybe_enqueue(new))

    def _maybe_enqueue(self, ns: Object) -> None:
        if meta.metadata(ns).get("deletionTimestamp"):
            self.enqueue(ns)

    async def reconcile(self, key: str) -> None:
        cached = self.ns_informer.store.get(key)
        if cached is None or not meta.metadata(cached).get("deletionTimestamp"):
            return
        try:
            live = await self.client.get("namespaces", key)
        except errors.NotFound:
            return
        if FINALIZER not in ((live.get("spec") or {}).get("finalizers") or []):
            return  # already finalized; the apiserver removes it
        counts = await self._delete_content(key)
        if any(counts.values()):
            summary = remaining_summary(counts)
            self.decision(key, "wait", remaining=summary)
            raise Requeue(f"content remaining: {summary}")
        live["spec"]["finalizers"] = [f for f in live["spec"]["finalizers"] if f != FINALIZER]
        try:
            await self.client.update("namespaces", live, subresource="finalize")
        except errors.NotFound:
            return
        self.decision(key, "finalize")

    async def _delete_content(self, namespace: str) -> dict[str, int]:
        """Delete everything in the namespace; returns how many objects of each kind remain."""
        counts: dict[str, int] = {}
        for info in self.resources:
            try:
                await self.client.delete_collection(info, namespace)
                items, _ = await self.client.list_all(info, namespace)
            except errors.NotFound:
                continue
            if items:
                self.decision(namespace, "delete-content", resource=info.plural,
                              remaining=len(items))
            counts[info.plural] = len(items)
        return counts
