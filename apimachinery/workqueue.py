"""client-go's work queue for asyncio: de-duplicated keys, delays and rate-limited retries.

Controllers enqueue `namespace/name` keys from informer events and workers
pop them, as in k8s.io/client-go/util/workqueue. Three guarantees carry over:

* an item waiting in the queue is queued once however often it is added
  (the *dirty* set);
* an item being processed is never handed to a second worker; adding it again
  marks it dirty and `done()` puts it back (the *processing* set);
* `add_after` and `add_rate_limited` delay an item on the injected clock, and
  several delayed adds of one item keep the earliest deadline.

Design of the delays: client-go runs a `waitingLoop` goroutine. Here there is
no background task at all. Delayed items wait in a heap, and every queue
operation first promotes the ones whose deadline has passed on the clock, so
after `FakeClock.step()` they are visible at once (`len(queue)`). A `get()`
with nothing ready waits for whichever comes first: a wake-up from `add` or
`shut_down`, or `clock.sleep()` until the earliest deadline. That sleep runs in
a task owned by that `get()` call and always finished before it returns or
raises, so no task outlives its caller and nothing is left after `shut_down()`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, Protocol, TypeVar

from apimachinery.clock import Clock, RealClock

log = logging.getLogger(__name__)

T = TypeVar("T", bound=Hashable)


class ShutDown(Exception):
    """`get()` on a queue that is shut down and has nothing left to hand out."""


# -- rate limiters (client-go/util/workqueue/default_rate_limiters.go) -----------------------

class RateLimiter(Protocol):
    """How long to wait before retrying an item, and the memory of its failures."""

    def when(self, item: Hashable) -> float:
        """Record one more failure of `item` and return the delay before its retry."""
        ...

    def forget(self, item: Hashable) -> None:
        """Clear the failure history of `item` (it succeeded, or was given up)."""
        ...

    def num_requeues(self, item: Hashable) -> int:
        ...


class ItemExponentialFailureRateLimiter:
    """Per-item back-off: `base_delay * 2**failures`, capped at `max_delay`."""

    def __init__(self, base_delay: float = 0.005, max_delay: float = 1000.0) -> None:
        self.base_delay, self.max_delay = base_delay, max_delay
        self._failures: dict[Hashable, int] = {}

    def when(self, item: Hashable) -> float:
        exponent = self._failures.get(item, 0)
        self._failures[item] = exponent + 1
        if exponent > 1000:  # 2**exponent would overflow a float
            return self.max_delay
        return min(self.base_delay * 2.0**exponent, self.max_delay)

    def forget(self, item: Hashable) -> None:
        self._failures.pop(item, None)

    def num_requeues(self, item: Hashable) -> int:
        return self._failures.get(item, 0)


class BucketRateLimiter:
    """An overall token bucket (golang.org/x/time/rate): `qps` refill, `burst` capacity.

    `when` reserves a token and returns how long until it is really available,
    so a storm of failures is spread out at `qps` whatever the items.
    """

    def __init__(self, qps: float = 10.0, burst: int = 100, clock: Clock = RealClock()) -> None:
        self.qps, self.burst = qps, burst
        self._clock = clock
        self._tokens = float(burst)
        self._last = self._clock.monotonic()

    def when(self, item: Hashable) -> float:
        now = self._clock.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
        self._last = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.qps

    def forget(self, item: Hashable) -> None:
        """Tokens are shared by all items; there is nothing per item to forget."""

    def num_requeues(self, item: Hashable) -> int:
        return 0


class MaxOfRateLimiter:
    """The longest delay any of its limiters asks for (client-go's MaxOfRateLimiter)."""

    def __init__(self, *limiters: RateLimiter) -> None:
        self.limiters = limiters

    def when(self, item: Hashable) -> float:
        return max((limiter.when(item) for limiter in self.limiters), default=0.0)

    def forget(self, item: Hashable) -> None:
        for limiter in self.limiters:
            limiter.forget(item)

    def num_requeues(self, item: Hashable) -> int:
        return max((limiter.num_requeues(item) for limiter in self.limiters), default=0)


def default_controller_rate_limiter(clock: Clock = RealClock()) -> MaxOfRateLimiter:
    """client-go's DefaultControllerRateLimiter: 5ms..1000s per item, 10 qps / 100 burst overall."""
    return MaxOfRateLimiter(ItemExponentialFailureRateLimiter(0.005, 1000.0),
                            BucketRateLimiter(10.0, 100, clock))


# -- the queue -------------------------------------------------------------------------------

class PriorityOrder(Generic[T]):
    """The ready items highest `priority(item)` first, first come first among equals.

    kube-scheduler's activeQ orders pods so (the PrioritySort plugin); a
    WorkQueue given `priority=` hands items out in this order instead of FIFO.
    An item's priority is read once, when it becomes ready.
    """

    def __init__(self, priority: Callable[[T], int]) -> None:
        self._priority = priority
        self._heap: list[tuple[int, int, T]] = []
        self._seq = itertools.count()

    def append(self, item: T) -> None:
        heapq.heappush(self._heap, (-self._priority(item), next(self._seq), item))

    def popleft(self) -> T:
        return heapq.heappop(self._heap)[2]

    def __len__(self) -> int:
        return len(self._heap)


class WorkQueue(Generic[T]):
    """A rate-limiting, delaying, de-duplicating FIFO of keys for controller workers.

    The usual worker loop is client-go's `processNextWorkItem`::

        key = await queue.get()
        try:
            await reconcile(key)
        except Exception:
            queue.add_rate_limited(key)
        else:
            queue.forget(key)
        finally:
            queue.done(key)

    With no `rate_limiter`, `default_controller_rate_limiter(clock)` is used, as
    controllers built with NewRateLimitingQueue(DefaultControllerRateLimiter()) do.
    """

    def __init__(self, clock: Clock = RealClock(), rate_limiter: RateLimiter | None = None,
                 name: str = "", priority: Callable[[T], int] | None = None) -> None:
        self.name = name
        self._clock = clock
        self._rate_limiter = rate_limiter or default_controller_rate_limiter(self._clock)
        self._queue: deque[T] | PriorityOrder[T] = (
            deque() if priority is None else PriorityOrder(priority))
        self._dirty: set[T] = set()
        self._processing: set[T] = set()
        # Delayed items: heap of (deadline, seq, item); `_deadlines` holds each item's
        # live entry, so a superseded heap entry is skipped when it surfaces.
        self._heap: list[tuple[float, int, T]] = []
        self._deadlines: dict[T, tuple[float, int]] = {}
        self._seq = itertools.count()
        self._getters: list[asyncio.Future[None]] = []
        self._shutting_down = False

    # -- adding --------------------------------------------------------------------------

    def add(self, item: T) -> None:
        """Queue `item` unless it is already waiting; if it is being processed, requeue on done."""
        self._promote_due()
        self._add(item)

    def add_after(self, item: T, delay: float) -> None:
        """Add `item` once `delay` seconds have passed on the clock; an earlier deadline wins."""
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(item)
            return
        deadline = self._clock.monotonic() + delay
        current = self._deadlines.get(item)
        if current is None or deadline < current[0]:
            seq = next(self._seq)
            self._deadlines[item] = (deadline, seq)
            heapq.heappush(self._heap, (deadline, seq, item))
            self._wake_getters()  # a getter may need to wait for a nearer deadline now
        self._promote_due()

    def add_rate_limited(self, item: T) -> None:
        """Add `item` after the rate limiter's delay for it (one more failure recorded)."""
        self.add_after(item, self._rate_limiter.when(item))

    def forget(self, item: T) -> None:
        """Stop tracking `item`'s failures, so its next back-off starts from the base delay."""
        self._rate_limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return self._rate_limiter.num_requeues(item)

    # -- taking --------------------------------------------------------------------------

    async def get(self) -> T:
        """Wait for an item and mark it processing; raise ShutDown once shut down and empty.

        Items queued before `shut_down()` are still handed out, as in client-go.
        """
        while True:
            self._promote_due()
            if self._queue:
                item = self._queue.popleft()
                self._processing.add(item)
                self._dirty.discard(item)
                return item
            if self._shutting_down:
                raise ShutDown(self.name)
            await self._wait_for_change()

    def done(self, item: T) -> None:
        """Mark `item` finished; if it was added meanwhile, queue it again."""
        self._promote_due()
        self._processing.discard(item)
        if item in self._dirty:
            self._queue.append(item)
            self._wake_getters()

    # -- state ---------------------------------------------------------------------------

    def __len__(self) -> int:
        """Items ready to be handed out (not those processing or still delayed)."""
        self._promote_due()
        return len(self._queue)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def shut_down(self) -> None:
        """Refuse new items, drop delayed ones, and wake every `get()` to drain or stop."""
        if self._shutting_down:
            return
        self._shutting_down = True
        self._heap.clear()
        self._deadlines.clear()
        self._wake_getters()
        log.debug("workqueue shut down queue=%s pending=%d", self.name, len(self._queue))

    def __repr__(self) -> str:
        return (f"WorkQueue(name={self.name!r}, ready={len(self._queue)}, "
                f"processing={len(self._processing)}, delayed={len(self._deadlines)})")

    # -- internals -----------------------------------------------------------------------

    def _add(self, item: T) -> None:
        if self._shutting_down or item in self._dirty:
            return
        self._dirty.add(item)
        if item in self._processing:
            return
        self._queue.append(item)
        self._wake_getters()

    def _promote_due(self) -> None:
        """Move delayed items whose deadline has passed into the queue, earliest first."""
        now = self._clock.monotonic()
        while self._heap and self._heap[0][0] <= now:
            deadline, seq, item = heapq.heappop(self._heap)
            if self._deadlines.get(item) == (deadline, seq):
                del self._deadlines[item]
                self._add(item)

    def _next_deadline(self) -> float | None:
        while self._heap:
            deadline, seq, item = self._heap[0]
            if self._deadlines.get(item) == (deadline, seq):
                return deadline
            heapq.heappop(self._heap)  # superseded by an earlier add_after
        return None

    def _wake_getters(self) -> None:
        """Wake every waiting `get()`; each re-checks, so a cancelled one loses nothing."""
        for waiter in self._getters:
            if not waiter.done():
                waiter.set_result(None)
        self._getters.clear()

    async def _wait_for_change(self) -> None:
        """Return on a wake-up, or when the earliest delayed item falls due on the clock."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._getters.append(waiter)
        deadline = self._next_deadline()
        if deadline is None:
            try:
                await waiter
            finally:
                self._drop_getter(waiter)
            return
        timer = asyncio.ensure_future(self._clock.sleep(deadline - self._clock.monotonic()))
        try:
            await asyncio.wait((waiter, timer), return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._drop_getter(waiter)
            if not timer.done():
                timer.cancel()
                # Wait for the timer to finish without raising its CancelledError; a
                # cancellation of this getter itself still propagates from here.
                await asyncio.wait((timer,))

    def _drop_getter(self, waiter: asyncio.Future[None]) -> None:
        waiter.cancel()
        if waiter in self._getters:
            self._getters.remove(waiter)
