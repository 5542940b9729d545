"""Keeps the node graph current from the apiserver's pods watch cache.

Kubernetes' graph_populator.go feeds the graph from pod, PV and attachment
informers of the apiserver itself. Here the graph follows the pods watch cache
in process: one list at start (before the apiserver reports ready), then every
event as the cache dispatches it, in the same step of the event loop as every
HTTP watcher gets it. So a node that learns of its pod through this apiserver
can read that pod's Secrets on its next request. If the cache drops the
follower (a compaction it fell behind), the graph is listed again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from apimachinery import errors
from apimachinery.meta import Object
from apimachinery.resources import resolve
from apiserver.etcdcodec import RawEvent
from apiserver.registry import Registry
from apiserver.watchcache import WatchCaches, Watcher

from .graph import NodeGraph, pod_key

log = logging.getLogger("apiserver")

PODS = resolve("pods")
_RETRY = 1.0


def _everything(_: Object) -> bool:
    return True


class GraphFeed(Watcher):
    """A watcher that applies each event to the graph at once instead of queueing it."""

    def __init__(self, graph: NodeGraph, after_revision: int) -> None:
        super().__init__(after_revision, _everything, 1)
        self.graph = graph
        self.ended = asyncio.Event()

    def offer(self, event: RawEvent) -> None:
        if self.terminated or event.revision <= self.after_revision:
            return
        self.after_revision = event.revision
        try:
            if event.type == "DELETED":
                self.graph.delete_pod(pod_key(event.object))
            else:
                self.graph.set_pod(event.object)
        except Exception:  # never break the cache's fan-out to the other watchers
            log.exception("component=apiserver node graph failed on an event; listing again")
            self.terminate()

    def bookmark(self, revision: int) -> None:
        return

    def close(self) -> None:
        self.terminate()

    def fail(self, error: errors.APIError) -> None:
        self.terminate()

    def terminate(self) -> None:
        self.terminated = True
        self.ended.set()


class GraphPopulator:
    """List the pods once, then follow the pods watch cache; list again if dropped."""

    def __init__(self, registry: Registry, caches: WatchCaches, graph: NodeGraph) -> None:
        self.registry, self.caches, self.graph = registry, caches, graph
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Fill the graph before the apiserver serves (a node's first reads must find it)."""
        feed = await self._sync()
        self._task = asyncio.create_task(self._follow(feed), name="nodeauthz:graph")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _sync(self) -> GraphFeed:
        cache = self.caches.get(PODS.plural)
        while True:
            page = await self.registry.list(PODS, None)
            if cache.can_serve(page.revision):  # no await from here: no event slips between
                self.graph.replace(page.items)
                feed = GraphFeed(self.graph, page.revision)
                cache.attach(feed)
                log.info("component=apiserver node graph synced pods=%d revision=%d",
                         len(self.graph), page.revision)
                return feed
            await asyncio.sleep(_RETRY)

    async def _follow(self, feed: GraphFeed) -> None:
        while True:
            await feed.ended.wait()
            self.caches.get(PODS.plural).unsubscribe(feed)
            log.warning("component=apiserver node graph lost its watch; listing pods again")
            try:
                feed = await self._sync()
            except errors.APIError as exc:
                log.warning("component=apiserver node graph list failed error=%s", exc)
                await asyncio.sleep(_RETRY)
                feed = GraphFeed(self.graph, 0)
                feed.ended.set()
