"""The scheduler loop: informers, the scheduling queue, workers that decide and bind.

Mirrors kube-scheduler's `scheduleOne`: informers on nodes and pods fill the
cache; event handlers only queue pod keys (pending pods of this scheduler) or
move unschedulable pods back to the active queue when the cluster changes;
a worker pops a key, reads the pod from the cache, runs the pure cycle
(`scheduler.cycle.schedule`) over NodeInfos that include assumed pods, then
acts at the edge: assume and bind, or record PodScheduled=False and retry
with back-off. As kube-scheduler's binding cycle, the Binding POST runs in a task
of its own (at most `bind_concurrency` at once): the next pod is scheduled while
the apiserver answers, against a cache that already counts the assumed pod.
A 409 on bind means the pod is already bound (by an earlier run of this
scheduler, before a crash): nothing to do. With `--leader-elect`,
scheduler/main.py calls `run()` only while this process holds the scheduler's
Lease; `run()` and `stop()` are that seam.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any, Protocol, cast

from apimachinery import errors, meta
from apimachinery.clock import Clock, RealClock
from apimachinery.events import EventRecorder
from apimachinery.informer import Informer, ListerWatcher
from apimachinery.meta import Object
from apimachinery.typeddicts import Node, Pod
from apimachinery.workers import Workers
from scheduler.cache import DEFAULT_ASSUME_TTL, NODE_NAME_INDEX, SchedulerCache, node_name_index
from scheduler.cycle import ScheduleResult, schedule
from scheduler.equivalence import EquivalenceCache
from scheduler.event_filters import (
    DEFAULT_SCHEDULER_NAME,
    holds_resources,
    is_bound,
    needs_scheduling,
    node_scheduling_properties_changed,
    pod_spec_changed,
)
from scheduler.framework import Profile
from scheduler.plugins import default_profile
from scheduler.queue import DEFAULT_POD_INITIAL_BACKOFF, DEFAULT_POD_MAX_BACKOFF, SchedulingQueue
from scheduler.status import SCHEDULER_ERROR, UNSCHEDULABLE, unschedulable_patch

__all__ = ["ScheduleResult", "Scheduler", "SchedulerClient", "schedule"]

log = logging.getLogger("scheduler")

SYNC_WAIT_STEP = 5.0
DEFAULT_BIND_CONCURRENCY = 16


class SchedulerClient(ListerWatcher, Protocol):
    """What the scheduler needs from the API: list/watch, bind, patch (AsyncClient fits)."""

    async def bind(self, name: str, node_name: str, namespace: str) -> None: ...

    async def patch(self, resource: Any, name: str, patch: Any,
                    namespace: str | None = None, *, patch_type: str = "merge",
                    subresource: str | None = None,
                    field_manager: str | None = None) -> Object: ...


class Scheduler:
    """Places pending pods on nodes, one pod per worker at a time."""

    def __init__(self, client: SchedulerClient, *,
                 scheduler_name: str = DEFAULT_SCHEDULER_NAME,
                 profile: Profile | None = None, clock: Clock | None = None,
                 workers: int = 1, assume_ttl: float = DEFAULT_ASSUME_TTL,
                 initial_backoff: float = DEFAULT_POD_INITIAL_BACKOFF,
                 max_backoff: float = DEFAULT_POD_MAX_BACKOFF,
                 rng: random.Random | None = None,
                 recorder: EventRecorder | None = None,
                 bind_concurrency: int = DEFAULT_BIND_CONCURRENCY) -> None:
        self.client = client
        self.recorder = recorder  # Scheduled / FailedScheduling events, when given
        self.name = scheduler_name
        self.profile = profile or default_profile()
        self.clock: Clock = clock or RealClock()
        self.workers = workers
        self.rng = rng or random.Random()
        self.nodes = Informer(client, "nodes", clock=self.clock)
        self.pods = Informer(client, "pods", clock=self.clock)
        self.pods.add_indexer(NODE_NAME_INDEX, node_name_index)
        self.cache = SchedulerCache(self.nodes.store, self.pods.store, self.clock, assume_ttl)
        self.queue = SchedulingQueue(self.clock, initial_backoff=initial_backoff,
                                     max_backoff=max_backoff, priority=self._pod_priority)
        self.classes = EquivalenceCache()
        self._next_start = 0  # nextStartNodeIndex: where the next filter search begins
        self._binds = asyncio.Semaphore(bind_concurrency)
        self._binding: set[asyncio.Task[None]] = set()
        self.nodes.add_event_handler(self._on_node_add, self._on_node_update)
        self.pods.add_event_handler(self._on_pod_add, self._on_pod_update, self._on_pod_delete)
        self._stopped = asyncio.Event()
        # schedule_one forgets a pod's back-off itself, once its binding lands.
        self._workers = Workers(self.queue, lambda key: self.schedule_one(key),
                                on_error=self._schedule_failed, forget_on_success=False,
                                name="scheduler")

    # -- lifecycle: the seam leader election drives --------------------------------------

    async def run(self) -> None:
        """Run until `stop()` (or cancellation); informers and workers are always stopped."""
        workers: list[asyncio.Task[None]] = []
        if self.recorder is not None:
            workers.append(asyncio.create_task(self.recorder.run(), name="scheduler-events"))
        self.nodes.start()
        self.pods.start()
        try:
            if await self._wait_for_sync():
                log.info("component=scheduler scheduler=%s workers=%d nodes=%d pods=%d "
                         "msg=\"caches synced, scheduling\"", self.name, self.workers,
                         len(self.nodes.store), len(self.pods.store))
                workers += [asyncio.create_task(self._workers.worker(),
                                                name=f"scheduler-worker-{i}")
                            for i in range(self.workers)]
                await self._stopped.wait()
        finally:
            self.queue.shut_down()
            for task in [*workers, *self._binding]:
                task.cancel()
            await asyncio.gather(*workers, *self._binding, return_exceptions=True)
            await self.pods.stop()
            await self.nodes.stop()
            log.info("component=scheduler scheduler=%s msg=\"stopped\"", self.name)

    def stop(self) -> None:
        """Ask `run()` to return (from a signal handler, or when leadership is lost)."""
        self._stopped.set()

    async def _wait_for_sync(self) -> bool:
        """WaitForCacheSync on both informers; False if stopped first."""
        while not self._stopped.is_set():
            try:
                await self.nodes.wait_for_sync(SYNC_WAIT_STEP)
                await self.pods.wait_for_sync(SYNC_WAIT_STEP)
                return True
            except TimeoutError as exc:
                log.warning("component=scheduler msg=\"waiting for caches\" error=%r", str(exc))
        return False

    def _pod_priority(self, key: str) -> int:
        """PrioritySort's key: the pod's spec.priority (0 when unset or gone)."""
        pod = cast("Pod | None", self.pods.store.get(key))
        priority = meta.pod_spec(pod).get("priority") if pod is not None else None
        return priority if isinstance(priority, int) else 0

    # -- event handlers: only queue keys -------------------------------------------------

    # The informers' dicts, typed: the handlers are called with what the stores hold.

    def _on_pod_add(self, pod: Pod) -> None:
        if needs_scheduling(pod, self.name):
            self.queue.add(meta.key_of(pod))

    def _on_pod_update(self, old: Pod, new: Pod) -> None:
        key = meta.key_of(new)
        if needs_scheduling(new, self.name):
            self.queue.update(key, relevant=pod_spec_changed(old, new))
            return
        self.queue.delete(key)
        if holds_resources(old) and not holds_resources(new):  # finished: room freed
            self._move_all("AssignedPodUpdate")

    def _on_pod_delete(self, pod: Pod) -> None:
        key = meta.key_of(pod)
        held_room = is_bound(pod) or self.cache.assumed_node(key) is not None
        self.queue.delete(key)
        self.cache.forget(key)
        if held_room:
            self._move_all("AssignedPodDelete")

    def _on_node_add(self, node: Node) -> None:
        self._move_all("NodeAdd")

    def _on_node_update(self, old: Node, new: Node) -> None:
        if node_scheduling_properties_changed(old, new):
            self._move_all("NodeUpdate")

    def _move_all(self, event: str) -> None:
        moved = self.queue.move_all_to_active()
        if moved:
            log.debug("component=scheduler event=%s moved=%d", event, moved)

    # -- workers -------------------------------------------------------------------------

    async def process_next(self) -> bool:
        """Pop one key and schedule it; False once the queue is shut down."""
        return await self._workers.process_next()

    def _schedule_failed(self, key: str, exc: Exception) -> None:
        log.error("component=scheduler pod=%s decision=error", key, exc_info=exc)
        self.queue.add_backoff(key)

    async def schedule_one(self, key: str) -> None:
        """One attempt for one pod: decide from the cache, then bind or record why not."""
        pod = cast("Pod | None", self.pods.store.get(key))
        if pod is None or not needs_scheduling(pod, self.name) or self.cache.is_assumed(pod):
            self.queue.forget(key)
            return
        infos = self.cache.node_infos()
        result = schedule(pod, infos, self.profile, rng=self.rng, start=self._next_start,
                          memo=self.classes.for_pod(pod, len(infos)))
        self._next_start = (self._next_start + result.processed) % max(len(infos), 1)
        if result.node is None:
            await self._not_scheduled(pod, result)
            return
        self.cache.assume(pod, str(result.node))  # at once: the next cycle must count it
        await self._binds.acquire()
        task = asyncio.create_task(self._bind(pod, result), name=f"bind-{meta.key_of(pod)}")
        self._binding.add(task)
        task.add_done_callback(self._bound)

    def _bound(self, task: asyncio.Task[None]) -> None:
        """A binding task ended: free its slot, and log what it could not handle."""
        self._binding.discard(task)
        self._binds.release()
        if not task.cancelled() and task.exception() is not None:
            log.error("component=scheduler msg=\"binding failed\" error=%r", task.exception())

    async def _bind(self, pod: Pod, result: ScheduleResult) -> None:
        """POST the Binding of an assumed pod; forget the assumption if it did not happen.

        Any other failure sends the pod back to the queue with back-off, as
        kube-scheduler's binding cycle does (handleBindingCycleError).
        """
        key, node = meta.key_of(pod), str(result.node)
        try:
            await self.client.bind(meta.name_of(pod), node, meta.namespace_of(pod))
        except (errors.Conflict, errors.NotFound) as exc:
            self.cache.forget(key)
            self.queue.forget(key)
            decision = "already-bound" if isinstance(exc, errors.Conflict) else "gone"
            log.info("component=scheduler pod=%s node=%s decision=%s reason=%r",
                     key, node, decision, exc.message)
            return
        except asyncio.CancelledError:
            self.cache.forget(key)
            raise
        except Exception as exc:
            self.cache.forget(key)
            self.queue.add_backoff(key)
            log.warning("component=scheduler pod=%s node=%s decision=bind-error error=%r",
                        key, node, str(exc))
            return
        self.cache.finish_binding(key)
        self.queue.forget(key)
        score = result.scores.get(node, 0)
        if self.recorder is not None:
            self.recorder.record({**pod, "kind": "Pod", "apiVersion": "v1"}, "Scheduled",
                                 f"Successfully assigned {key} to {node}")
        log.info("component=scheduler pod=%s node=%s decision=bound feasible=%d score=%d",
                 key, node, result.feasible, score)

    async def _not_scheduled(self, pod: Pod, result: ScheduleResult) -> None:
        """Queue the retry first (so events during the patch still move it), then record."""
        key = meta.key_of(pod)
        if result.error:
            self.queue.add_backoff(key)
            reason, decision = SCHEDULER_ERROR, "error"
        else:
            self.queue.add_unschedulable(key)
            reason, decision = UNSCHEDULABLE, "unschedulable"
        log.info("component=scheduler pod=%s node=- decision=%s attempts=%d message=%r",
                 key, decision, self.queue.num_requeues(key), result.message)
        patch = unschedulable_patch(pod, reason, result.message, self.clock.now())
        if patch is None:
            return
        if self.recorder is not None:
            self.recorder.record({**pod, "kind": "Pod", "apiVersion": "v1"},
                                 "FailedScheduling", result.message, warning=True)
        try:
            await self.client.patch("pods", meta.name_of(pod), patch, meta.namespace_of(pod),
                                    patch_type="strategic", subresource="status")
        except errors.NotFound:
            self.queue.delete(key)
        except errors.APIError as exc:
            log.warning("component=scheduler pod=%s msg=\"cannot record condition\" "
                        "error=%r", key, exc.message)
