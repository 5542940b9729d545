"""Workers over the work queue: forget on success, requeue on error, done, shut-down.

Driven on a FakeClock with zero-length yields only: nothing here sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from apimachinery import errors
from apimachinery.clock import FakeClock
from apimachinery.workers import Workers
from apimachinery.workqueue import ItemExponentialFailureRateLimiter, WorkQueue


def run(body: Callable[[], Awaitable[None]]) -> None:
    """Run an async test body, then fail if it left any task behind."""

    async def main() -> None:
        await body()
        leaked = asyncio.all_tasks() - {asyncio.current_task()}
        assert not leaked, f"leaked tasks: {leaked}"

    asyncio.run(main())


async def until(condition: Callable[[], bool], what: str, turns: int = 100) -> None:
    """Let the event loop run (zero-length yields, no waiting) until `condition` holds."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"still not true after {turns} loop turns: {what}")


def make_queue() -> tuple[WorkQueue[str], FakeClock]:
    clock = FakeClock()
    limiter = ItemExponentialFailureRateLimiter(1, 100)
    return WorkQueue(clock=clock, rate_limiter=limiter, name="test"), clock


class Sync:
    """A sync function that fails its first `failures` calls with `error`, and records keys."""

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.failures, self.error = failures, error or RuntimeError("boom")
        self.keys: list[str] = []

    async def __call__(self, key: str) -> None:
        self.keys.append(key)
        if len(self.keys) <= self.failures:
            raise self.error


def test_a_failing_key_is_requeued_with_back_off_and_forgotten_on_success() -> None:
    async def body() -> None:
        queue, clock = make_queue()
        sync = Sync(failures=2)
        workers = Workers(queue, sync)
        queue.add("ns/web")
        assert await workers.process_next()
        assert (sync.keys, queue.num_requeues("ns/web"), len(queue)) == (["ns/web"], 1, 0)
        clock.step(1)  # the first back-off: 1 s
        assert len(queue) == 1
        assert await workers.process_next()
        assert queue.num_requeues("ns/web") == 2
        clock.step(1)
        assert len(queue) == 0  # the second back-off is 2 s
        clock.step(1)
        assert await workers.process_next()
        assert sync.keys == ["ns/web"] * 3
        assert queue.num_requeues("ns/web") == 0
        assert len(queue) == 0

    run(body)


def test_a_conflict_is_requeued_rate_limited_like_any_error() -> None:
    async def body() -> None:
        queue, clock = make_queue()
        workers = Workers(queue, Sync(failures=1, error=errors.Conflict("stale")))
        queue.add("ns/web")
        assert await workers.process_next()
        assert queue.num_requeues("ns/web") == 1
        clock.step(1)
        assert len(queue) == 1

    run(body)


def test_the_error_handler_decides_and_success_may_leave_the_history() -> None:
    async def body() -> None:
        queue, clock = make_queue()
        seen: list[tuple[str, str]] = []

        def on_error(key: str, exc: Exception) -> None:
            seen.append((key, str(exc)))
            queue.add_after(key, 5)

        sync = Sync(failures=1)
        workers = Workers(queue, sync, on_error=on_error, forget_on_success=False)
        queue.add_rate_limited("ns/web")  # one failure recorded before
        clock.step(1)
        assert await workers.process_next()
        assert seen == [("ns/web", "boom")]
        clock.step(4)
        assert len(queue) == 0
        clock.step(1)
        assert await workers.process_next()
        assert queue.num_requeues("ns/web") == 1  # not forgotten

    run(body)


def test_a_key_added_while_it_syncs_comes_back_after_done() -> None:
    async def body() -> None:
        queue, _ = make_queue()
        keys: list[str] = []

        async def sync(key: str) -> None:
            keys.append(key)
            if len(keys) == 1:
                queue.add(key)  # an event during the sync
                assert len(queue) == 0  # not handed to a second worker meanwhile

        workers = Workers(queue, sync)
        queue.add("ns/web")
        assert await workers.process_next()
        assert len(queue) == 1
        assert await workers.process_next()
        assert keys == ["ns/web", "ns/web"]

    run(body)


def test_run_drains_what_was_queued_then_stops_at_shut_down() -> None:
    async def body() -> None:
        queue, _ = make_queue()
        sync = Sync()
        workers = Workers(queue, sync, name="test")
        for key in ("ns/a", "ns/b", "ns/c"):
            queue.add(key)
        task = asyncio.create_task(workers.run(2))
        await until(lambda: len(sync.keys) == 3 and len(queue._getters) == 2,
                    "three keys synced, both workers parked")
        queue.add("ns/d")
        queue.shut_down()
        await task
        assert sorted(sync.keys) == ["ns/a", "ns/b", "ns/c", "ns/d"]
        assert not await workers.process_next()  # shut down and drained

    run(body)
