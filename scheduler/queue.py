"""The scheduling queue: pending pod keys, back-off, and the unschedulable set.

A reduction of kube-scheduler's PriorityQueue (activeQ, backoffQ,
unschedulablePods) onto the shared rate-limited WorkQueue: a pod that fits
nowhere is retried after a per-pod exponential back-off (1s doubling to 10s,
podInitialBackoffSeconds/podMaxBackoffSeconds) and is remembered as
unschedulable, so that a cluster event that may make room (a node added or
changed, a bound pod deleted) moves every such pod back to the active queue
at once (`MoveAllToActiveOrBackoffQueue`), and so that updates which cannot
change the outcome do not retry it early.

Ready pods are taken highest `spec.priority` first, first come first among
equals: kube-scheduler's PrioritySort, the default QueueSort plugin. The
priority comes from the apiserver's Priority admission (PriorityClass) and
never changes on a pod.
"""

from __future__ import annotations

from collections.abc import Callable

from apimachinery.clock import Clock
from apimachinery.workqueue import ItemExponentialFailureRateLimiter, WorkQueue

DEFAULT_POD_INITIAL_BACKOFF = 1.0
DEFAULT_POD_MAX_BACKOFF = 10.0


class SchedulingQueue:
    """Pod keys (`namespace/name`) waiting for a scheduling attempt."""

    def __init__(self, clock: Clock, *, initial_backoff: float = DEFAULT_POD_INITIAL_BACKOFF,
                 max_backoff: float = DEFAULT_POD_MAX_BACKOFF,
                 priority: Callable[[str], int] | None = None) -> None:
        limiter = ItemExponentialFailureRateLimiter(initial_backoff, max_backoff)
        self._queue: WorkQueue[str] = WorkQueue(clock, limiter, name="scheduler",
                                                priority=priority)
        self._unschedulable: set[str] = set()

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def unschedulable(self) -> frozenset[str]:
        return frozenset(self._unschedulable)

    def add(self, key: str) -> None:
        """A new or changed pending pod: try it now."""
        self._unschedulable.discard(key)
        self._queue.add(key)

    def update(self, key: str, *, relevant: bool) -> None:
        """A pending pod changed; an unschedulable one is retried early only if `relevant`."""
        if key in self._unschedulable and not relevant:
            return
        self.add(key)

    def add_unschedulable(self, key: str) -> None:
        """No node fits: retry after back-off, or sooner when the cluster changes."""
        self._unschedulable.add(key)
        self._queue.add_rate_limited(key)

    def add_backoff(self, key: str) -> None:
        """The attempt failed for another reason (API error, plugin error): retry later."""
        self._queue.add_rate_limited(key)

    add_rate_limited = add_backoff  # the name `apimachinery.workers.KeyQueue` knows it by

    def delete(self, key: str) -> None:
        """The pod was bound or deleted; any queued entry is skipped when popped."""
        self._unschedulable.discard(key)

    def move_all_to_active(self) -> int:
        """Retry every unschedulable pod now; returns how many were moved."""
        keys = sorted(self._unschedulable)
        self._unschedulable.clear()
        for key in keys:
            self._queue.add(key)
        return len(keys)

    async def get(self) -> str:
        return await self._queue.get()

    def done(self, key: str) -> None:
        self._queue.done(key)

    def forget(self, key: str) -> None:
        """The pod is placed (or gone): its next failure starts from the initial back-off."""
        self._queue.forget(key)

    def num_requeues(self, key: str) -> int:
        return self._queue.num_requeues(key)

    def shut_down(self) -> None:
        self._queue.shut_down()
