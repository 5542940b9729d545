"""Serving `?watch=true`: one JSON event a line over a long-lived chunked response, or,
for a client that accepts Kubernetes protobuf alone, length-framed protobuf WatchEvents
(`application/vnd.kubernetes.protobuf;stream=watch`).

Where the events come from: the resource's shared WatchCache when it still
holds every event after the client's resourceVersion, otherwise a dedicated
etcd watch from that revision, otherwise (compacted) a single ERROR event
carrying a 410 Expired Status, after which clients relist. Without a
resourceVersion the stream begins with a synthetic ADDED per existing object,
as Kubernetes does and the official Python client relies on; `sendInitialEvents`
(the watch-list form, `listoptions.watch_start`) ends those with a BOOKMARK
annotated `k8s.io/initial-events-end`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import StreamingResponse

from apimachinery import errors
from apimachinery.meta import Object
from apimachinery.printers import Layout, to_table
from apimachinery.resources import ResourceInfo

from . import metrics, protobuf
from .etcdcodec import RawEvent
from .freshness import wait_until_fresh
from .listoptions import INITIAL_EVENTS_END, watch_start
from .params import parse_bool, parse_int64
from .registry import Registry, collection_prefix
from .requestinfo import RequestInfo
from .storage import CompactedError, Storage
from .watchcache import Item, WatchCaches, Watcher
from .wire import answer_media, table_include

DEFAULT_TIMEOUT = (1800, 3600)  # Kubernetes picks a random 30-60 minutes
MAX_TIMEOUT = 3600  # seconds: the longest watch a client's timeoutSeconds asks for


class WatchService:
    """Builds watch streams for the handlers."""

    def __init__(self, registry: Registry, storage: Storage, caches: WatchCaches,
                 *, watcher_capacity: int = 2048) -> None:
        self.registry = registry
        self.storage = storage
        self.caches = caches
        self.watcher_capacity = watcher_capacity

    async def serve(self, request: Request, info: RequestInfo, as_table: bool
                    ) -> StreamingResponse:
        from .handlers import selector_predicate  # shared with list

        query = request.query_params
        keep = selector_predicate(info.resource, query.get("labelSelector"),
                                  query.get("fieldSelector"))
        matches = _scoped(info, keep)
        timeout = _timeout(query.get("timeoutSeconds"))
        bookmarks = parse_bool(query.get("allowWatchBookmarks"))
        start = watch_start(query.get("resourceVersion") or "",
                            query.get("resourceVersionMatch") or "",
                            query.get("continue") or "", query.get("sendInitialEvents"),
                            bookmarks)
        resource = info.resource
        include = table_include(request) if as_table else "Metadata"
        encoder: _Encoder = _Encoder(resource, as_table, self.registry.kind(resource).table,
                                     include)
        media_type = "application/json"
        if not as_table and answer_media(request) == protobuf.MEDIA_TYPE:
            encoder, media_type = _ProtobufEncoder(resource), protobuf.WATCH_MEDIA_TYPE
        try:
            await wait_until_fresh(self.storage.current_revision, start.required)
        except errors.Timeout as exc:  # Kubernetes' errWatcher: the Status as one ERROR event
            error = encoder.encode(("ERROR", exc.to_status(), 0, None))
            return StreamingResponse(iter([error]), media_type=media_type)
        initial: list[Object] = []
        revision = start.revision
        if start.initial_events:
            page = await self.registry.list(info.resource, info.namespace, keep=keep)
            initial, revision = page.items, page.revision
        elif not revision:
            revision = await self.storage.current_revision()
        # Encoded before the response starts, so that an object protobuf cannot carry is
        # a 406 rather than a broken stream.
        first = encoder.initial(initial)
        if start.end_bookmark:
            first += encoder.bookmark(revision, {INITIAL_EVENTS_END: "true"})
        stream = self._events(info, first, revision, matches, timeout, bookmarks, encoder)
        return StreamingResponse(stream, media_type=media_type)

    async def _events(self, info: RequestInfo, first: bytes, revision: int,
                      matches: Any, timeout: float, bookmarks: bool, encoder: _Encoder,
                      ) -> AsyncIterator[bytes]:
        """The stream: initial objects, then every queued event, a batch per wake-up.

        No per-event timer: the watch's timeout closes the queue with a single
        `call_later`, and bookmarks come from one ticker per resource, so an
        idle or busy watcher costs nothing but its queue.
        """
        resource = info.resource
        cache = self.caches.get(resource.plural)
        pump: asyncio.Task[None] | None = None
        if cache.can_serve(revision):
            watcher = cache.subscribe(revision, matches, bookmarks=bookmarks)
        else:
            watcher = Watcher(revision, matches, self.watcher_capacity)
            pump = asyncio.create_task(self._direct(resource, info.namespace, watcher))
        closer = asyncio.get_running_loop().call_later(timeout, watcher.close)
        metrics.WATCHERS.labels(resource.plural).inc()
        try:
            if first:
                yield first
            while True:
                batch, done = _drain(await watcher.queue.get(), watcher)
                if batch:
                    metrics.WATCH_EVENTS.labels(resource.plural).inc(len(batch))
                    yield b"".join(encoder.encode(item) for item in batch)
                if done or encoder.failed:
                    return
        finally:
            closer.cancel()
            metrics.WATCHERS.labels(resource.plural).dec()
            cache.unsubscribe(watcher)
            if pump is not None:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pump

    async def _direct(self, resource: ResourceInfo, namespace: str | None,
                      watcher: Watcher) -> None:
        """Feed `watcher` from its own etcd watch: history older than the shared cache."""
        prefix = collection_prefix(resource, namespace)
        try:
            async for event in self.storage.watch(prefix, watcher.after_revision + 1):
                watcher.offer(event)
                if watcher.terminated:
                    return
        except CompactedError as exc:
            watcher.fail(errors.Gone(f"too old resource version: {watcher.after_revision} "
                                     f"({exc.compacted_revision})"))
        except errors.ServiceUnavailable:
            watcher.terminate()


class _Encoder:
    """Watch event lines, as raw objects or as one-row Tables for `kubectl get -w`."""

    def __init__(self, resource: ResourceInfo, as_table: bool, layout: Layout | None,
                 include_object: str = "Metadata") -> None:
        self.resource = resource
        self.as_table = as_table
        self.layout = layout
        self.include_object = include_object
        self.sent_columns = False
        self.failed = False  # an event could not be written: the stream ends after it

    def initial(self, objects: list[Object]) -> bytes:
        """The synthetic ADDED events a watch without resourceVersion starts with."""
        return b"".join(self.line("ADDED", obj, None) for obj in objects)

    def encode(self, item: Item) -> bytes:
        kind, obj, revision, raw = item
        if kind == "BOOKMARK":
            return self.bookmark(revision)
        return self.line(kind, obj, raw)

    def line(self, kind: str, obj: Object, raw: RawEvent | None) -> bytes:
        if self.as_table and kind != "ERROR":
            table = to_table(self.resource, [obj], datetime.now(UTC), layout=self.layout,
                             resource_version=obj["metadata"].get("resourceVersion", ""),
                             include_object=self.include_object)
            if self.sent_columns:
                table["columnDefinitions"] = []
            self.sent_columns = True
            return orjson.dumps({"type": kind, "object": table}) + b"\n"
        if raw is not None and raw.type == kind:
            return raw.line()  # shared by every watcher that sees the event as it is
        return orjson.dumps({"type": kind, "object": obj}) + b"\n"

    def bookmark(self, revision: int, annotations: dict[str, str] | None = None) -> bytes:
        return orjson.dumps({"type": "BOOKMARK",
                             "object": self.marker(revision, annotations)}) + b"\n"

    def marker(self, revision: int, annotations: dict[str, str] | None) -> Object:
        """A BOOKMARK's object: the kind at a revision, annotated when it ends the initial
        events of a watch-list."""
        marker: Object = {"kind": self.resource.kind, "apiVersion": self.resource.api_version,
                          "metadata": {"resourceVersion": str(revision)}}
        if annotations:
            marker["metadata"]["annotations"] = annotations
        return marker


class _ProtobufEncoder(_Encoder):
    """Protobuf watch frames (`protobuf.frame`): each a 4-byte length and a WatchEvent
    whose object is the `k8s\\0`-prefixed object, as Kubernetes' watch handler writes."""

    def __init__(self, resource: ResourceInfo) -> None:
        super().__init__(resource, False, None)

    def initial(self, objects: list[Object]) -> bytes:
        try:
            return b"".join(protobuf.frame("ADDED", obj) for obj in objects)
        except (protobuf.Unencodable, protobuf.Unsupported) as exc:
            raise errors.NotAcceptable(
                f"{self.resource.plural} cannot be watched as {protobuf.MEDIA_TYPE} by this "
                f"server: {exc}; only the following media types are accepted: "
                "application/json") from None

    def line(self, kind: str, obj: Object, raw: RawEvent | None) -> bytes:
        """One frame; an object protobuf cannot carry ends the stream with an ERROR event
        holding a 406 Status that names the field (the client relists, and sees the 406)."""
        if self.failed:
            return b""  # the rest of a batch after the ERROR event: the stream ends there
        try:
            return protobuf.frame(kind, obj)
        except (protobuf.Unencodable, protobuf.Unsupported) as exc:
            self.failed = True
            name = (obj.get("metadata") or {}).get("name", "")
            status = errors.NotAcceptable(
                f'{self.resource.kind} "{name}" cannot be served as {protobuf.MEDIA_TYPE} '
                f"by this server: {exc}").to_status()
            return protobuf.frame("ERROR", status)

    def bookmark(self, revision: int, annotations: dict[str, str] | None = None) -> bytes:
        return self.line("BOOKMARK", self.marker(revision, annotations), None)


