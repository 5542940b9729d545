"""An injectable clock, so back-off, grace periods and leases are testable without sleeping.

Mirrors k8s.io/utils/clock: components take a `clock.Clock` "for testability"
(the kubelet, the node lifecycle controller and client-go's workqueue all do),
production passes `RealClock()`, and unit tests pass a `FakeClock` they move
forward by hand with `step()`.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Monotonic time for intervals, wall time for timestamps, and an awaitable sleep."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back; only differences are meaningful."""
        ...

    def now(self) -> datetime:
        """The current wall time, timezone-aware, in UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return once `seconds` have passed on this clock."""
        ...


class RealClock:
    """The system clock: `time.monotonic`, `datetime.now(UTC)` and `asyncio.sleep`."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))


_DEFAULT_WALL = datetime(2024, 1, 1, tzinfo=UTC)


class FakeClock:
    """A clock that moves only when a test calls `step()` (k8s.io/utils/clock/testing).

    `sleep(d)` parks the caller on a future registered with its deadline;
    `step(d)` advances monotonic and wall time together and resolves every
    future whose deadline has been reached, in deadline order. The sleepers
    then run when the test next yields to the event loop. `sleepers` counts
    the callers parked right now, so a test can wait until a worker is idle
    before stepping (client-go's fake clock offers `HasWaiters` for this).
    """

    def __init__(self, start: float = 0.0, wall: datetime | None = None) -> None:
        wall = wall or _DEFAULT_WALL
        if wall.tzinfo is None:
            raise ValueError("FakeClock wall time must be timezone-aware")
        self._start = start
        self._monotonic = start
        self._wall = wall.astimezone(UTC)
        self._waiting: list[tuple[float, asyncio.Future[None]]] = []

    def monotonic(self) -> float:
        return self._monotonic

    def now(self) -> datetime:
        return self._wall + timedelta(seconds=self._monotonic - self._start)

    async def sleep(self, seconds: float) -> None:
        """Park until `step()` has moved the clock `seconds` forward (0 or less: no wait)."""
        if seconds <= 0:
            await asyncio.sleep(0)  # still a point where the task may be cancelled
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self._monotonic + seconds, future)
        self._waiting.append(entry)
        try:
            await future
        finally:
            if entry in self._waiting:  # cancelled before its deadline
                self._waiting.remove(entry)

    def step(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline has passed."""
        if seconds < 0:
            raise ValueError("a clock cannot step backwards")
        self._monotonic += seconds
        due = sorted((e for e in self._waiting if e[0] <= self._monotonic),
                     key=lambda e: e[0])
        for entry in due:
            self._waiting.remove(entry)
            if not entry[1].done():
                entry[1].set_result(None)

    @property
    def sleepers(self) -> int:
        """How many `sleep` calls are parked on this clock right now."""
        return sum(1 for _, future in self._waiting if not future.done())
