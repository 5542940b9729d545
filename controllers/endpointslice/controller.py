"""The endpointslice controller: each selector Service's EndpointSlices = its pods.

Kubernetes' pkg/controller/endpointslice/endpointslice_controller.go. Informer
handlers enqueue Service keys: a Service changing, a pod of a Service
changing (both Services when its labels move it), a node's zone label
changing (its pods' endpoints carry the zone), and a managed slice changing
or going (someone else edited it: put it back). `reconcile` computes the
groups (`desired`), plans the writes (`reconciler`), and makes them; the
tracker holds a sync back while the cache lags behind its own writes.

Services without a selector get no managed slices (their slices are the
user's), nor do ExternalName Services; a deleted Service's slices go with it
through their ownerReference (the garbage collector), as in Kubernetes.
"""

from __future__ import annotations

import contextlib

from apimachinery import errors, meta
from apimachinery.clock import Clock
from apimachinery.informer import NAMESPACE_INDEX
from apimachinery.meta import Object

from ..base import ControllerClient, Requeue, SharedInformerFactory
from ..endpoints import PodServiceHandlers, service_selector
from .desired import ZONE_LABEL, address_types, desired_groups
from .reconciler import (
    CONTROLLER_NAME,
    MANAGED_BY_LABEL,
    MAX_ENDPOINTS_PER_SLICE,
    SERVICE_NAME_LABEL,
    Plan,
    is_managed,
    plan_slices,
)
from .tracker import SliceTracker

SERVICE_INDEX = "endpointslice-service"
NODE_RETRY_SECONDS = 1.0


def service_index(slice_: Object) -> list[str]:
    """A managed slice under its Service's key, so a sync finds them without a scan."""
    labels = meta.labels_of(slice_)
    name = labels.get(SERVICE_NAME_LABEL)
    if not name or labels.get(MANAGED_BY_LABEL) != CONTROLLER_NAME:
        return []
    return [f"{meta.namespace_of(slice_)}/{name}"]


async def apply_plan(client: ControllerClient, tracker: SliceTracker, key: str,
                     namespace: str, plan: Plan) -> None:
    """Creates first, then updates, then deletes, as Kubernetes' finalize does, so
    endpoints never vanish between two writes; each write is noted in the tracker."""
    for body in plan.create:
        try:
            created = await client.create("endpointslices", body, namespace)
        except errors.Forbidden as exc:
            if "being terminated" in exc.message:
                return  # a terminating namespace refuses it: nothing to retry
            raise
        tracker.written(key, created)
    for updated in plan.update:
        tracker.written(key, await client.update("endpointslices", updated))
    for stale in plan.delete:
        with contextlib.suppress(errors.NotFound):
            await client.delete("endpointslices", meta.name_of(stale), namespace)
        tracker.deleted(key, meta.name_of(stale))


class EndpointSliceController(PodServiceHandlers):
    """Keeps each selector Service's EndpointSlices equal to its matching pods."""

    name = "endpointslice"

    def __init__(self, client: ControllerClient, factory: SharedInformerFactory, *,
                 workers: int = 5, max_endpoints_per_slice: int = MAX_ENDPOINTS_PER_SLICE,
                 clock: Clock | None = None) -> None:
        super().__init__(client, factory, workers=workers, clock=clock)
        self.max_endpoints_per_slice = max_endpoints_per_slice
        self.tracker = SliceTracker(self.clock)
        self.service_informer = factory.informer("services")
        self.pod_informer = factory.informer("pods")
        self.node_informer = factory.informer("nodes")
        self.slice_informer = factory.informer("endpointslices")
        factory.add_indexer("endpointslices", SERVICE_INDEX, service_index)
        self.service_informer.add_event_handler(
            self.enqueue, lambda old, new: self.enqueue(new), self._service_deleted)
        self.pod_informer.add_event_handler(self._pod_added, self._pod_updated,
                                            self._pod_added)
        self.node_informer.add_event_handler(None, self._node_updated, None)
        self.slice_informer.add_event_handler(
            self._slice_changed, lambda old, new: self._slice_changed(new),
            self._slice_changed)

    # -- event handlers -------------------------------------------------------------------------

    def _service_deleted(self, service: Object) -> None:
        self.tracker.forget(meta.key_of(service))

    def _node_updated(self, old: Object, cur: Object) -> None:
        """A node's zone changed: the Services of its pods rewrite their endpoints."""
        if meta.labels_of(old).get(ZONE_LABEL) == meta.labels_of(cur).get(ZONE_LABEL):
            return
        node = meta.name_of(cur)
        for pod in self.pod_informer.store.list():
            if (pod.get("spec") or {}).get("nodeName") == node:
                self._pod_added(pod)

    def _slice_changed(self, slice_: Object) -> None:
        for key in service_index(slice_):
            self.queue.add(key)

    # -- the sync -------------------------------------------------------------------------------

    async def reconcile(self, key: str) -> None:
        namespace, _ = meta.split_key(key)
        service = self.service_informer.store.get(key)
        if service is None or service_selector(service) is None:
            return  # gone (the GC removes its slices), or its slices are the user's
        if (service.get("spec") or {}).get("type") == "ExternalName":
            return
        existing = [s for s in self.slice_informer.store.by_index(SERVICE_INDEX, key)
                    if is_managed(s, service)]
        if self.tracker.stale(key, existing):
            raise Requeue("endpointslice cache older than this controller's writes")
        pods = self.pod_informer.store.by_index(NAMESPACE_INDEX, namespace)
        nodes = {meta.name_of(n): n for n in self.node_informer.store.list()}
        groups, waiting = desired_groups(service, pods, nodes)
        plan = plan_slices(service, groups, existing, address_types(service)[0],
                           self.max_endpoints_per_slice)
        if not plan.empty():
            self.decision(key, "sync", create=len(plan.create), update=len(plan.update),
                          delete=len(plan.delete),
                          endpoints=sum(len(g.endpoints) for g in groups.values()))
            await apply_plan(self.client, self.tracker, key, namespace, plan)
        if waiting:  # pods on a node the cache does not know yet: look again soon
            raise Requeue(f"nodes of pods {','.join(waiting)} not in the cache",
                          after=NODE_RETRY_SECONDS)
