"""Flow control: who lands at which priority level, how seats are shared and queued,
and the 429 a request without a seat gets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import orjson
import pytest
from starlette.requests import Request

from apimachinery import errors
from apiserver import flowcontrol
from apiserver.flowcontrol import FlowControl, Rejected, SeatPool, Work, priority_level, seats
from apiserver.wire import error_response

NODE = ("system:node:n1", ("system:nodes", "system:authenticated"))
ALICE = ("alice", ("system:authenticated",))


def work(user: tuple[str, tuple[str, ...]], verb: str = "get", resource: str = "pods",
         **kw: str) -> Work:
    return Work(user[0], user[1], verb, resource, **kw)


@pytest.mark.parametrize(("user", "groups", "extra", "level"), [
    ("admin", ("system:masters",), {}, "exempt"),
    ("system:node:n1", ("system:nodes",), {}, "node-high"),
    ("system:node:n1", ("system:nodes",),
     {"resource": "leases", "group": "coordination.k8s.io", "namespace": "kube-node-lease"},
     "node-high"),
    ("system:kube-scheduler", (),
     {"resource": "leases", "group": "coordination.k8s.io", "namespace": "kube-system"},
     "leader-election"),
    ("system:kube-controller-manager", (),
     {"resource": "leases", "group": "coordination.k8s.io", "namespace": "kube-system"},
     "leader-election"),
    ("system:kube-controller-manager", (), {"resource": "pods"}, "system"),
    ("system:kube-scheduler", (), {"resource": "leases", "group": "coordination.k8s.io",
                                   "namespace": "default"}, "system"),
    ("system:kube-proxy", (), {"resource": "endpointslices"}, "system"),
    ("system:serviceaccount:default:app", ("system:serviceaccounts",), {}, "workload-low"),
    ("alice", ("system:authenticated",), {}, "global-default"),
    ("system:anonymous", ("system:unauthenticated",), {}, "global-default"),
    # a name is not a group: only the token file's groups make a node or a master
    ("system:node:n1", ("system:authenticated",), {}, "global-default"),
])
def test_priority_levels(user: str, groups: tuple[str, ...], extra: dict[str, str],
                         level: str) -> None:
    fields = {"resource": "pods", **extra}
    assert priority_level(Work(user, groups, "get", **fields)) == level


@pytest.mark.parametrize(("verb", "subresource", "long_running"), [
    ("watch", "", True), ("get", "log", True), ("create", "exec", True),
    ("get", "exec", True), ("get", "proxy", True), ("list", "", False),
    ("update", "status", False), ("create", "binding", False),
])
def test_long_running_requests(verb: str, subresource: str, long_running: bool) -> None:
    assert work(ALICE, verb, subresource=subresource).long_running is long_running


def test_mutating_verbs() -> None:
    assert [v for v in ("get", "list", "watch", "create", "update", "patch", "delete",
                        "deletecollection") if work(ALICE, v).mutating] == [
        "create", "update", "patch", "delete", "deletecollection"]


def test_seats_follow_the_shares() -> None:
    """Kubernetes' defaults (400 reads, 200 writes) split by APF's default shares."""
    assert {lvl: seats(400, lvl) for lvl in flowcontrol.SHARES} == {
        "node-high": 80, "system": 60, "leader-election": 20, "workload-low": 200,
        "global-default": 40}
    assert seats(200, "global-default") == 20
    assert seats(1, "leader-election") == 1  # every level keeps at least one seat
    assert seats(0, "node-high") == 0  # no limit


async def settle() -> None:
    """Let woken waiters run (asyncio.wait takes a few loop turns to return)."""
    for _ in range(5):
        await asyncio.sleep(0)


def run(coro: Awaitable[None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 5))


def test_a_full_queue_is_rejected_at_once() -> None:
    async def scenario() -> None:
        pool = SeatPool(1, queue_length=2, wait_limit=5)
        await pool.acquire("alice")
        waiters = [asyncio.create_task(pool.acquire("alice")) for _ in range(2)]
        await asyncio.sleep(0)
        with pytest.raises(Rejected) as rejected:
            await pool.acquire("alice")
        assert rejected.value.reason == "queue-full"
        pool.release()
        await settle()
        assert [w.done() for w in waiters] == [True, False]
        pool.release()
        await asyncio.gather(*waiters)
        assert (pool.in_use, pool.waiting) == (1, 0)
    run(scenario())


def test_a_queued_request_times_out() -> None:
    async def scenario() -> None:
        pool = SeatPool(1, queue_length=5, wait_limit=0.05)
        await pool.acquire("alice")
        with pytest.raises(Rejected) as rejected:
            await pool.acquire("alice")
        assert rejected.value.reason == "time-out"
        assert (pool.in_use, pool.waiting) == (1, 0)
        pool.release()
        assert pool.in_use == 0
    run(scenario())


def test_flows_are_served_round_robin() -> None:
    """A user with many requests queued does not stand in front of another user's one."""
    async def scenario() -> None:
        pool = SeatPool(1, queue_length=50, wait_limit=5)
        order: list[str] = []

        async def one(flow: str) -> None:
            await pool.acquire(flow)
            order.append(flow)

        await pool.acquire("flood")
        tasks = [asyncio.create_task(one("flood")) for _ in range(5)]
        await asyncio.sleep(0)
        tasks.append(asyncio.create_task(one("bob")))
        await asyncio.sleep(0)
        for _ in range(6):
            pool.release()
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)
        assert order[:2] == ["flood", "bob"]
    run(scenario())


