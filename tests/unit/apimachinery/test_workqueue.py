"""The work queue: client-go's de-duplication, processing set, delays and back-off."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from apimachinery.clock import FakeClock
from apimachinery.workqueue import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    ShutDown,
    WorkQueue,
    default_controller_rate_limiter,
)


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


async def settle(turns: int = 20) -> None:
    """Give every ready task a chance to run (zero-length yields, no waiting)."""
    for _ in range(turns):
        await asyncio.sleep(0)


def make_queue(limiter: ItemExponentialFailureRateLimiter | None = None,
               ) -> tuple[WorkQueue[str], FakeClock]:
    clock = FakeClock()
    return WorkQueue(clock=clock, rate_limiter=limiter, name="test"), clock


# -- de-duplication and order ----------------------------------------------------------------

def test_items_come_out_in_fifo_order() -> None:
    async def body() -> None:
        queue, _ = make_queue()
        for key in ("ns/c", "ns/a", "ns/b"):
            queue.add(key)
        assert [await queue.get() for _ in range(3)] == ["ns/c", "ns/a", "ns/b"]

    run(body)


def test_an_item_waiting_is_queued_once() -> None:
    async def body() -> None:
        queue, _ = make_queue()
        for key in ("a", "b", "a", "a", "b"):
            queue.add(key)
        assert len(queue) == 2
        assert await queue.get() == "a"
        assert await queue.get() == "b"
        assert len(queue) == 0

    run(body)


def test_an_item_added_while_processing_is_requeued_only_after_done() -> None:
    async def body() -> None:
        queue, _ = make_queue()
        queue.add("a")
        assert await queue.get() == "a"
        queue.add("a")
        queue.add("a")
        assert len(queue) == 0  # not handed to a second worker while the first holds it
        queue.done("a")
        assert len(queue) == 1
        assert await queue.get() == "a"
        queue.done("a")
        assert len(queue) == 0  # done without a new add does not requeue

    run(body)


def test_a_second_worker_does_not_get_an_item_being_processed() -> None:
    async def body() -> None:
        queue, _ = make_queue()
        queue.add("a")
        first = await queue.get()
        second = asyncio.create_task(queue.get())
        queue.add("a")
        await until(lambda: len(queue._getters) == 1, "second worker parked")
        assert not second.done()
        queue.done(first)
        assert await second == "a"

    run(body)


def test_a_parked_getter_is_woken_by_add() -> None:
    async def body() -> None:
        queue, _ = make_queue()
        getter = asyncio.create_task(queue.get())
        await until(lambda: len(queue._getters) == 1, "getter parked")
        queue.add("x")
        assert await getter == "x"

    run(body)


# -- delayed adds ----------------------------------------------------------------------------

def test_add_after_is_ready_only_once_the_clock_passes_the_delay() -> None:
    async def body() -> None:
        queue, clock = make_queue()
        queue.add_after("x", 5)
        assert len(queue) == 0
        clock.step(4.9)
        assert len(queue) == 0
        clock.step(0.1)
        assert len(queue) == 1
        assert await queue.get() == "x"

    run(body)


def test_a_getter_parked_on_a_delay_wakes_when_the_clock_steps() -> None:
    async def body() -> None:
        queue, clock = make_queue()
        getter = asyncio.create_task(queue.get())
        await until(lambda: len(queue._getters) == 1, "getter parked with nothing to do")
        queue.add_after("x", 5)  # the getter now also waits on the clock
        await until(lambda: clock.sleepers == 1, "getter sleeping until the deadline")
        clock.step(3)
        await settle()
        assert not getter.done()
        clock.step(2)
        assert await getter == "x"
        assert clock.sleepers == 0

    run(body)


def test_a_nearer_deadline_wakes_a_getter_waiting_for_a_later_one() -> None:
    async def body() -> None:
        queue, clock = make_queue()
        queue.add_after("late", 60)
        getter = asyncio.create_task(queue.get())
        await until(lambda: clock.sleepers == 1, "getter sleeping until 60s")
        queue.add_after("soon", 1)
        # The getter drops its 60s timer and sleeps again until the 1s deadline.
        await until(lambda: [d for d, _ in clock._waiting] == [1.0], "getter re-armed at 1s")
        clock.step(1)
        assert await getter == "soon"

    run(body)


def test_several_add_after_keep_the_earliest_deadline() -> None:
    async def body() -> None:
        queue, clock = make_queue()
        queue.add_after("x", 10)
        queue.add_after("x", 2)
        queue.add_after("x", 7)  # later than the pending deadline: ignored
        clock.step(2)
        assert len(queue) == 1
        assert await queue.get() == "x"
        queue.done("x")
        clock.step(10)  # the superseded 10s and 7s entries do not fire again
        assert len(queue) == 0

    run(body)


def test_add_after_with_no_delay_adds_at_once_and_de_duplicates() -> None:
    async def body() -> None:
        queue, _ = make_queue()
        queue.add("x")
        queue.add_after("x", 0)
        queue.add_after("x", -1)
        assert len(queue) == 1

    run(body)


def test_due_items_come_out_in_deadline_order() -> None:
    async def body() -> None:
        queue, clock = make_queue()
        queue.add_after("c", 3)
        queue.add_after("a", 1)
        queue.add_after("b", 2)
        clock.step(5)
        assert [await queue.get() for _ in range(3)] == ["a", "b", "c"]

    run(body)


# -- rate limiting ---------------------------------------------------------------------------

def test_exponential_back_off_doubles_up_to_the_cap_and_forget_resets() -> None:
    limiter = ItemExponentialFailureRateLimiter(base_delay=0.005, max_delay=0.1)
    assert [limiter.when("a") for _ in range(6)] == [0.005, 0.01, 0.02, 0.04, 0.08, 0.1]
    assert limiter.when("b") == 0.005  # per item
    assert limiter.num_requeues("a") == 6
    limiter.forget("a")
    assert limiter.num_requeues("a") == 0
    assert limiter.when("a") == 0.005


def test_exponential_back_off_does_not_overflow() -> None:
    limiter = ItemExponentialFailureRateLimiter(base_delay=1.0, max_delay=1000.0)
    delays = [limiter.when("a") for _ in range(2000)]
    assert delays[-1] == 1000.0


def test_token_bucket_allows_a_burst_then_spaces_at_qps() -> None:
    clock = FakeClock()
    bucket = BucketRateLimiter(qps=10, burst=3, clock=clock)
    assert [bucket.when(i) for i in range(3)] == [0, 0, 0]
    assert bucket.when(3) == pytest.approx(0.1)
    assert bucket.when(4) == pytest.approx(0.2)
    clock.step(10)  # refills, but never beyond the burst
    assert [bucket.when(i) for i in range(3)] == [0, 0, 0]
    assert bucket.when(9) == pytest.approx(0.1)
    assert bucket.num_requeues(9) == 0


def test_max_of_takes_the_longest_delay_and_forgets_everywhere() -> None:
    fast = ItemExponentialFailureRateLimiter(0.001, 10)
    slow = ItemExponentialFailureRateLimiter(1, 10)
    limiter = MaxOfRateLimiter(fast, slow)
    assert [limiter.when("a") for _ in range(3)] == [1, 2, 4]
    assert limiter.num_requeues("a") == 3
    limiter.forget("a")
    assert fast.num_requeues("a") == slow.num_requeues("a") == 0


def test_default_controller_rate_limiter_is_exponential_then_token_bucket() -> None:
    clock = FakeClock()
    limiter = default_controller_rate_limiter(clock)
    assert [limiter.when("a") for _ in range(3)] == [0.005, 0.01, 0.02]
    for i in range(97):  # the burst of 100 is now spent
        limiter.when(f"item-{i}")
    assert limiter.when("fresh") == pytest.approx(0.1)  # the bucket outweighs 5ms


def test_add_rate_limited_backs_off_and_forget_starts_over() -> None:
    async def body() -> None:
        queue, clock = make_queue(ItemExponentialFailureRateLimiter(1, 100))
        queue.add_rate_limited("x")
        assert queue.num_requeues("x") == 1
        clock.step(1)
        assert await queue.get() == "x"
        queue.add_rate_limited("x")
        queue.done("x")
        clock.step(1.5)
        assert len(queue) == 0  # second failure waits 2s
        clock.step(0.5)
        assert await queue.get() == "x"
        queue.forget("x")
        queue.done("x")
        assert queue.num_requeues("x") == 0

    run(body)


def test_worker_loop_retries_a_failing_key_until_it_succeeds() -> None:
    async def body() -> None:
        queue, clock = make_queue(ItemExponentialFailureRateLimiter(1, 100))
        attempts: list[str] = []

        async def reconcile(key: str) -> None:
            attempts.append(key)
            if len(attempts) < 3:
                raise RuntimeError("conflict")

        async def worker() -> None:
            while True:
                try:
                    key = await queue.get()
                except ShutDown:
                    return
                try:
                    await reconcile(key)
                except RuntimeError:
                    queue.add_rate_limited(key)
                else:
                    queue.forget(key)
                finally:
                    queue.done(key)

        task = asyncio.create_task(worker())
        queue.add("ns/web")
        await until(lambda: clock.sleepers == 1, "first retry scheduled")
        clock.step(1)
        await until(lambda: len(attempts) == 2 and clock.sleepers == 1, "second retry")
        clock.step(2)
        await until(lambda: len(attempts) == 3 and len(queue._getters) == 1, "success")
        assert queue.num_requeues("ns/web") == 0
        queue.shut_down()
        await task

    run(body)


# -- shutting down ---------------------------------------------------------------------------

def test_shut_down_wakes_every_parked_getter() -> None:
    async def body() -> None:
        queue, _ = make_queue()
        getters = [asyncio.create_task(queue.get()) for _ in range(3)]
        await until(lambda: len(queue._getters) == 3, "getters parked")
        queue.shut_down()
        assert queue.shutting_down
        results = await asyncio.gather(*getters, return_exceptions=True)
        assert all(isinstance(r, ShutDown) for r in results)

    run(body)


def test_shut_down_drains_queued_items_then_refuses_new_ones() -> None:
    async def body() -> None:
        queue, clock = make_queue()
        queue.add("a")
        queue.add_after("later", 1)
        queue.shut_down()
        queue.add("b")
        queue.add_after("c", 1)
        assert await queue.get() == "a"
        clock.step(5)  # delayed items were dropped at shut down
        with pytest.raises(ShutDown):
            await queue.get()
        queue.shut_down()  # idempotent

    run(body)


def test_shut_down_cancels_a_getter_waiting_on_the_clock() -> None:
    async def body() -> None:
        queue, clock = make_queue()
        queue.add_after("x", 30)
        getter = asyncio.create_task(queue.get())
        await until(lambda: clock.sleepers == 1, "getter sleeping on the clock")
        queue.shut_down()
        with pytest.raises(ShutDown):
            await getter
        assert clock.sleepers == 0

    run(body)


def test_cancelling_a_getter_leaves_no_timer_or_waiter() -> None:
    async def body() -> None:
        queue, clock = make_queue()
        queue.add_after("x", 30)
        getter = asyncio.create_task(queue.get())
        await until(lambda: clock.sleepers == 1, "getter sleeping on the clock")
        getter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await getter
        assert clock.sleepers == 0 and queue._getters == []
        clock.step(30)
        assert await queue.get() == "x"  # the item itself was not lost

    run(body)


def test_with_a_priority_the_highest_comes_first_and_equals_in_fifo_order() -> None:
    priorities = {"ns/low": 0, "ns/high": 1000, "ns/mid-1": 10, "ns/mid-2": 10}

    async def body() -> None:
        queue: WorkQueue[str] = WorkQueue(FakeClock(), name="test", priority=priorities.get)
        for key in ("ns/low", "ns/mid-1", "ns/high", "ns/mid-2"):
            queue.add(key)
        assert len(queue) == 4
        assert [await queue.get() for _ in range(4)] == [
            "ns/high", "ns/mid-1", "ns/mid-2", "ns/low"]

    run(body)
