"""A bounded, prioritised gate for the Docker calls that the engine runs one after another.

Docker creates and starts containers (network endpoint, mounts, the shim) and
removes them largely one at a time: on the project's machines a pod sandbox
costs about 0.3 s of the engine's time however many calls are in flight. With
every call on one thread pool, a restart storm (100 crash-looping pods
restarting at once) filled all the pool's threads with creates, each waiting
seconds inside Docker, and everything else queued behind them: the reads
every pod sync makes, the PLEG's relist, and the start of a new pod, which
took 30 s. So these calls pass this gate first: at most `slots` at a time
(Docker's throughput is the same with a few in flight as with many), and the
waiters go in order of priority, FIFO within one, so a pod's first start and a
deleted pod's removal overtake the restarts of containers that are backing
off anyway. It plays the part of the kubelet's bound on parallel image pulls
(`maxParallelImagePulls`) for the engine calls that need one here.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import AsyncIterator
from enum import IntEnum


class Priority(IntEnum):
    """Lower goes first."""

    FIRST_START = 0  # a sandbox or container that has never run: someone is waiting for it
    REMOVAL = 1  # a deleted pod's containers, an old instance
    RESTART = 2  # a crashed container: it has waited its back-off, a little more is harmless


class PriorityGate:
    """At most `slots` holders at once; waiters are let in by (priority, arrival)."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("a gate needs at least one slot")
        self._free = slots
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @property
    def waiting(self) -> int:
        return sum(1 for _, _, f in self._waiters if not f.done())

    @contextlib.asynccontextmanager
    async def slot(self, priority: Priority) -> AsyncIterator[None]:
        await self._acquire(priority)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, priority: Priority) -> None:
        if self._free > 0 and not self.waiting:
            self._free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (int(priority), next(self._order), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._release()  # handed a slot just as we were cancelled: pass it on
            raise

    def _release(self) -> None:
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)  # the slot goes straight to the next waiter
                return
        self._free += 1
