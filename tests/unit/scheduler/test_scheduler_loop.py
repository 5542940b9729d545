"""The scheduler loop against an in-memory API: what it binds, patches and retries, in order."""

from __future__ import annotations

import asyncio
import copy
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from apimachinery import errors
from apimachinery.clock import FakeClock
from apimachinery.meta import Object
from scheduler.scheduler import Scheduler
from tests.unit.scheduler.builders import make_node, make_pod
from tests.unit.scheduler.fakes import FakeCluster

Scenario = Callable[[FakeCluster, Scheduler, FakeClock], Awaitable[None]]
TOO_BIG = "0/3 nodes are available: 3 Insufficient cpu."


def three_nodes() -> list[Object]:
    return [make_node(name, cpu="4", memory="8Gi") for name in ("n1", "n2", "n3")]


def run(scenario: Scenario, cluster: FakeCluster) -> None:
    """Run the scheduler around `scenario`, stop it, and fail on leaked tasks."""

    async def main() -> None:
        clock = FakeClock()
        scheduler = Scheduler(cluster, clock=clock, rng=random.Random(3))
        runner = asyncio.create_task(scheduler.run())
        try:
            await until(lambda: scheduler.pods.has_synced and scheduler.nodes.has_synced,
                        "caches synced")
            await scenario(cluster, scheduler, clock)
        finally:
            scheduler.stop()
            await asyncio.wait_for(runner, 5)
        leaked = asyncio.all_tasks() - {asyncio.current_task()}
        assert not leaked, f"leaked tasks: {leaked}"

    asyncio.run(main())


