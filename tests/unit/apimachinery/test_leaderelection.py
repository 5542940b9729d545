"""The Lease elector against a fake API (resourceVersion checked on update) and a FakeClock."""

from __future__ import annotations

import asyncio
import copy
import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from apimachinery import errors
from apimachinery.client import _REQUEST_TIMEOUT
from apimachinery.clock import FakeClock
from apimachinery.leaderelection import (
    LeaderElectionConfig,
    LeaderElectionLost,
    LeaderElector,
    lead_until,
    new_identity,
)
from apimachinery.meta import Object

NS, NAME = "kube-system", "kube-scheduler"


class FakeLeases:
    """Leases in memory with optimistic concurrency, as the apiserver does it."""

    def __init__(self) -> None:
        self.leases: dict[tuple[str, str], Object] = {}
        self.rv = 0
        self.fail: errors.APIError | None = None  # raised by every call while set
        self.hang = False  # every call blocks while set
        self.writes = 0

    async def _gate(self) -> None:
        await asyncio.sleep(0)
        if self.hang:
            await asyncio.Event().wait()
        if self.fail is not None:
            raise self.fail

    def _stamp(self, obj: Object) -> Object:
        self.rv += 1
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self.leases[(obj["metadata"]["namespace"], obj["metadata"]["name"])] = obj
        return copy.deepcopy(obj)

    async def get(self, resource: str, name: str, namespace: str | None = None) -> Object:
        await self._gate()
        try:
            return copy.deepcopy(self.leases[(namespace or "", name)])
        except KeyError:
            raise errors.NotFound(f"leases {name!r} not found") from None

    async def create(self, resource: str, obj: Object, namespace: str | None = None) -> Object:
        await self._gate()
        key = (namespace or "", obj["metadata"]["name"])
        if key in self.leases:
            raise errors.AlreadyExists(f"leases {key[1]!r} already exists")
        self.writes += 1
        return self._stamp({**obj, "metadata": {**obj["metadata"], "namespace": key[0]}})

    async def update(self, resource: str, obj: Object) -> Object:
        await self._gate()
        meta = obj["metadata"]
        current = self.leases[(meta["namespace"], meta["name"])]
        if meta.get("resourceVersion") != current["metadata"]["resourceVersion"]:
            raise errors.Conflict("the object has been modified")
        self.writes += 1
        return self._stamp(obj)

    def put(self, holder: str, duration: int = 15, transitions: int = 0) -> None:
        """Write a Lease as another process would."""
        self._stamp({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                     "metadata": {"name": NAME, "namespace": NS},
                     "spec": {"holderIdentity": holder, "leaseDurationSeconds": duration,
                              "renewTime": f"2024-01-01T00:00:{self.rv:02d}.000000Z",
                              "leaseTransitions": transitions}})

    def spec(self) -> Object:
        return self.leases[(NS, NAME)]["spec"]


def elector(api: FakeLeases, clock: FakeClock, identity: str = "a",
            **kw: Any) -> LeaderElector:
    config = LeaderElectionConfig(name=NAME, identity=identity, namespace=NS)
    return LeaderElector(api, config, clock=clock, rng=random.Random(1), **kw)


def run(body: Callable[[], Awaitable[None]]) -> None:
    async def main() -> None:
        await body()
        leaked = asyncio.all_tasks() - {asyncio.current_task()}
        assert not leaked, f"leaked tasks: {leaked}"

    asyncio.run(main())


async def until(condition: Callable[[], bool], what: str, turns: int = 200) -> None:
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"still not true after {turns} loop turns: {what}")


async def settle(turns: int = 20) -> None:
    """Let every ready task run (zero-length yields, no waiting)."""
    for _ in range(turns):
        await asyncio.sleep(0)


def test_config_validates_timings_as_client_go() -> None:
    with pytest.raises(ValueError, match="greater than renewDeadline"):
        LeaderElectionConfig(name=NAME, identity="a", lease_duration=10, renew_deadline=10)
    with pytest.raises(ValueError, match="retryPeriod"):
        LeaderElectionConfig(name=NAME, identity="a", renew_deadline=2, retry_period=2)
    config = LeaderElectionConfig(name=NAME, identity="a")
    assert (config.lease_duration, config.renew_deadline, config.retry_period) == (15, 10, 2)


