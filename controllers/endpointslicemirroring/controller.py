"""The endpointslicemirroring controller: a selector-less Service's Endpoints as slices.

Kubernetes' pkg/controller/endpointslicemirroring/endpointslicemirroring_controller.go.
The proxy and the cluster DNS read only EndpointSlices, as kube-proxy and
CoreDNS do; a Service without a selector plus an Endpoints object made by hand
(the usual way to name an external database) reaches them through this
controller, which keeps slices labelled managed-by
endpointslicemirroring-controller.k8s.io equal to the Endpoints.

Keys are Endpoints keys (= Service keys). Handlers enqueue one when the
Endpoints changes, when a selector-less Service comes or goes or gains or
loses its selector, and when a mirrored slice changes or goes (someone else
edited it: put it back). A sync deletes the mirrored slices when the
Endpoints is gone or not to be mirrored, or when the Service is gone or has a
selector; otherwise it plans the writes with the endpointslice controller's
reconciler (no placeholder slice) and makes them, the tracker holding a sync
back while the cache lags behind its own writes.
"""

from __future__ import annotations

from apimachinery import meta
from apimachinery.clock import Clock
from apimachinery.meta import Object

from ..base import Controller, ControllerClient, Requeue, SharedInformerFactory
from ..endpoints import service_selector
from ..endpointslice.controller import apply_plan
from ..endpointslice.reconciler import MANAGED_BY_LABEL, SERVICE_NAME_LABEL, Plan, plan_owned_slices
from ..endpointslice.tracker import SliceTracker
from .desired import (
    CONTROLLER_NAME,
    MAX_ENDPOINTS_PER_SUBSET,
    mirror_owner,
    mirrored_groups,
    should_mirror,
)

MIRRORED_INDEX = "endpointslicemirroring-endpoints"


def mirrored_index(slice_: Object) -> list[str]:
    """A mirrored slice under its Endpoints' key, so a sync finds them without a scan."""
    labels = meta.labels_of(slice_)
    name = labels.get(SERVICE_NAME_LABEL)
    if not name or labels.get(MANAGED_BY_LABEL) != CONTROLLER_NAME:
        return []
    return [f"{meta.namespace_of(slice_)}/{name}"]


class EndpointSliceMirroringController(Controller):
    """Keeps the mirrored EndpointSlices of each selector-less Service's Endpoints."""

    name = "endpointslicemirroring"

    def __init__(self, client: ControllerClient, factory: SharedInformerFactory, *,
                 workers: int = 5, max_endpoints_per_subset: int = MAX_ENDPOINTS_PER_SUBSET,
                 clock: Clock | None = None) -> None:
        super().__init__(client, factory, workers=workers, clock=clock)
        self.max_endpoints_per_subset = max_endpoints_per_subset
        self.tracker = SliceTracker(self.clock)
        self.endpoints_informer = factory.informer("endpoints")
        self.service_informer = factory.informer("services")
        self.slice_informer = factory.informer("endpointslices")
        factory.add_indexer("endpointslices", MIRRORED_INDEX, mirrored_index)
        self.endpoints_informer.add_event_handler(
            self._endpoints_changed, self._endpoints_updated, self._endpoints_changed)
        self.service_informer.add_event_handler(
            self._service_changed, self._service_updated, self._service_changed)
        self.slice_informer.add_event_handler(
            self._slice_changed, self._slice_updated, self._slice_changed)

    # -- event handlers -------------------------------------------------------------------------

    def _endpoints_changed(self, endpoints: Object) -> None:
        if should_mirror(endpoints):
            self.enqueue(endpoints)

    def _endpoints_updated(self, old: Object, cur: Object) -> None:
        if should_mirror(old) or should_mirror(cur):
            self.enqueue(cur)

    def _service_changed(self, service: Object) -> None:
        if service_selector(service) is None:
            self.enqueue(service)

    def _service_updated(self, old: Object, cur: Object) -> None:
        if (service_selector(old) is None) != (service_selector(cur) is None):
            self.enqueue(cur)

    def _slice_changed(self, slice_: Object) -> None:
        for key in mirrored_index(slice_):
            self.queue.add(key)

    def _slice_updated(self, old: Object, cur: Object) -> None:
        """Both Endpoints when a user moves a mirrored slice to another service name."""
        for key in set(mirrored_index(old)) | set(mirrored_index(cur)):
            self.queue.add(key)

    # -- the sync -------------------------------------------------------------------------------

    async def reconcile(self, key: str) -> None:
        namespace, _ = meta.split_key(key)
        existing = self.slice_informer.store.by_index(MIRRORED_INDEX, key)
        endpoints = self.endpoints_informer.store.get(key)
        service = self.service_informer.store.get(key)
        if (endpoints is None or not should_mirror(endpoints) or service is None
                or service_selector(service) is not None):
            self.tracker.forget(key)
            if existing:
                self.decision(key, "delete-mirrored", slices=len(existing))
                await apply_plan(self.client, self.tracker, key, namespace,
                                 Plan(delete=list(existing)))
            return
        if self.tracker.stale(key, existing):
            raise Requeue("endpointslice cache older than this controller's writes")
        groups, skipped = mirrored_groups(endpoints, self.max_endpoints_per_subset)
        plan = plan_owned_slices(mirror_owner(endpoints), groups, existing, "IPv4",
                                 self.max_endpoints_per_subset)
        if skipped:
            self.decision(key, "skip-addresses", skipped=skipped,
                          max_per_subset=self.max_endpoints_per_subset)
        if not plan.empty():
            self.decision(key, "mirror", create=len(plan.create), update=len(plan.update),
                          delete=len(plan.delete),
                          endpoints=sum(len(g.endpoints) for g in groups.values()))
            await apply_plan(self.client, self.tracker, key, namespace, plan)