async def until(condition: Callable[[], object], what: str, turns: int = 2000) -> None:
    """Let the loop run (zero-length yields, no waiting) until `condition` holds."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"still not true after {turns} loop turns: {what}")


async def settle(turns: int = 200) -> None:
    for _ in range(turns):
        await asyncio.sleep(0)


def attempts_reached(scheduler: Scheduler, key: str, n: int) -> Callable[[], bool]:
    return lambda: scheduler.queue.num_requeues(key) == n


def patches(cluster: FakeCluster) -> list[tuple[Any, ...]]:
    return [a for a in cluster.actions if a[0] == "patch"]


def test_pending_pods_are_bound_in_order_and_bound_pods_are_left_alone() -> None:
    pods = [make_pod("a"), make_pod("b"), make_pod("c"),
            make_pod("done", node_name="n1"), make_pod("other", scheduler_name="custom")]
    cluster = FakeCluster(three_nodes(), pods)

    async def scenario(cluster: FakeCluster, scheduler: Scheduler, clock: FakeClock) -> None:
        await until(lambda: len(cluster.binds()) == 3, "three bindings")
        await settle()
        assert [key for key, _ in cluster.binds()] == ["default/a", "default/b", "default/c"]
        on_nodes = Counter([node for _, node in cluster.binds()] + ["n1"])  # + "done"
        assert sorted(on_nodes.values()) == [1, 1, 2]
        assert patches(cluster) == []

    run(scenario, cluster)


def test_a_burst_spreads_while_the_watch_lags_and_nothing_is_bound_twice() -> None:
    cluster = FakeCluster(three_nodes(), reflect_bindings=False)

    async def scenario(cluster: FakeCluster, scheduler: Scheduler, clock: FakeClock) -> None:
        for i in range(10):
            cluster.add("pods", make_pod(f"p{i}"))
        await until(lambda: len(cluster.binds()) == 10, "ten bindings")
        assert sorted(Counter(node for _, node in cluster.binds()).values()) == [3, 3, 4]
        assert len(scheduler.cache) == 10
        cluster.release()
        await until(lambda: all(p["spec"].get("nodeName") for p in scheduler.pods.store),
                    "the watch caught up")
        assert sorted(len(info.pods) for info in scheduler.cache.node_infos()) == [3, 3, 4]
        assert len(scheduler.cache) == 0  # every assumption confirmed by the informer
        assert len(cluster.binds()) == 10

    run(scenario, cluster)


def test_already_bound_is_forgotten_without_a_condition() -> None:
    cluster = FakeCluster(three_nodes(), [make_pod("a")])
    cluster.bind_errors["default/a"] = errors.conflict("pods/binding", "a", "already assigned")

    async def scenario(cluster: FakeCluster, scheduler: Scheduler, clock: FakeClock) -> None:
        await until(lambda: cluster.binds(), "a bind attempt")
        await settle()
        clock.step(60)
        await settle()
        assert len(cluster.binds()) == 1 and patches(cluster) == []
        assert len(scheduler.cache) == 0 and scheduler.queue.num_requeues("default/a") == 0

    run(scenario, cluster)


def test_an_api_error_on_bind_forgets_the_assumption_and_retries_with_backoff() -> None:
    cluster = FakeCluster(three_nodes(), [make_pod("a")])
    cluster.bind_errors["default/a"] = errors.InternalError("etcd hiccup")

    async def scenario(cluster: FakeCluster, scheduler: Scheduler, clock: FakeClock) -> None:
        await until(lambda: cluster.binds(), "a bind attempt")
        await settle()
        assert len(scheduler.cache) == 0 and len(cluster.binds()) == 1
        del cluster.bind_errors["default/a"]
        clock.step(1)
        await until(lambda: len(cluster.binds()) == 2, "the retry")
        assert cluster.pod("default/a")["spec"]["nodeName"] == cluster.binds()[1][1]

    run(scenario, cluster)


def test_the_next_pods_are_scheduled_while_bindings_are_in_flight() -> None:
    cluster = FakeCluster(three_nodes(), [make_pod(f"p{i}", cpu="1") for i in range(6)])
    cluster.bind_gate = asyncio.Event()

    async def scenario(cluster: FakeCluster, scheduler: Scheduler, clock: FakeClock) -> None:
        await until(lambda: len(cluster.binds()) == 6, "six bindings started")
        assert len(scheduler.cache) == 6  # all assumed, none answered yet
        assert sorted(Counter(node for _, node in cluster.binds()).values()) == [2, 2, 2]
        cluster.bind_gate.set()
        await until(lambda: all(cluster.pod(f"default/p{i}")["spec"].get("nodeName")
                                for i in range(6)), "all bound")

    run(scenario, cluster)


def test_unschedulable_pod_gets_the_condition_once_and_backs_off() -> None:
    cluster = FakeCluster(three_nodes(), [make_pod("big", cpu="8")])

    async def scenario(cluster: FakeCluster, scheduler: Scheduler, clock: FakeClock) -> None:
        await until(lambda: patches(cluster), "the condition patch")
        [(_, key, sub, kind, patch)] = patches(cluster)
        assert (key, sub, kind) == ("default/big", "status", "strategic")
        [condition] = patch["status"]["conditions"]
        assert condition["type"] == "PodScheduled" and condition["status"] == "False"
        assert (condition["reason"], condition["message"]) == ("Unschedulable", TOO_BIG)
        await settle()
        assert scheduler.queue.unschedulable == {"default/big"}
        assert scheduler.queue.num_requeues("default/big") == 1
        # Our own status patch came back through the watch: no early retry.
        await until(lambda: clock.sleepers == 1, "the worker parked until the retry")
        clock.step(0.9)
        await settle()
        assert scheduler.queue.num_requeues("default/big") == 1
        for attempt, delay in ((2, 0.1), (3, 2), (4, 4)):  # back-off 1s, 2s, 4s
            await until(lambda: clock.sleepers == 1, "the worker parked until the retry")
            clock.step(delay)
            await until(attempts_reached(scheduler, "default/big", attempt),
                        f"attempt {attempt}")
        assert len(patches(cluster)) == 1 and cluster.binds() == []

    run(scenario, cluster)


def test_a_new_node_moves_unschedulable_pods_to_active_at_once() -> None:
    cluster = FakeCluster(three_nodes(), [make_pod("big", cpu="8")])

    async def scenario(cluster: FakeCluster, scheduler: Scheduler, clock: FakeClock) -> None:
        await until(lambda: scheduler.queue.unschedulable, "unschedulable")
        cluster.add("nodes", make_node("huge", cpu="16"))
        await until(lambda: cluster.binds(), "bound without stepping the clock")
        assert cluster.binds() == [("default/big", "huge")]

    run(scenario, cluster)


def test_node_heartbeats_do_not_retry_but_relevant_node_changes_do() -> None:
    nodes = three_nodes()
    cluster = FakeCluster(nodes, [make_pod("big", cpu="8")])

    async def scenario(cluster: FakeCluster, scheduler: Scheduler, clock: FakeClock) -> None:
        await until(lambda: scheduler.queue.unschedulable, "unschedulable")
        node = copy.deepcopy(cluster.objects["nodes"]["n1"])
        node["status"]["conditions"][0]["lastHeartbeatTime"] = "2024-01-01T00:00:10Z"
        cluster.update("nodes", node)
        await settle()
        assert scheduler.queue.unschedulable == {"default/big"}
        node["status"]["allocatable"]["cpu"] = "10"
        cluster.update("nodes", node)
        await until(lambda: cluster.binds(), "bound on the grown node")
        assert cluster.binds() == [("default/big", "n1")]

    run(scenario, cluster)


def test_deleting_a_bound_pod_makes_room_for_a_waiting_one() -> None:
    hog = make_pod("hog", cpu="4", node_name="n1")
    cluster = FakeCluster([make_node("n1", cpu="4")], [hog, make_pod("next", cpu="2")])

    async def scenario(cluster: FakeCluster, scheduler: Scheduler, clock: FakeClock) -> None:
        await until(lambda: scheduler.queue.unschedulable, "unschedulable")
        assert patches(cluster)[0][4]["status"]["conditions"][0]["message"] == (
            "0/1 nodes are available: 1 Insufficient cpu.")
        cluster.delete("pods", "default/hog")
        await until(lambda: cluster.binds(), "bound into the freed room")
        assert cluster.binds() == [("default/next", "n1")]

    run(scenario, cluster)


def test_a_spec_change_of_an_unschedulable_pod_retries_it() -> None:
    cluster = FakeCluster(three_nodes(), [make_pod("picky", node_selector={"disk": "ssd"})])

    async def scenario(cluster: FakeCluster, scheduler: Scheduler, clock: FakeClock) -> None:
        await until(lambda: scheduler.queue.unschedulable, "unschedulable")
        pod = copy.deepcopy(cluster.pod("default/picky"))
        pod["spec"]["nodeSelector"] = {"kubernetes.io/hostname": "n2"}
        cluster.update("pods", pod)
        await until(lambda: cluster.binds(), "bound after the change")
        assert cluster.binds() == [("default/picky", "n2")]

    run(scenario, cluster)


def test_pods_deleted_or_bound_elsewhere_before_their_turn_are_skipped() -> None:
    cluster = FakeCluster([], [make_pod("a"), make_pod("b")])

    async def scenario(cluster: FakeCluster, scheduler: Scheduler, clock: FakeClock) -> None:
        await until(lambda: len(patches(cluster)) == 2, "both unschedulable")
        assert patches(cluster)[0][4]["status"]["conditions"][0]["message"] == (
            "no nodes available to schedule pods")
        cluster.delete("pods", "default/a")
        bound = copy.deepcopy(cluster.pod("default/b"))
        bound["spec"]["nodeName"] = "elsewhere"
        cluster.update("pods", bound)
        await settle()
        assert scheduler.queue.unschedulable == frozenset()
        cluster.add("nodes", make_node("n1"))
        clock.step(30)
        await settle()
        assert cluster.binds() == []

    run(scenario, cluster)


def test_higher_priority_pods_are_scheduled_first() -> None:
    """PrioritySort: of the pods waiting together, spec.priority decides the order."""
    pods = [make_pod("low"), make_pod("high"), make_pod("mid")]
    for pod, priority in zip(pods, (0, 2000000000, 100), strict=True):
        pod["spec"]["priority"] = priority
    cluster = FakeCluster(three_nodes(), pods)

    async def scenario(cluster: FakeCluster, scheduler: Scheduler, clock: FakeClock) -> None:
        await until(lambda: len(cluster.binds()) == 3, "three bindings")
        assert [key for key, _ in cluster.binds()] == ["default/high", "default/mid",
                                                        "default/low"]

    run(scenario, cluster)
