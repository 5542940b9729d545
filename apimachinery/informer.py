"""An informer: a local, indexed, always-converging copy of one kind of object.

This is client-go's SharedIndexInformer reduced to what a Python controller
needs. Its reflector lists (paginated), replaces the store, then watches from
the list's resourceVersion with bookmarks on. Every event updates the store
first and then calls the handlers, so a handler that reads the store sees the
new state. A dropped stream or an unreachable apiserver means a capped
exponential back-off and a re-watch from the last resourceVersion seen; a 410
(the revision was compacted) means a fresh list, whose differences from the
store are delivered as adds, updates and deletes. Every `resync_period` each
cached object is re-delivered as `on_update(obj, obj)`, as client-go's resync
does, so level-triggered controllers revisit everything now and then.

Objects in the store are SHARED with every handler and every reader. Never
modify them: copy first (`copy.deepcopy`), exactly as sample-controller warns
("NEVER modify objects from the store. It's a read-only, local cache.").
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import inspect
import logging
import random
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from typing import Protocol

from apimachinery import errors, meta
from apimachinery.client import WatchEvent
from apimachinery.clock import Clock, RealClock
from apimachinery.meta import Object
from apimachinery.resources import ResourceInfo, resolve

log = logging.getLogger(__name__)

IndexFunc = Callable[[Object], list[str]]
Handler = Callable[..., Awaitable[None] | None]

NAMESPACE_INDEX = "namespace"
BACKOFF_INITIAL, BACKOFF_MAX = 0.2, 5.0
# A watch that ends this fast with no events is treated as a failure, as client-go's
# reflector treats "very short watches", so a server that closes at once is not hammered.
SHORT_WATCH_SECONDS = 1.0
_ADD, _UPDATE, _DELETE = 0, 1, 2  # slots in a handler registration


def namespace_index(obj: Object) -> list[str]:
    """client-go's MetaNamespaceIndexFunc: the object's namespace ("" if cluster-scoped)."""
    return [meta.namespace_of(obj)]


class ListerWatcher(Protocol):
    """What an informer needs from a client (client-go's ListerWatcher); AsyncClient fits."""

    async def list_all(self, resource: ResourceInfo, namespace: str | None = None, *,
                       label_selector: str | None = None,
                       field_selector: str | None = None) -> tuple[list[Object], str]: ...

    def watch(self, resource: ResourceInfo, namespace: str | None = None, *,
              resource_version: str | None = None, label_selector: str | None = None,
              field_selector: str | None = None, allow_bookmarks: bool = False,
              timeout_seconds: int | None = None) -> AsyncGenerator[WatchEvent, None]: ...


class Store:
    """A thread-unsafe (single event loop) indexed cache: client-go's cache.Indexer.

    Keys are `namespace/name` (meta.key_of). Readers get the cached dicts themselves,
    not copies: treat them as read-only. Only the owning Informer writes.
    """

    def __init__(self) -> None:
        self._items: dict[str, Object] = {}
        self._indexers: dict[str, IndexFunc] = {}
        self._indices: dict[str, dict[str, set[str]]] = {}
        self._index_touched: dict[str, dict[str, int]] = {}  # value -> generation, in touch order
        self._index_sequence: dict[str, int] = {}
        self._index_pruned: dict[str, int] = {}
        self.generation = 0  # bumped by every write: a reader's cheap "anything changed?"
        self.add_indexer(NAMESPACE_INDEX, namespace_index)

    def add_indexer(self, name: str, fn: IndexFunc) -> None:
        """Register an index and build it over what is already cached."""
        if name in self._indexers:
            raise ValueError(f"indexer {name!r} already exists")
        self._indexers[name] = fn
        self._indices[name] = {}
        self._index_touched[name] = {}
        self._index_sequence[name] = 0
        self._index_pruned[name] = 0
        for key, obj in self._items.items():
            self._index_one(name, key, obj)

    def get(self, key: str) -> Object | None:
        return self._items.get(key)

    def list(self) -> list[Object]:
        return list(self._items.values())

    def keys(self) -> builtins.list[str]:
        return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[Object]:
        return iter(list(self._items.values()))

    def index_keys(self, name: str, value: str) -> builtins.list[str]:
        """Keys of the objects whose index `name` yields `value` (client-go's IndexKeys)."""
        if name not in self._indices:
            raise KeyError(f"index with name {name!r} does not exist")
        return sorted(self._indices[name].get(value, ()))

    def by_index(self, name: str, value: str) -> builtins.list[Object]:
        """The objects whose index `name` yields `value` (client-go's ByIndex)."""
        return [self._items[k] for k in self.index_keys(name, value)]

    def index_generation(self, name: str, value: str) -> int:
        """Moves up whenever an object indexed under `value` is added, replaced or removed.

        Values never written answer 0. With `index_changes`, lets a reader that
        derives something from `by_index(name, value)` (the scheduler's NodeInfo of
        one node) rebuild only what may have changed.
        """
        return self._index_touched[name].get(value, 0)

    def index_changes(self, name: str, since: int) -> tuple[int, builtins.list[str] | None]:
        """The index's generation now, and the values touched after generation `since`.

        Costs the number of values touched, not the size of the store: values are
        kept in the order they were last touched. None instead of a list means the
        record of some emptied values was dropped after `since` (see `_touch`): the
        reader must treat every value as changed.
        """
        if since < self._index_pruned[name]:
            return self._index_sequence[name], None
        changed = []
        for value, generation in reversed(self._index_touched[name].items()):
            if generation <= since:
                break
            changed.append(value)
        return self._index_sequence[name], changed

    # -- writes, for the informer only --

    def _touch(self, name: str, value: str) -> None:
        """Record that `value` changed; forget values no object holds once they pile up.

        Without the pruning, an index over ever-new values (owner uids) would grow
        forever with the record of values long emptied.
        """
        self._index_sequence[name] += 1
        touched = self._index_touched[name]
        touched.pop(value, None)
        touched[value] = self._index_sequence[name]
        index = self._indices[name]
        if len(touched) > 2 * len(index) + 1024:
            self._index_touched[name] = {v: g for v, g in touched.items()
                                         if v in index or v == value}
            self._index_pruned[name] = self._index_sequence[name]

    def _index_one(self, name: str, key: str, obj: Object) -> None:
        for value in self._indexers[name](obj):
            self._indices[name].setdefault(value, set()).add(key)
            self._touch(name, value)

    def _unindex(self, key: str, obj: Object) -> None:
        for name, fn in self._indexers.items():
            index = self._indices[name]
            for value in fn(obj):
                self._touch(name, value)
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]

    def _put(self, obj: Object) -> Object | None:
        """Insert or replace; returns the previous object, if any."""
        key = meta.key_of(obj)
        old = self._items.get(key)
        if old is not None:
            self._unindex(key, old)
        self.generation += 1
        self._items[key] = obj
        for name in self._indexers:
            self._index_one(name, key, obj)
        return old

    def _pop(self, key: str) -> Object | None:
        old = self._items.pop(key, None)
        if old is not None:
            self.generation += 1
            self._unindex(key, old)
        return old

    def _replace(self, objs: builtins.list[Object]
                 ) -> tuple[builtins.list[Object], builtins.list[tuple[Object, Object]],
                            builtins.list[Object]]:
        """Make the store hold exactly `objs`; returns (added, updated (old, new), deleted).

        An object whose resourceVersion did not change is not reported as updated:
        client-go delivers such a Replaced delta only to listeners due for a resync.
        """
        added: list[Object] = []
        updated: list[tuple[Object, Object]] = []
        deleted: list[Object] = []
        fresh = {meta.key_of(o) for o in objs}
        for key in self.keys():
            if key not in fresh:
                deleted.append(self._items[key])
                self._pop(key)
        for obj in objs:
            old = self._put(obj)
            if old is None:
                added.append(obj)
            elif meta.resource_version_of(old) != meta.resource_version_of(obj) or (
                    not meta.resource_version_of(obj) and old != obj):
                updated.append((old, obj))
        return added, updated, deleted


