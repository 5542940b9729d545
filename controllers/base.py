"""What every controller shares: shared informers, a work queue of keys, and workers.

This is the skeleton of Kubernetes' sample-controller and of every controller
in kube-controller-manager: informer event handlers only enqueue a
`namespace/name` key; `workers` tasks (`apimachinery.workers`) pop keys and
call `reconcile(key)`, which reads desired and observed state from the
informer caches, acts, and is safe to run any number of times. An error (a
409 Conflict included, which is normal and logged quietly) puts the key back
with rate-limited back-off; a success forgets the key's failure history
(client-go's processNextWorkItem).

`SharedInformerFactory` mirrors client-go's: one informer per resource, shared
by every controller of the process, so the controller-manager lists and
watches pods once however many controllers look at pods.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Protocol

from apimachinery import errors, meta
from apimachinery.clock import Clock, RealClock
from apimachinery.events import EventRecorder
from apimachinery.informer import IndexFunc, Informer, ListerWatcher
from apimachinery.meta import Object
from apimachinery.resources import ResourceInfo, resolve
from apimachinery.workers import Workers
from apimachinery.workqueue import RateLimiter, WorkQueue

COMPONENT = "controller-manager"


class ControllerClient(ListerWatcher, Protocol):
    """The calls controllers make; `apimachinery.client.AsyncClient` fits, so do test fakes."""

    async def get(self, resource: ResourceInfo | str, name: str,
                  namespace: str | None = None, *, subresource: str | None = None
                  ) -> Object: ...

    async def create(self, resource: ResourceInfo | str, obj: Object,
                     namespace: str | None = None) -> Object: ...

    async def update(self, resource: ResourceInfo | str, obj: Object, *,
                     subresource: str | None = None) -> Object: ...

    async def update_status(self, resource: ResourceInfo | str, obj: Object) -> Object: ...

    async def patch(self, resource: ResourceInfo | str, name: str, patch: Any,
                    namespace: str | None = None, *, patch_type: str = "merge",
                    subresource: str | None = None,
                    field_manager: str | None = None) -> Object: ...

    async def delete(self, resource: ResourceInfo | str, name: str,
                     namespace: str | None = None, *, propagation_policy: str | None = None,
                     grace_period_seconds: int | None = None,
                     preconditions: dict[str, str] | None = None) -> Object: ...

    async def delete_collection(self, resource: ResourceInfo | str,
                                namespace: str | None = None, *,
                                label_selector: str | None = None,
                                field_selector: str | None = None) -> Object: ...


class Requeue(Exception):
    """Not a failure: look at this key again later (after `after` seconds, else back-off).

    The namespace controller raises it while content remains, as Kubernetes'
    ResourcesRemainingError makes it requeue with an estimate.
    """

    def __init__(self, message: str, after: float | None = None) -> None:
        super().__init__(message)
        self.after = after


# -- the shared informer factory -------------------------------------------------------------

class SharedInformerFactory:
    """One informer per resource for the whole process (client-go's SharedInformerFactory).

    Controllers ask for informers and add indexers in their constructors; `start()`
    then starts every informer asked for, and `wait_for_cache_sync()` waits until each
    has listed once, which every controller needs before its workers may run.
    """

    def __init__(self, client: ListerWatcher, *, resync_period: float | None = None,
                 clock: Clock | None = None) -> None:
        self._client = client
        self._resync = resync_period
        self._clock: Clock = clock if clock is not None else RealClock()
        self._informers: dict[str, Informer] = {}
        self._indexers: dict[str, set[str]] = {}
        self._started = False

    def informer(self, resource: ResourceInfo | str) -> Informer:
        """The process-wide informer for `resource`, created on first use."""
        info = resource if isinstance(resource, ResourceInfo) else resolve(resource)
        inf = self._informers.get(info.plural)
        if inf is None:
            if self._started:
                raise RuntimeError(f"informer for {info.plural} requested after start()")
            inf = Informer(self._client, info, resync_period=self._resync, clock=self._clock)
            self._informers[info.plural] = inf
            self._indexers[info.plural] = set()
        return inf

    def add_indexer(self, resource: ResourceInfo | str, name: str, fn: IndexFunc) -> None:
        """Add an index once: a second controller asking for the same name shares it."""
        inf = self.informer(resource)
        if name not in self._indexers[inf.resource.plural]:
            inf.add_indexer(name, fn)
            self._indexers[inf.resource.plural].add(name)

    @property
    def informers(self) -> dict[str, Informer]:
        return dict(self._informers)

    def start(self) -> None:
        self._started = True
        for inf in self._informers.values():
            inf.start()

    async def wait_for_cache_sync(self, timeout: float) -> None:
        """client-go's WaitForCacheSync over every informer; TimeoutError names the laggard."""
        for inf in self._informers.values():
            await inf.wait_for_sync(timeout)

    async def shutdown(self) -> None:
        for inf in self._informers.values():
            await inf.stop()


# -- common indexers ---------------------------------------------------------------------------

UID_INDEX = "uid"
OWNER_UID_INDEX = "owner-uid"


def uid_index(obj: Object) -> list[str]:
    uid = meta.metadata(obj).get("uid")
    return [uid] if uid else []


def owner_uid_index(obj: Object) -> list[str]:
    """Every owner's uid, so the GC finds an owner's dependents without a scan."""
    refs = meta.metadata(obj).get("ownerReferences") or []
    return [r["uid"] for r in refs if isinstance(r, dict) and r.get("uid")]


# -- the controller --------------------------------------------------------------------------

class Controller(ABC):
    """A named, level-triggered controller: handlers enqueue keys, workers reconcile them."""

    name: ClassVar[str] = "controller"

    def __init__(self, client: ControllerClient, factory: SharedInformerFactory, *,
                 workers: int = 1, clock: Clock | None = None,
                 rate_limiter: RateLimiter | None = None) -> None:
        self.client = client
        self.factory = factory
        self.workers = max(1, workers)
        self.clock: Clock = clock if clock is not None else RealClock()
        self.queue: WorkQueue[str] = WorkQueue(self.clock, rate_limiter, name=self.name)
        self.log = logging.getLogger(f"controllers.{self.name}")
        self._workers = Workers(self.queue, lambda key: self.reconcile(key),
                                on_error=self._sync_failed, name=self.name)

    @abstractmethod
    async def reconcile(self, key: str) -> None:
        """Make the world match the object named `key`; idempotent, reads from the caches."""

    # -- enqueueing, for event handlers ---------------------------------------------------

    def enqueue(self, obj: Object) -> None:
        self.queue.add(meta.key_of(obj))

    def enqueue_after(self, obj: Object, delay: float) -> None:
        self.queue.add_after(meta.key_of(obj), delay)

    def decision(self, key: str, decision: str, **fields: object) -> None:
        """One log line per decision: who, which object, what was decided (STYLE rule 10)."""
        extra = "".join(f" {k}={v}" for k, v in fields.items())
        self.log.info("component=%s controller=%s key=%s decision=%s%s",
                      COMPONENT, self.name, key, decision, extra)

    # -- workers --------------------------------------------------------------------------

    async def run(self) -> None:
        """Run the workers until `shut_down()`; items already queued are still handled.

        A controller that records events holds an `EventRecorder` as `self.recorder`;
        its sender runs beside the workers and stops with them (a test's fake recorder,
        not an EventRecorder, needs none).
        """
        self.log.info("component=%s controller=%s starting workers=%d",
                      COMPONENT, self.name, self.workers)
        recorder = getattr(self, "recorder", None)
        sender = asyncio.create_task(recorder.run(), name=f"{self.name}-events") \
            if isinstance(recorder, EventRecorder) else None
        try:
            await self._workers.run(self.workers)
        finally:
            if sender is not None:
                sender.cancel()
                await asyncio.gather(sender, return_exceptions=True)
        self.log.info("component=%s controller=%s stopped", COMPONENT, self.name)

    def shut_down(self) -> None:
        self.queue.shut_down()

    async def process_next(self) -> bool:
        """Pop one key and reconcile it; False once the queue is shut down and drained."""
        return await self._workers.process_next()

    def _sync_failed(self, key: str, exc: Exception) -> None:
        """Requeue a key whose reconcile raised: as it asked, or with rate-limited back-off."""
        if isinstance(exc, Requeue):
            self.log.info("component=%s controller=%s key=%s decision=requeue reason=%r",
                          COMPONENT, self.name, key, str(exc))
            if exc.after is not None:
                self.queue.add_after(key, exc.after)
            else:
                self.queue.add_rate_limited(key)
        elif isinstance(exc, errors.Conflict):
            self.log.info("component=%s controller=%s key=%s decision=requeue conflict=%r",
                          COMPONENT, self.name, key, exc.message)
            self.queue.add_rate_limited(key)
        else:
            self.log.warning("component=%s controller=%s key=%s decision=retry error=%r "
                             "requeues=%d", COMPONENT, self.name, key, exc,
                             self.queue.num_requeues(key),
                             exc_info=not isinstance(exc, errors.APIError))
            self.queue.add_rate_limited(key)
