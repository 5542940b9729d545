"""first_done: the first to end ends the race; the rest are cancelled and reaped."""

from __future__ import annotations

import asyncio

from apimachinery.racing import first_done


def test_the_first_to_end_cancels_and_reaps_the_rest() -> None:
    cancelled: list[str] = []

    async def forever(name: str) -> None:
        try:
            await asyncio.Future()
        except asyncio.CancelledError:
            cancelled.append(name)
            raise

    async def soon() -> None:
        await asyncio.sleep(0.01)

    async def scenario() -> None:
        await asyncio.wait_for(first_done(forever("a"), soon(), forever("b")), 1)
        assert sorted(cancelled) == ["a", "b"]  # reaped before first_done returned
        assert asyncio.all_tasks() == {asyncio.current_task()}
    asyncio.run(scenario())


def test_a_failure_ends_the_race_without_raising() -> None:
    async def fails() -> None:
        raise OSError("the peer went away")

    async def scenario() -> None:
        await asyncio.wait_for(first_done(fails(), asyncio.sleep(10)), 1)
        await first_done()  # nothing to run: returns at once
    asyncio.run(scenario())
