"""Pod garbage collection: force-delete the pods no agent will ever finalize.

A pod is deleted gracefully: the API sets deletionTimestamp and its node's agent
stops the containers, then removes the object. When the node is gone for good,
nobody would; Kubernetes' PodGC controller (pkg/controller/podgc) steps in, and
so does this one, for the same two cases:

* **orphaned**: `spec.nodeName` names a Node that no longer exists (it was
  deleted: `schooner delete node N` is how an operator says "that host is dead,
  its containers are gone"). A pod may be bound before its node registers, so
  the node must stay absent for a quarantine (`--orphan-pod-quarantine`,
  default 40 s as Kubernetes' hard-coded one), and the cache can lag, so the
  absence is confirmed with a live GET before the pod is force-deleted (grace 0).
* **out of service**: a terminating pod on a node tainted
  `node.kubernetes.io/out-of-service:NoExecute` whose Ready condition is not
  True (Kubernetes' non-graceful node shutdown): the operator has declared the
  node off, so the pod is force-deleted.

Force deletion is what lets a StatefulSet start `name-N` again elsewhere: its
controller never creates a pod while the old one with the same name exists,
terminating or not, so a volume is never used by two copies of the pod at once
unless an operator declares the old copy dead in one of these two ways.
"""

from __future__ import annotations

from typing import Any

from apimachinery import errors, meta
from apimachinery.conditions import READY, condition_status
from apimachinery.meta import Object

from .base import Controller, ControllerClient, SharedInformerFactory
from .nodelifecycle import NODE_NAME_INDEX, pod_node_index

OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"
RESYNC_SECONDS = 20.0


def out_of_service(node: Object) -> bool:
    """Tainted out-of-service:NoExecute and not Ready: declared off by an operator."""
    tainted = any(t.get("key") == OUT_OF_SERVICE and t.get("effect") == "NoExecute"
                  for t in (node.get("spec") or {}).get("taints") or [])
    ready = condition_status(node, READY)
    return tainted and ready != "True"


class PodGCController(Controller):
    """Keyed by node name: look at the pods bound to that node."""

    name = "podgc"

    def __init__(self, client: ControllerClient, factory: SharedInformerFactory, *,
                 quarantine: float = 40.0, workers: int = 1, **kwargs: Any) -> None:
        super().__init__(client, factory, workers=workers, **kwargs)
        self.quarantine = quarantine
        self.missing_since: dict[str, float] = {}  # node name -> monotonic time first missed
        self.nodes = factory.informer("nodes")
        self.pods = factory.informer("pods")
        factory.add_indexer("pods", NODE_NAME_INDEX, pod_node_index)
        self.nodes.add_event_handler(self._node_changed, lambda _o, n: self._node_changed(n),
                                     self._node_changed)
        self.pods.add_event_handler(self._pod_changed, lambda _o, p: self._pod_changed(p), None)

    def _node_changed(self, node: Object) -> None:
        self.queue.add(meta.name_of(node))

    def _pod_changed(self, pod: Object) -> None:
        for node in pod_node_index(pod):
            if self.nodes.store.get(node) is None:
                self.queue.add(node)

    async def reconcile(self, key: str) -> None:
        pods = self.pods.store.by_index(NODE_NAME_INDEX, key)
        node = self.nodes.store.get(key)
        if not pods or node is not None:
            self.missing_since.pop(key, None)
        if not pods:
            return
        if node is None:
            await self._orphans(key, pods)
        elif out_of_service(node):
            terminating = [p for p in pods if meta.metadata(p).get("deletionTimestamp")]
            await self._force_delete(key, terminating, "its node is out of service")
            self.queue.add_after(key, RESYNC_SECONDS)  # pods evicted later need the same

    async def _orphans(self, key: str, pods: list[Object]) -> None:
        """Force-delete once the node has been missing for the whole quarantine."""
        now = self.clock.monotonic()
        left = self.missing_since.setdefault(key, now) + self.quarantine - now
        if left > 0:
            self.queue.add_after(key, left + 0.1)
            return
        if await self._node_exists(key):
            self.missing_since.pop(key, None)
            return  # the cache lags behind a new Node
        await self._force_delete(key, pods, "orphaned: its node no longer exists")

    async def _node_exists(self, name: str) -> bool:
        try:
            await self.client.get("nodes", name)
        except errors.NotFound:
            return False
        return True

    async def _force_delete(self, key: str, pods: list[Object], why: str) -> None:
        for pod in pods:
            try:
                await self.client.delete("pods", meta.name_of(pod), meta.namespace_of(pod),
                                         grace_period_seconds=0,
                                         preconditions={"uid": meta.metadata(pod)["uid"]})
            except (errors.NotFound, errors.Conflict):
                continue
            self.decision(key, "force-delete", pod=meta.key_of(pod), why=why)