def test_a_cancelled_waiter_gives_its_place_back() -> None:
    async def scenario() -> None:
        pool = SeatPool(1, queue_length=5, wait_limit=5)
        await pool.acquire("alice")
        waiter = asyncio.create_task(pool.acquire("alice"))
        await asyncio.sleep(0)
        assert pool.waiting == 1
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert (pool.in_use, pool.waiting) == (1, 0)
        pool.release()
        assert pool.in_use == 0
    run(scenario())


def test_one_levels_flood_leaves_other_levels_their_seats() -> None:
    """global-default's one seat taken and its queue full: a node, the scheduler and
    an admin are served at once, and a long-running watch is not counted."""
    async def scenario() -> None:
        flow = FlowControl(10, 10, queue_length=1, wait_limit=5)
        async with flow.admit(work(ALICE)):
            queued = asyncio.create_task(_hold(flow, work(ALICE)))
            await asyncio.sleep(0)
            with pytest.raises(errors.TooManyRequests):
                async with flow.admit(work(ALICE)):
                    pass
            for other in (work(NODE, "update", "leases"), work(NODE),
                          work(("system:kube-scheduler", ()), "create", "bindings"),
                          work(("admin", ("system:masters",))),
                          work(ALICE, "watch")):
                async with flow.admit(other):
                    pass
            # writes have seats of their own
            async with flow.admit(work(ALICE, "create")):
                pass
        await queued
    run(scenario())


async def _hold(flow: FlowControl, w: Work) -> None:
    async with flow.admit(w):
        pass


def test_a_seat_is_given_back_when_the_handler_fails() -> None:
    async def scenario() -> None:
        flow = FlowControl(1, 1)
        with pytest.raises(errors.NotFound):
            async with flow.admit(work(ALICE)):
                raise errors.NotFound("x")
        assert flow.pools["global-default", False].in_use == 0
    run(scenario())


def test_the_429_is_kubernetes_with_retry_after() -> None:
    request = Request({"type": "http", "method": "GET", "path": "/api/v1/pods",
                       "headers": [(b"accept", b"application/json")], "query_string": b""})
    response = error_response(request, flowcontrol.too_many_requests())
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert orjson.loads(response.body) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "Too many requests, please try again later.", "reason": "TooManyRequests",
        "code": 429, "details": {"retryAfterSeconds": 1}}
