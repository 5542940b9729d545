"""Workers over a work queue: client-go's processNextWorkItem, written once.

Every loop of Schooner that drains a queue of keys (each controller, the
scheduler, the hollow nodes' pods) runs the same few lines, as
k8s.io/sample-controller's `runWorker` / `processNextWorkItem` do:

1. pop a key (`get()`; a queue shut down and drained ends the worker);
2. call the sync function with it;
3. success: `forget(key)`, so its next failure backs off from the base delay
   again (a loop that forgets elsewhere, as the scheduler does once a binding
   lands, turns this off);
4. an exception: `on_error(key, exc)`, by default a rate-limited requeue
   (`add_rate_limited`); a 409 Conflict is such an exception too, and
   requeued the same way. The caller's handler logs in its component's words
   and may requeue otherwise (after a delay it names, with back-off);
5. always `done(key)`, which hands a key added again meanwhile back to the queue.

`run(count)` runs `count` such workers until the queue is shut down; keys
queued before `shut_down()` are still synced, as in client-go. Nothing here
sleeps: waiting is the queue's (on its injected clock), so a unit test drives
a worker with a `FakeClock` and never sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, Protocol, TypeVar

from apimachinery.workqueue import ShutDown

T = TypeVar("T", bound=Hashable)
K = TypeVar("K", bound=Hashable, contravariant=True)


class KeyQueue(Protocol[T]):
    """What a worker needs of its queue (WorkQueue is one; the scheduler's queue another)."""

    async def get(self) -> T: ...

    def done(self, item: T) -> None: ...

    def forget(self, item: T) -> None: ...

    def add_rate_limited(self, item: T) -> None: ...


class ErrorHandler(Protocol[K]):
    def __call__(self, key: K, exc: Exception, /) -> None: ...


class Workers(Generic[T]):
    """Pop keys from `queue` and `sync` each: forget on success, `on_error` on failure."""

    def __init__(self, queue: KeyQueue[T], sync: Callable[[T], Awaitable[None]], *,
                 on_error: ErrorHandler[T] | None = None,
                 forget_on_success: bool = True, name: str = "worker") -> None:
        self.queue = queue
        self.sync = sync
        self.on_error: ErrorHandler[T] = on_error or self.requeue_rate_limited
        self.forget_on_success = forget_on_success
        self.name = name

    def requeue_rate_limited(self, key: T, exc: Exception) -> None:
        """The default on error: back to the queue after the rate limiter's delay."""
        self.queue.add_rate_limited(key)

    async def process_next(self) -> bool:
        """Pop one key and sync it; False once the queue is shut down and drained."""
        try:
            key = await self.queue.get()
        except ShutDown:
            return False
        try:
            await self.sync(key)
        except Exception as exc:
            self.on_error(key, exc)
        else:
            if self.forget_on_success:
                self.queue.forget(key)
        finally:
            self.queue.done(key)
        return True

    async def worker(self) -> None:
        """One worker: process keys until the queue is shut down and drained."""
        while await self.process_next():
            pass

    async def run(self, count: int = 1) -> None:
        """Run `count` workers (at least one) until every one has stopped."""
        async with asyncio.TaskGroup() as group:
            for i in range(max(1, count)):
                group.create_task(self.worker(), name=f"{self.name}-worker-{i}")
