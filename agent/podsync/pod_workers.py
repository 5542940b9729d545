"""One asyncio task per pod, so one slow pod never holds up another (kubelet's podWorkers).

`update(uid)` marks the pod dirty and starts its worker if it has none. A
worker runs the sync function, then sleeps until it is marked dirty again or
until the `requeue_after` the sync asked for has passed on the injected clock
(a back-off that ends, an image pull to retry). Updates that arrive during a
sync coalesce into one more sync, as podWorkers' "pending update" does. A
worker ends when its sync reports the pod finished (gone from the API and
cleaned up) and nothing new has arrived meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from apimachinery.clock import Clock

log = logging.getLogger(__name__)
ERROR_RETRY_SECONDS = 2.0


@dataclass(frozen=True)
class SyncResult:
    """What a pod sync reports back to its worker."""

    finished: bool = False  # the pod is gone and cleaned up: the worker may end
    requeue_after: float | None = None  # sync again after this long, even if nothing happens


@dataclass
class _Worker:
    dirty: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    requeue_after: float | None = None


SyncFn = Callable[[str], Awaitable[SyncResult]]


class PodWorkers:
    def __init__(self, sync: SyncFn, clock: Clock) -> None:
        self._sync = sync
        self._clock = clock
        self._workers: dict[str, _Worker] = {}
        self._closed = False

    def __contains__(self, uid: object) -> bool:
        return uid in self._workers

    def __len__(self) -> int:
        return len(self._workers)

    def update(self, uid: str) -> None:
        """Ask for a sync of pod `uid` soon (coalesced with any pending one)."""
        if self._closed or not uid:
            return
        worker = self._workers.get(uid)
        if worker is None:
            worker = self._workers[uid] = _Worker()
            worker.task = asyncio.create_task(self._run(uid, worker), name=f"pod-worker {uid}")
        worker.dirty.set()

    async def stop(self) -> None:
        """Cancel every worker and wait for them (containers are left as they are)."""
        self._closed = True
        tasks = [w.task for w in self._workers.values() if w.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        self._workers.clear()

    async def _run(self, uid: str, worker: _Worker) -> None:
        try:
            while True:
                if not worker.dirty.is_set():
                    await self._wait(worker)
                worker.dirty.clear()
                result = await self._sync_once(uid)
                if result.finished and not worker.dirty.is_set():
                    return  # nothing arrived during the sync: this pod is done
                worker.requeue_after = result.requeue_after
        finally:
            if self._workers.get(uid) is worker:
                del self._workers[uid]

    async def _sync_once(self, uid: str) -> SyncResult:
        try:
            return await self._sync(uid)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("component=agent pod sync failed uid=%s; retrying in %.0fs", uid,
                          ERROR_RETRY_SECONDS)
            return SyncResult(requeue_after=ERROR_RETRY_SECONDS)

    async def _wait(self, worker: _Worker) -> None:
        """Until marked dirty, or until `requeue_after` has passed on the clock."""
        if worker.requeue_after is None:
            await worker.dirty.wait()
            return
        dirty = asyncio.ensure_future(worker.dirty.wait())
        timer = asyncio.ensure_future(self._clock.sleep(worker.requeue_after))
        try:
            await asyncio.wait((dirty, timer), return_when=asyncio.FIRST_COMPLETED)
        finally:
            pending = [task for task in (dirty, timer) if not task.done()]
            for task in pending:
                task.cancel()
            if pending:  # wait without raising their CancelledError; ours still propagates
                await asyncio.wait(pending)
        worker.requeue_after = None