def test_identity_is_hostname_underscore_uuid() -> None:
    host, _, uid = new_identity().rpartition("_")
    assert host and len(uid) == 36 and new_identity() != new_identity()


def test_acquires_a_missing_lease_by_creating_it() -> None:
    async def body() -> None:
        api, clock = FakeLeases(), FakeClock()
        le = elector(api, clock)
        assert await le.try_acquire_or_renew()
        assert le.is_leader()
        spec = api.spec()
        assert spec["holderIdentity"] == "a" and spec["leaseDurationSeconds"] == 15
        assert spec["acquireTime"] == spec["renewTime"]
    run(body)


def test_acquires_an_empty_lease_and_renews_it_keeping_acquire_time() -> None:
    async def body() -> None:
        api, clock = FakeLeases(), FakeClock()
        api.put("", transitions=3)
        le = elector(api, clock)
        assert await le.try_acquire_or_renew()
        acquired = api.spec()
        assert acquired["holderIdentity"] == "a" and acquired["leaseTransitions"] == 4
        clock.step(2)
        assert await le.try_acquire_or_renew()
        renewed = api.spec()
        assert renewed["renewTime"] > acquired["renewTime"]
        assert renewed["acquireTime"] == acquired["acquireTime"]
        assert renewed["leaseTransitions"] == 4
    run(body)


def test_another_holders_unexpired_lease_blocks() -> None:
    async def body() -> None:
        api, clock = FakeLeases(), FakeClock()
        api.put("b")
        le = elector(api, clock)
        assert not await le.try_acquire_or_renew()
        clock.step(14)
        api.put("b")  # b renews: the lease is valid again from now
        assert not await le.try_acquire_or_renew()
        clock.step(14)
        assert not await le.try_acquire_or_renew()
        assert api.spec()["holderIdentity"] == "b" and not le.is_leader()
    run(body)


def test_an_expired_lease_is_taken_over_with_one_more_transition() -> None:
    async def body() -> None:
        api, clock = FakeLeases(), FakeClock()
        api.put("b", transitions=2)
        le = elector(api, clock)
        assert not await le.try_acquire_or_renew()  # first sight starts b's 15 s
        clock.step(15)
        assert await le.try_acquire_or_renew()
        assert api.spec()["holderIdentity"] == "a"
        assert api.spec()["leaseTransitions"] == 3
    run(body)


def test_a_conflict_loses_the_round() -> None:
    async def body() -> None:
        api, clock = FakeLeases(), FakeClock()
        api.put("")
        a, b = elector(api, clock, "a"), elector(api, clock, "b")
        original = api.get

        async def get_then_b_writes(resource: str, name: str,
                                    namespace: str | None = None) -> Object:
            lease = await original(resource, name, namespace)
            api.get = original  # type: ignore[method-assign]
            assert await b.try_acquire_or_renew()  # b wins between a's read and write
            return lease

        api.get = get_then_b_writes  # type: ignore[method-assign]
        assert not await a.try_acquire_or_renew()  # a's update carried a stale resourceVersion
        assert api.spec()["holderIdentity"] == "b"
        assert not a.is_leader() and b.is_leader()
    run(body)


def test_acquire_retries_until_the_holder_lets_the_lease_expire() -> None:
    async def body() -> None:
        api, clock = FakeLeases(), FakeClock()
        api.put("b")
        le = elector(api, clock)
        task = asyncio.create_task(le.acquire())
        while not task.done() and clock.monotonic() < 30:
            await until(lambda: clock.sleepers == 1 or task.done(), "acquire to wait")
            assert le.is_leader() == task.done()
            clock.step(1)
        await task
        assert le.is_leader() and api.spec()["holderIdentity"] == "a"
        assert 15 <= clock.monotonic() <= 15 + 2 * 2.2 + 1  # expiry, then one jittered retry
    run(body)


