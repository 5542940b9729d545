"""The engine-call gate: bounded, and waiters let in by priority, then by arrival."""

from __future__ import annotations

import asyncio

import pytest

from agent.runtime.gate import Priority, PriorityGate


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_at_most_slots_holders_and_waiters_by_priority_then_arrival() -> None:
    async def scenario() -> None:
        gate, order, inside = PriorityGate(2), [], 0
        release = asyncio.Event()

        async def call(name: str, priority: Priority) -> None:
            nonlocal inside
            async with gate.slot(priority):
                inside += 1
                assert inside <= 2
                order.append(name)
                await release.wait()
                inside -= 1

        tasks = [asyncio.create_task(call(n, p)) for n, p in [
            ("r1", Priority.RESTART), ("r2", Priority.RESTART), ("r3", Priority.RESTART),
            ("rm", Priority.REMOVAL), ("new1", Priority.FIRST_START),
            ("new2", Priority.FIRST_START)]]
        await settle()
        assert order == ["r1", "r2"] and gate.waiting == 4
        release.set()
        await asyncio.gather(*tasks)
        assert order == ["r1", "r2", "new1", "new2", "rm", "r3"]
    asyncio.run(scenario())


def test_a_cancelled_waiter_gives_its_turn_away() -> None:
    async def scenario() -> None:
        gate, order = PriorityGate(1), []
        hold = asyncio.Event()

        async def call(name: str) -> None:
            async with gate.slot(Priority.FIRST_START):
                order.append(name)
                await hold.wait()

        first = asyncio.create_task(call("first"))
        await settle()
        doomed = asyncio.create_task(call("doomed"))
        last = asyncio.create_task(call("last"))
        await settle()
        doomed.cancel()
        hold.set()
        await asyncio.gather(first, last)
        with pytest.raises(asyncio.CancelledError):
            await doomed
        assert order == ["first", "last"] and gate.waiting == 0
        async with gate.slot(Priority.RESTART):  # the slot came back
            pass
    asyncio.run(scenario())


def test_a_gate_needs_a_slot() -> None:
    with pytest.raises(ValueError):
        PriorityGate(0)
