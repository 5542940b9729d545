"""Leases for expiring objects: reused within Kubernetes' window, granted for TTL + window."""

from __future__ import annotations

import asyncio

from apiserver.leases import LeaseManager


class FakeGrants:
    """etcd's LeaseGrant: a new id per call, recording the TTL asked for."""

    def __init__(self) -> None:
        self.ttls: list[int] = []

    async def __call__(self, ttl: int) -> int:
        await asyncio.sleep(0)  # a real grant is a round trip: others may run meanwhile
        self.ttls.append(ttl)
        return 1000 + len(self.ttls)


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_window_is_five_percent_of_the_ttl_at_most_a_minute() -> None:
    manager = LeaseManager(FakeGrants())
    assert manager.reuse_seconds(3600) == 60  # --event-ttl 1h: capped at 60 s
    assert manager.reuse_seconds(600) == 30
    assert manager.reuse_seconds(100) == 5
    assert manager.reuse_seconds(3) == 0  # too short to share: one lease each


def test_writes_within_the_window_share_a_lease_granted_for_ttl_plus_window() -> None:
    grants, clock = FakeGrants(), Clock()
    manager = LeaseManager(grants, clock=clock)

    async def run() -> list[int]:
        ids = [await manager.lease(3600)]
        clock.now += 59.0
        ids.append(await manager.lease(3600))  # 59 s later: still within the minute
        clock.now += 2.0
        ids.append(await manager.lease(3600))  # past it: a new lease
        return ids

    ids = asyncio.run(run())
    assert ids == [1001, 1001, 1002]
    assert grants.ttls == [3660, 3660]


def test_no_object_outlives_its_ttl_by_more_than_the_window_nor_dies_before_it() -> None:
    grants, clock = FakeGrants(), Clock()
    manager = LeaseManager(grants, clock=clock)
    expiries: list[tuple[float, float]] = []  # (object's due time, its lease's expiry)
    leases: dict[int, float] = {}

    async def run() -> None:
        for _ in range(400):
            lease = await manager.lease(600)
            leases.setdefault(lease, clock.now + grants.ttls[-1])
            expiries.append((clock.now + 600, leases[lease]))
            clock.now += 0.7

    asyncio.run(run())
    assert all(due < expires <= due + 30 for due, expires in expiries)
    assert len(leases) == 10  # 280 s of writes over 30 s windows


def test_many_writes_at_once_grant_one_lease() -> None:
    grants = FakeGrants()
    manager = LeaseManager(grants, clock=Clock())

    async def run() -> set[int]:
        return set(await asyncio.gather(*(manager.lease(100) for _ in range(50))))

    assert asyncio.run(run()) == {1001}
    assert grants.ttls == [105]


def test_a_lease_holds_at_most_max_objects_and_ttls_never_share() -> None:
    grants = FakeGrants()
    manager = LeaseManager(grants, clock=Clock(), max_objects=3)

    async def run() -> list[int]:
        return [await manager.lease(100) for _ in range(7)] + [await manager.lease(200)]

    assert asyncio.run(run()) == [1001] * 3 + [1002] * 3 + [1003, 1004]
    assert grants.ttls == [105, 105, 105, 210]


def test_forget_grants_afresh() -> None:
    grants = FakeGrants()
    manager = LeaseManager(grants, clock=Clock())

    async def run() -> list[int]:
        first = await manager.lease(100)
        manager.forget()
        return [first, await manager.lease(100)]

    assert asyncio.run(run()) == [1001, 1002]