def test_renewal_failing_past_the_deadline_loses_leadership() -> None:
    async def body() -> None:
        api, clock = FakeLeases(), FakeClock()
        lost: list[bool] = []
        le = elector(api, clock, on_lost=lambda: lost.append(True))

        async def lead() -> None:
            async with le.lead():
                await asyncio.Event().wait()

        task = asyncio.create_task(lead())
        await until(le.is_leader, "to lead")
        await until(lambda: clock.sleepers == 1, "renewer to wait")
        clock.step(2)
        await until(lambda: api.writes == 2, "one renewal")
        api.fail = errors.ServiceUnavailable("etcd unavailable")
        elapsed = 0.0
        while not task.done() and elapsed < 20:
            await settle()
            clock.step(1)
            elapsed += 1
        with pytest.raises(LeaderElectionLost):
            await task
        assert lost == [True]
        assert 10 <= elapsed <= 13  # 2 s to the next renewal, then the 10 s deadline
        assert api.spec()["holderIdentity"] == "a"  # not released: it may not be reachable
    run(body)


def test_a_renewal_that_hangs_counts_against_the_deadline() -> None:
    async def body() -> None:
        api, clock = FakeLeases(), FakeClock()
        le = elector(api, clock, on_lost=lambda: None)

        async def lead() -> None:
            async with le.lead():
                await asyncio.Event().wait()

        task = asyncio.create_task(lead())
        await until(le.is_leader, "to lead")
        api.hang = True
        await until(lambda: clock.sleepers == 1, "renewer to wait")
        clock.step(2)  # the renewal starts and hangs
        await until(lambda: clock.sleepers == 1, "the attempt's timer")
        clock.step(10)
        with pytest.raises(LeaderElectionLost):
            await task
    run(body)


def test_release_on_cancel_lets_the_standby_take_over_at_once() -> None:
    async def body() -> None:
        api, clock = FakeLeases(), FakeClock()
        a, b = elector(api, clock, "a"), elector(api, clock, "b")
        stop = asyncio.Event()
        ran: list[str] = []

        async def work() -> None:
            ran.append("a")
            await stop.wait()

        task = asyncio.create_task(lead_until(a, stop, work))
        await until(lambda: ran == ["a"], "a to lead")
        assert not await b.try_acquire_or_renew()
        stop.set()
        await task
        spec = api.spec()
        assert spec["holderIdentity"] == "" and spec["leaseDurationSeconds"] == 1
        clock.step(1)
        assert await b.try_acquire_or_renew()  # no 15 s wait
        assert api.spec()["leaseTransitions"] == 1
    run(body)


def test_stop_while_waiting_as_a_standby_ends_without_running_the_work() -> None:
    async def body() -> None:
        api, clock = FakeLeases(), FakeClock()
        api.put("b")
        le = elector(api, clock)
        stop = asyncio.Event()
        ran: list[bool] = []

        async def work() -> None:
            ran.append(True)

        task = asyncio.create_task(lead_until(le, stop, work))
        await until(lambda: clock.sleepers == 1, "standby to wait")
        stop.set()
        await task
        assert not ran and api.spec()["holderIdentity"] == "b"
    run(body)


def test_every_election_request_times_out_within_half_the_renew_deadline() -> None:
    """So a renewal sent to a frozen apiserver fails, and moves the client to its next
    URL, with half the deadline left to renew there (the client's own is 30 s)."""
    seen: list[float | None] = []

    class Recording(FakeLeases):
        async def _gate(self) -> None:
            seen.append(_REQUEST_TIMEOUT.get())
            await super()._gate()

    async def body() -> None:
        e = elector(Recording(), FakeClock())
        assert await e.try_acquire_or_renew()  # a get, then a create
        assert await e.try_acquire_or_renew()  # the cached renewal: one update
    run(body)
    assert seen == [LeaderElectionConfig(name=NAME, identity="a").renew_deadline / 2] * 3