def _drain(first: Item | None, watcher: Watcher) -> tuple[list[Item], bool]:
    """Everything queued now, starting with `first`; whether the stream ends after it."""
    batch: list[Item] = []
    item = first
    while item is not None:
        batch.append(item)
        if item[0] != "BOOKMARK":
            watcher.after_revision = item[2]
        if watcher.queue.empty():
            return batch, False
        item = watcher.queue.get_nowait()
    return batch, True


def _scoped(info: RequestInfo, keep: Any) -> Any:
    """Watch caches hold every namespace: narrow to the request's namespace and selectors."""
    namespace = info.namespace if info.resource.namespaced else None

    def matches(obj: Object) -> bool:
        if namespace and (obj.get("metadata") or {}).get("namespace") != namespace:
            return False
        return keep is None or keep(obj)

    return matches


def _timeout(value: str | None) -> float:
    """`timeoutSeconds`, an int64 as in Kubernetes (`1e99` or `1.5` is a 400); without one,
    a random 30-60 minutes as Kubernetes' minRequestTimeout gives. A longer one is cut to
    an hour (Kubernetes honours any): a watch holds a connection and a queue, and a client
    re-watches from its last resourceVersion when one ends."""
    if value:
        return float(min(MAX_TIMEOUT, max(0, parse_int64(value, "timeoutSeconds"))))
    return float(random.randint(*DEFAULT_TIMEOUT))


__all__ = ["RawEvent", "WatchService"]
