"""The pods of N hollow nodes: one informer, one work queue, a bounded pool of writers.

The real agent watches `spec.nodeName=<its node>`. N such informers in one
process would be N lists and N watch streams, each decoding the same events
the apiserver fans out N times; so a hollow process runs ONE pod informer
over every bound pod (`spec.nodeName!=`, which skips the scheduler's pending
churn) and keeps those on its own nodes, indexed by node name.

Event handlers only note when a pod was first seen and enqueue its key. A
pool of `workers` tasks (client-go's worker pattern over
`apimachinery.workqueue`) syncs each key, level-triggered from the cache:

* a pod being deleted (deletionTimestamp) is deleted for good
  (gracePeriodSeconds=0 with a uid precondition), as the agent does once its
  containers have stopped: there are none to stop;
* a pod seen less than `start_delay` ago is requeued for the rest of it;
* otherwise the pod gets a fake IP from its node's podCIDR and the status of
  a running pod (`hollow_pod_status`), patched through the status
  subresource only when it differs from what is stored.
The pool bounds the requests in flight, so 10,000 new pods are 10,000 writes
`workers` at a time, not 10,000 at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from agent.hollow.addresses import PodIPAllocator, PodIPsExhausted
from agent.hollow.reported_status import hollow_pod_status
from agent.podsync.pod_status import status_changed
from apimachinery import errors, meta
from apimachinery.client import AsyncClient
from apimachinery.clock import Clock
from apimachinery.informer import Informer
from apimachinery.meta import Object
from apimachinery.workers import Workers
from apimachinery.workqueue import WorkQueue

log = logging.getLogger(__name__)
NODE_INDEX = "nodeName"
BOUND_PODS = "spec.nodeName!="


@dataclass
class HollowPodStats:
    """Counters for the progress log line and the benchmarks."""

    started: int = 0  # pods first reported Running
    deleted: int = 0  # pods deleted for good
    writes: int = 0  # status patches sent
    errors: int = 0


def _uid(pod: Object) -> str:
    return str(meta.metadata(pod).get("uid") or "")


class HollowPods:
    """Marks the pods bound to hollow nodes Running, and deletes them when asked to."""

    def __init__(self, client: AsyncClient, clock: Clock, *, pod_cidrs: dict[str, str],
                 host_ip: str, start_delay: float, workers: int = 16,
                 writers: Sequence[AsyncClient] = ()) -> None:
        self.client, self.clock = client, clock
        # Worker i writes through writers[i % len]: httpx scans every connection of a pool
        # on each request, so a few small pools cost less CPU than one pool of `workers`.
        self.writers = tuple(writers) or (client,)
        self.host_ip, self.start_delay, self.worker_count = host_ip, start_delay, workers
        self.allocators = {node: PodIPAllocator(cidr) for node, cidr in pod_cidrs.items()}
        self.informer = Informer(client, "pods", field_selector=BOUND_PODS, clock=clock)
        self.informer.add_indexer(NODE_INDEX, self._node_index)
        self.informer.add_event_handler(self._on_pod, lambda _old, new: self._on_pod(new),
                                        self._on_delete)
        self.queue: WorkQueue[str] = WorkQueue(clock, name="hollow-pods")
        self.stats = HollowPodStats()
        self._seen: dict[str, float] = {}  # uid -> monotonic time first seen on our node
        self._workers: list[asyncio.Task[None]] = []

    # -- the cache ----------------------------------------------------------------------

    def _node_of(self, pod: Object) -> str | None:
        node = str((pod.get("spec") or {}).get("nodeName") or "")
        return node if node in self.allocators else None

    def _node_index(self, pod: Object) -> list[str]:
        node = self._node_of(pod)
        return [node] if node else []

    def pods_on(self, node: str) -> list[Object]:
        return self.informer.store.by_index(NODE_INDEX, node)

    def _on_pod(self, pod: Object) -> None:
        node = self._node_of(pod)
        if node is None:
            return
        uid = _uid(pod)
        if uid not in self._seen:
            self._seen[uid] = self.clock.monotonic()
            ip = (pod.get("status") or {}).get("podIP")
            if ip:  # reported before a restart of this process: keep it
                self.allocators[node].reserve(uid, str(ip))
        self.queue.add(meta.key_of(pod))

    def _on_delete(self, pod: Object) -> None:
        node = self._node_of(pod)
        uid = _uid(pod)
        self._seen.pop(uid, None)
        if node is not None:
            self.allocators[node].release(uid)

    # -- workers ------------------------------------------------------------------------

    def start(self) -> None:
        self.informer.start()
        self._workers = [asyncio.create_task(Workers(
            self.queue, partial(self.sync, writer=self.writers[i % len(self.writers)]),
            on_error=self._sync_failed, name="hollow-pods").worker(), name=f"hollow-pods-{i}")
            for i in range(self.worker_count)]

    async def stop(self) -> None:
        self.queue.shut_down()
        for task in self._workers:
            task.cancel()
        if self._workers:
            await asyncio.wait(self._workers)
        self._workers.clear()
        await self.informer.stop()

    def _sync_failed(self, key: str, exc: Exception) -> None:
        """An API error is counted and retried with back-off; anything else is a bug and
        ends the worker, as before."""
        if not isinstance(exc, errors.APIError):
            raise exc
        self.stats.errors += 1
        log.warning("component=agent hollow pod sync failed pod=%s error=%s; requeued",
                    key, exc.message)
        self.queue.add_rate_limited(key)

    async def sync(self, key: str, writer: AsyncClient | None = None) -> None:
        """Bring one pod to what a hollow node reports for it (level-triggered)."""
        writer = writer or self.client
        pod = self.informer.store.get(key)
        node = self._node_of(pod) if pod is not None else None
        if pod is None or node is None:
            return
        uid = _uid(pod)
        if meta.metadata(pod).get("deletionTimestamp"):
            await self._delete(writer, pod, uid)
            return
        waited = self.clock.monotonic() - self._seen.setdefault(uid, self.clock.monotonic())
        if waited < self.start_delay:
            self.queue.add_after(key, self.start_delay - waited)
            return
        await self._report(writer, pod, uid, node)

    async def _report(self, writer: AsyncClient, pod: Object, uid: str, node: str) -> None:
        try:
            ip = self.allocators[node].allocate(uid)
        except PodIPsExhausted as exc:
            log.warning("component=agent no pod IP pod=%s node=%s error=%s", meta.key_of(pod),
                        node, exc)
            return
        old = pod.get("status") or {}
        status = hollow_pod_status(pod, pod_ip=ip, host_ip=self.host_ip, now=self.clock.now())
        if not status_changed(old, status):
            return
        try:
            await writer.patch("pods", meta.name_of(pod), {"status": status},
                                    meta.namespace_of(pod), subresource="status")
        except errors.NotFound:
            return  # deleted meanwhile; the informer will tell
        self.stats.writes += 1
        if old.get("phase") != "Running":
            self.stats.started += 1
            log.debug("component=agent hollow pod running pod=%s node=%s ip=%s", meta.key_of(pod),
                      node, ip)

    async def _delete(self, writer: AsyncClient, pod: Object, uid: str) -> None:
        try:
            await writer.delete("pods", meta.name_of(pod), meta.namespace_of(pod),
                                     grace_period_seconds=0, preconditions={"uid": uid})
        except (errors.NotFound, errors.Conflict):
            return  # already gone, or a new pod took the name
        self.stats.deleted += 1
        log.debug("component=agent hollow pod deleted pod=%s", meta.key_of(pod))