class Informer:
    """List-and-watch one resource into a Store and tell handlers what changed."""

    def __init__(self, client: ListerWatcher, resource: ResourceInfo | str, *,
                 namespace: str | None = None, label_selector: str | None = None,
                 field_selector: str | None = None, resync_period: float | None = None,
                 clock: Clock | None = None) -> None:
        self._client = client
        self.resource = resource if isinstance(resource, ResourceInfo) else resolve(resource)
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.resync_period = resync_period
        self._clock: Clock = clock if clock is not None else RealClock()
        self.store = Store()
        self._handlers: list[tuple[Handler | None, Handler | None, Handler | None]] = []
        self._synced = asyncio.Event()
        self._last_rv = ""
        self._last_error: str | None = None
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<Informer {self.resource.group_resource} ns={self.namespace or '*'}>"

    # -- configuration, before start --

    def add_event_handler(self, on_add: Handler | None = None,
                          on_update: Handler | None = None,
                          on_delete: Handler | None = None) -> None:
        """Register callbacks (sync or async): on_add(obj), on_update(old, new), on_delete(obj).

        They run one at a time on the informer's task, after the store is updated; keep
        them short (enqueue a key). on_delete gets the last state seen (from the event,
        or the cached copy when a relist finds the object gone). Exceptions are logged.
        """
        if self._task is not None:
            raise RuntimeError(f"{self!r}: add handlers before start()")
        self._handlers.append((on_add, on_update, on_delete))

    def add_indexer(self, name: str, fn: IndexFunc) -> None:
        """Add an index (client-go's AddIndexers); like client-go, only before start."""
        if self._task is not None:
            raise RuntimeError(f"{self!r}: add indexers before start()")
        self.store.add_indexer(name, fn)

    # -- state --

    @property
    def has_synced(self) -> bool:
        """True once the first list is in the store and its adds were handled."""
        return self._synced.is_set()

    @property
    def last_resource_version(self) -> str:
        """The newest resourceVersion seen (list, event or bookmark); the next watch's start."""
        return self._last_rv

    async def wait_for_sync(self, timeout: float) -> None:
        """Wait for the first list (client-go's WaitForCacheSync); TimeoutError if not."""
        try:
            await asyncio.wait_for(self._synced.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"{self!r} did not sync within {timeout}s "
                               f"(last error: {self._last_error or 'none'})") from None

    # -- lifecycle --

    def start(self) -> asyncio.Task[None]:
        """Run in a background task (idempotent); stop() ends it."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name=repr(self))
        return self._task

    async def stop(self) -> None:
        """Cancel the task and wait until it and its stream are gone."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        await asyncio.wait([task])
        if not task.cancelled() and task.exception() is not None:
            log.error("informer failed resource=%s error=%r", self.resource.plural,
                      task.exception())

    async def run(self) -> None:
        """The reflector loop, plus the resync loop when a period is set; runs until cancelled."""
        async with asyncio.TaskGroup() as tasks:
            if self.resync_period:
                tasks.create_task(self._resync_loop(self.resync_period))
            await self._reflect()

    # -- the reflector --

    async def _reflect(self) -> None:
        delay = BACKOFF_INITIAL
        relist = True
        while True:
            try:
                if relist or not self._last_rv:
                    await self._list_and_replace()
                    relist, delay = False, BACKOFF_INITIAL
                started = self._clock.monotonic()
                if await self._watch_once():
                    delay = BACKOFF_INITIAL
                    continue  # the server ended a healthy watch: resume at once
                if self._clock.monotonic() - started >= SHORT_WATCH_SECONDS:
                    continue
                self._last_error = "watch closed immediately with no events"
            except errors.Gone as exc:  # compacted: relist, after a short pause as client-go
                log.info("informer relisting resource=%s rv=%s reason=%r",
                         self.resource.plural, self._last_rv, exc.message)
                self._last_error, relist = exc.message, True
                await self._clock.sleep(BACKOFF_INITIAL)
                continue
            except errors.Unreachable as exc:
                self._last_error = exc.message
            except errors.APIError as exc:
                self._last_error, relist = exc.message, True
            except Exception as exc:  # a bug or an unexpected reply: log it, keep converging
                log.exception("informer error resource=%s", self.resource.plural)
                self._last_error, relist = repr(exc), True
            log.warning("informer backing off resource=%s delay=%.1fs rv=%s relist=%s "
                        "error=%r", self.resource.plural, delay, self._last_rv, relist,
                        self._last_error)
            await self._clock.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    async def _list_and_replace(self) -> None:
        items, rv = await self._client.list_all(
            self.resource, self.namespace, label_selector=self.label_selector,
            field_selector=self.field_selector)
        added, updated, deleted = self.store._replace(items)
        self._last_rv = rv
        log.debug("informer listed resource=%s rv=%s items=%d", self.resource.plural, rv,
                  len(items))
        for obj in deleted:
            await self._dispatch(_DELETE, obj)
        for obj in added:
            await self._dispatch(_ADD, obj)
        for old, new in updated:
            await self._dispatch(_UPDATE, old, new)
        self._synced.set()

    async def _watch_once(self) -> bool:
        """Follow one watch stream to its end; True if any event (bookmarks too) arrived."""
        got_events = False
        stream = self._client.watch(
            self.resource, self.namespace, resource_version=self._last_rv,
            label_selector=self.label_selector, field_selector=self.field_selector,
            allow_bookmarks=True, timeout_seconds=random.randint(300, 600))
        async with contextlib.aclosing(stream) as events:
            async for event in events:
                got_events = True
                await self._apply(event)
        return got_events

    async def _apply(self, event: WatchEvent) -> None:
        obj = event.object
        if event.type == "ERROR":
            raise errors.from_status(obj, obj.get("code"))
        rv = meta.resource_version_of(obj)
        if event.type in ("ADDED", "MODIFIED"):
            old = self.store._put(obj)
            self._last_rv = rv or self._last_rv
            await (self._dispatch(_ADD, obj) if old is None else self._dispatch(_UPDATE, old, obj))
        elif event.type == "DELETED":
            self.store._pop(meta.key_of(obj))
            self._last_rv = rv or self._last_rv
            await self._dispatch(_DELETE, obj)
        elif event.type == "BOOKMARK":
            self._last_rv = rv or self._last_rv
        else:
            log.warning("informer ignoring event resource=%s type=%r", self.resource.plural,
                        event.type)

    async def _resync_loop(self, period: float) -> None:
        while True:
            await self._clock.sleep(period)
            if self.has_synced:
                for obj in self.store.list():
                    await self._dispatch(_UPDATE, obj, obj)

    async def _dispatch(self, which: int, *args: Object) -> None:
        """Call the add, update or delete callback of every registration, in order."""
        for handlers in self._handlers:
            fn = handlers[which]
            if fn is None:
                continue
            try:
                result = fn(*args)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("informer handler failed resource=%s key=%s",
                              self.resource.plural, meta.key_of(args[-1]))
