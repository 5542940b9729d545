"""Watch fan-out: one etcd watch per resource, shared by every HTTP watcher of it.

This is Kubernetes' Cacher in miniature. Each resource gets a `WatchCache`
that runs a single etcd watch on `/registry/{resource}/` and keeps a ring
buffer of the most recent events. An HTTP watch subscribes with the revision
it has seen; events after it are replayed from the buffer and live ones follow,
so a client that reconnects loses and repeats nothing. A revision older than
the buffer is served by a dedicated etcd watch (etcd multiplexes it on the same
gRPC stream) or, if etcd has compacted it, answered with 410 Gone.

Every watcher has a bounded queue. A watcher that falls too far behind is
closed rather than allowed to stall the fan-out; its client resumes from its
last revision, which is what Kubernetes' cacher does with slow watchers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable

from apimachinery import errors
from apimachinery.meta import Object

from . import metrics
from .etcdcodec import RawEvent
from .storage import CompactedError, Storage

log = logging.getLogger("apiserver.watchcache")

Predicate = Callable[[Object], bool]
# (type, object, revision, the shared RawEvent when the type is its own, for its encoding)
Item = tuple[str, Object, int, RawEvent | None]

BOOKMARK_INTERVAL = 5.0


def filter_event(event: RawEvent, matches: Predicate) -> tuple[str, Object] | None:
    """What a filtered watcher sees of a change: Kubernetes' transitions in and out of a filter.

    An object that starts matching is ADDED, one that stops matching is DELETED,
    so a watcher's view always equals a filtered list.
    """
    if event.type == "DELETED":
        return ("DELETED", event.object) if matches(event.object) else None
    now = matches(event.object)
    before = event.prev_object is not None and matches(event.prev_object)
    if event.type == "ADDED" or not before:
        return ("ADDED", event.object) if now else None
    return ("MODIFIED", event.object) if now else ("DELETED", event.object)


class Watcher:
    """One HTTP watch stream: the events it wants, in a bounded queue."""

    def __init__(self, after_revision: int, matches: Predicate, capacity: int, *,
                 bookmarks: bool = False) -> None:
        self.after_revision = after_revision
        self.matches = matches
        self.bookmarks = bookmarks
        self.queue: asyncio.Queue[Item | None] = asyncio.Queue(capacity)
        self.terminated = False

    def offer(self, event: RawEvent) -> None:
        """Queue `event` if this watcher wants it; close the watcher if it is too far behind."""
        if self.terminated or event.revision <= self.after_revision:
            return
        seen = filter_event(event, self.matches)
        if seen is None:
            return
        try:
            self.queue.put_nowait((seen[0], seen[1], event.revision, event))
        except asyncio.QueueFull:
            self.terminate()

    def bookmark(self, revision: int) -> None:
        """Offer a BOOKMARK at `revision` if nothing is waiting (everything before is sent)."""
        if self.bookmarks and not self.terminated and self.queue.empty():
            self.queue.put_nowait(("BOOKMARK", {}, max(revision, self.after_revision), None))

    def close(self) -> None:
        """End the stream after what is queued (the watch's timeout)."""
        if self.terminated:
            return
        try:
            self.queue.put_nowait(None)
            self.terminated = True
        except asyncio.QueueFull:
            self.terminate()

    def fail(self, error: errors.APIError) -> None:
        """End the stream with an ERROR event carrying `error` as a Status (e.g. 410 Gone)."""
        self.terminate()
        self.queue.get_nowait()
        self.queue.put_nowait(("ERROR", error.to_status(), self.after_revision, None))
        self.queue.put_nowait(None)

    def terminate(self) -> None:
        """End the stream: drop what is queued (the client resumes from its last revision)."""
        if self.terminated:
            return
        self.terminated = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


class WatchCache:
    """The shared etcd watch of one resource prefix and its recent history."""

    def __init__(self, storage: Storage, prefix: str, resource: str, *,
                 history: int = 4096, watcher_capacity: int = 2048) -> None:
        self._storage = storage
        self._prefix = prefix
        self._resource = resource
        self._history: deque[RawEvent] = deque(maxlen=history)
        self._watcher_capacity = watcher_capacity
        self._watchers: set[Watcher] = set()
        self._revision = 0  # every event up to here has been dispatched
        self._oldest = 0  # every event after this revision is in the buffer
        self._task: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    @property
    def revision(self) -> int:
        return self._revision

    async def start(self) -> None:
        self._revision = self._oldest = await self._storage.current_revision()
        self._task = asyncio.create_task(self._pump(), name=f"watchcache:{self._resource}")
        self._ticker = asyncio.create_task(self._bookmarks(),
                                           name=f"bookmarks:{self._resource}")
        self._ready.set()

    async def stop(self) -> None:
        for task in (self._task, self._ticker):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for watcher in list(self._watchers):
            watcher.terminate()

    async def _pump(self) -> None:
        """Follow etcd forever: re-watch after a dropped connection, reset after a compaction."""
        backoff = 0.1
        while True:
            try:
                async for event in self._storage.watch(self._prefix, self._revision + 1):
                    self._dispatch(event)
                    backoff = 0.1
            except CompactedError:
                log.warning("component=apiserver watch cache fell behind compaction resource=%s",
                            self._resource)
                await self._reset()
            except errors.ServiceUnavailable as exc:
                log.warning("component=apiserver etcd watch dropped resource=%s err=%s",
                            self._resource, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is None or task.cancelling():
                    raise  # stop()
                # gRPC's cancel of a call whose channel closed, not ours: never end the pump
                log.warning("component=apiserver etcd watch cancelled under resource=%s",
                            self._resource)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception:  # a bug must not silently end the fan-out: log, retry
                log.exception("component=apiserver watch cache pump failed resource=%s",
                              self._resource)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _bookmarks(self) -> None:
        """One timer per resource tells idle watchers how far the cache has got."""
        while True:
            await asyncio.sleep(BOOKMARK_INTERVAL)
            for watcher in list(self._watchers):
                watcher.bookmark(self._revision)

    async def _reset(self) -> None:
        """Forget history we can no longer complete; every watcher must resume (and get 410)."""
        for watcher in list(self._watchers):
            watcher.terminate()
        self._history.clear()
        # Never backwards: a member that lags the one we left may answer an older revision.
        self._revision = self._oldest = max(self._revision,
                                            await self._storage.current_revision())

    def _dispatch(self, event: RawEvent) -> None:
        if len(self._history) == self._history.maxlen:
            self._oldest = self._history[0].revision
        self._history.append(event)
        self._revision = event.revision
        for watcher in list(self._watchers):
            watcher.offer(event)
            if watcher.terminated:
                metrics.WATCHERS_TERMINATED.labels(self._resource).inc()
                self._watchers.discard(watcher)

    def can_serve(self, after_revision: int) -> bool:
        """True if every event after `after_revision` is (or will be) in this cache."""
        return self._ready.is_set() and after_revision >= self._oldest

    def subscribe(self, after_revision: int, matches: Predicate, *,
                  bookmarks: bool = False) -> Watcher:
        """A watcher that gets every matching event after `after_revision`, replay first.

        Replaying the buffer and registering happen in one step of the event
        loop, so no event can slip between them.
        """
        return self.attach(Watcher(after_revision, matches, self._watcher_capacity,
                                   bookmarks=bookmarks))

    def attach(self, watcher: Watcher) -> Watcher:
        """Replay the buffer after the watcher's revision into it, then register it (one
        step of the event loop); for in-process followers that are Watchers of their own
        (the Node authorizer's graph, nodeauthz/populator.py)."""
        for event in self._history:
            watcher.offer(event)
        if not watcher.terminated:
            self._watchers.add(watcher)
        return watcher

    def unsubscribe(self, watcher: Watcher) -> None:
        self._watchers.discard(watcher)

    @property
    def watcher_count(self) -> int:
        return len(self._watchers)


class WatchCaches:
    """The watch caches of all resources, started with the apiserver."""

    def __init__(self, storage: Storage, **options: int) -> None:
        self._storage = storage
        self._options = options
        self._caches: dict[str, WatchCache] = {}

    async def start(self, resources: list[str]) -> None:
        for resource in resources:
            cache = WatchCache(self._storage, f"/registry/{resource}/", resource,
                               **self._options)
            await cache.start()
            self._caches[resource] = cache

    async def stop(self) -> None:
        for cache in self._caches.values():
            await cache.stop()

    def get(self, resource: str) -> WatchCache:
        return self._caches[resource]
