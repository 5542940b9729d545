"""PodWorkers: one task per pod, coalesced updates, requeues on the injected clock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from agent.podsync.pleg import changed_pods
from agent.podsync.pod_workers import PodWorkers, SyncResult
from agent.runtime.container import ContainerSummary
from apimachinery.clock import FakeClock


def run(body: Callable[[], Awaitable[None]]) -> None:
    async def main() -> None:
        await body()
        leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert leftover == [], f"leaked tasks: {leftover}"
    asyncio.run(main())


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def test_a_slow_pod_does_not_hold_up_another() -> None:
    synced: list[str] = []

    async def body() -> None:
        gate = asyncio.Event()

        async def sync(uid: str) -> SyncResult:
            if uid == "slow":
                await gate.wait()
            synced.append(uid)
            return SyncResult()
        workers = PodWorkers(sync, FakeClock())
        workers.update("slow")
        workers.update("fast")
        await settle()
        assert synced == ["fast"]
        gate.set()
        await settle()
        assert synced == ["fast", "slow"]
        await workers.stop()
    run(body)


def test_updates_during_a_sync_coalesce_into_one_more() -> None:
    calls: list[str] = []

    async def body() -> None:
        gate = asyncio.Event()

        async def sync(uid: str) -> SyncResult:
            calls.append(uid)
            if len(calls) == 1:
                await gate.wait()
            return SyncResult()
        workers = PodWorkers(sync, FakeClock())
        workers.update("p")
        await settle()
        for _ in range(5):
            workers.update("p")
        gate.set()
        await settle()
        assert calls == ["p", "p"]
        await workers.stop()
    run(body)


def test_requeue_after_waits_on_the_clock() -> None:
    calls: list[float] = []

    async def body() -> None:
        clock = FakeClock()

        async def sync(uid: str) -> SyncResult:
            calls.append(clock.monotonic())
            return SyncResult(requeue_after=10 if len(calls) == 1 else None)
        workers = PodWorkers(sync, clock)
        workers.update("p")
        await settle()
        clock.step(9)
        await settle()
        assert calls == [0]
        clock.step(1)
        await settle()
        assert calls == [0, 10]
        await workers.stop()
    run(body)


def test_a_finished_pod_ends_its_worker_and_errors_are_retried() -> None:
    outcomes: list[str] = ["boom", "done"]

    async def body() -> None:
        clock = FakeClock()

        async def sync(uid: str) -> SyncResult:
            if outcomes.pop(0) == "boom":
                raise RuntimeError("docker went away")
            return SyncResult(finished=True)
        workers = PodWorkers(sync, clock)
        workers.update("p")
        await settle()
        assert "p" in workers and outcomes == ["done"]
        clock.step(2)  # the error retry
        await settle()
        assert "p" not in workers and len(workers) == 0
        await workers.stop()
    run(body)


def test_pleg_relist_reports_changed_pods() -> None:
    first, snap = changed_pods({}, [ContainerSummary("c1", "p1", "running"),
                                    ContainerSummary("c2", "p2", "running")])
    assert first == {"p1", "p2"}
    same, snap = changed_pods(snap, [ContainerSummary("c1", "p1", "running"),
                                     ContainerSummary("c2", "p2", "running")])
    assert same == set()
    died, snap = changed_pods(snap, [ContainerSummary("c1", "p1", "exited"),
                                     ContainerSummary("c2", "p2", "running")])
    assert died == {"p1"}
    removed, _ = changed_pods(snap, [ContainerSummary("c1", "p1", "exited")])
    assert removed == {"p2"}
