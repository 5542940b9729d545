"""The injectable clock: FakeClock moves only on step() and wakes its sleepers then."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from apimachinery.clock import Clock, FakeClock, RealClock


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


def test_fake_clock_moves_only_on_step() -> None:
    wall = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    clock = FakeClock(start=100.0, wall=wall)
    assert clock.monotonic() == 100.0 and clock.now() == wall
    clock.step(2.5)
    assert clock.monotonic() == 102.5
    assert clock.now() == wall + timedelta(seconds=2.5)


def test_fake_clock_wall_time_is_utc_and_aware() -> None:
    plus_two = timezone(timedelta(hours=2))
    clock = FakeClock(wall=datetime(2026, 1, 1, 12, tzinfo=plus_two))
    assert clock.now() == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert clock.now().tzinfo is UTC
    assert FakeClock().now().tzinfo is UTC
    with pytest.raises(ValueError, match="timezone-aware"):
        FakeClock(wall=datetime(2026, 1, 1))


def test_fake_clock_refuses_to_go_backwards() -> None:
    with pytest.raises(ValueError, match="backwards"):
        FakeClock().step(-1)


def test_sleep_completes_only_when_the_clock_reaches_its_deadline() -> None:
    async def body() -> None:
        clock = FakeClock()
        sleeper = asyncio.create_task(clock.sleep(5))
        await until(lambda: clock.sleepers == 1, "sleeper parked")
        clock.step(4.9)
        await settle()
        assert not sleeper.done() and clock.sleepers == 1
        clock.step(0.1)
        await until(sleeper.done, "sleeper woken")
        assert clock.sleepers == 0
        await sleeper

    run(body)


def test_step_wakes_every_due_sleeper_in_deadline_order() -> None:
    async def body() -> None:
        clock = FakeClock()
        woke: list[float] = []

        async def nap(seconds: float) -> None:
            await clock.sleep(seconds)
            woke.append(seconds)

        tasks = [asyncio.create_task(nap(s)) for s in (3, 1, 2, 10)]
        await until(lambda: clock.sleepers == 4, "all four parked")
        clock.step(5)
        await until(lambda: len(woke) == 3, "three woken")
        assert woke == [1, 2, 3] and clock.sleepers == 1
        clock.step(5)
        await asyncio.gather(*tasks)
        assert woke == [1, 2, 3, 10]

    run(body)


def test_sleep_of_zero_or_less_does_not_wait() -> None:
    async def body() -> None:
        clock = FakeClock()
        await clock.sleep(0)
        await clock.sleep(-1)
        assert clock.sleepers == 0

    run(body)


def test_a_cancelled_sleeper_is_no_longer_counted() -> None:
    async def body() -> None:
        clock = FakeClock()
        sleeper = asyncio.create_task(clock.sleep(5))
        await until(lambda: clock.sleepers == 1, "sleeper parked")
        sleeper.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sleeper
        assert clock.sleepers == 0
        clock.step(10)  # nothing left to wake, and no error

    run(body)


def test_real_clock_reads_the_system_clock() -> None:
    async def body() -> None:
        clock: Clock = RealClock()
        first = clock.monotonic()
        await clock.sleep(0)
        assert clock.monotonic() >= first
        now = clock.now()
        assert now.tzinfo is UTC
        assert abs((datetime.now(UTC) - now).total_seconds()) < 60

    run(body)

