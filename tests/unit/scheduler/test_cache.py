"""The assume cache: bursts spread before the watch catches up, and entries go away."""

from __future__ import annotations

import random
from collections import Counter

from apimachinery.clock import FakeClock
from apimachinery.informer import Store
from apimachinery.meta import Object
from scheduler.cache import NODE_NAME_INDEX, SchedulerCache, node_name_index
from scheduler.cycle import schedule
from scheduler.plugins import default_profile
from tests.unit.scheduler.builders import make_node, make_pod


def stores(nodes: list[Object], pods: list[Object]) -> tuple[Store, Store]:
    """Stores as an informer would fill them (writes through the informer-only API)."""
    node_store, pod_store = Store(), Store()
    pod_store.add_indexer(NODE_NAME_INDEX, node_name_index)
    for node in nodes:
        node_store._put(node)
    for pod in pods:
        pod_store._put(pod)
    return node_store, pod_store


def bound(pod: Object, node: str) -> Object:
    return {**pod, "spec": {**pod["spec"], "nodeName": node}}


def test_a_burst_of_pods_spreads_over_equal_nodes_before_the_watch_catches_up() -> None:
    nodes = [make_node(n) for n in ("n1", "n2", "n3")]
    pods = [make_pod(f"p{i}") for i in range(10)]
    node_store, pod_store = stores(nodes, pods)
    cache = SchedulerCache(node_store, pod_store, FakeClock())
    placed: Counter[str] = Counter()
    for pod in pods:  # the informer never shows a binding during the burst
        result = schedule(pod, cache.node_infos(), default_profile(), rng=random.Random(7))
        assert result.node is not None
        cache.assume(pod, result.node)
        cache.finish_binding(f"default/{pod['metadata']['name']}")
        placed[result.node] += 1
    assert sorted(placed.values()) == [3, 3, 4]
    assert len(cache) == 10


def test_siblings_of_one_replicaset_spread_even_on_uneven_nodes() -> None:
    nodes = [make_node("small", cpu="2", memory="4Gi"), make_node("big", cpu="8", memory="16Gi")]
    pods = [make_pod(f"web-{i}", owner_uid="rs-1") for i in range(4)]
    node_store, pod_store = stores(nodes, pods)
    cache = SchedulerCache(node_store, pod_store, FakeClock())
    placed: Counter[str] = Counter()
    for pod in pods:
        result = schedule(pod, cache.node_infos(), default_profile())
        assert result.node is not None
        cache.assume(pod, result.node)
        placed[result.node] += 1
    assert placed["small"] >= 1 and placed["big"] >= 1


def test_assumed_pods_count_on_their_node_and_leave_the_cached_pod_alone() -> None:
    pod = make_pod("p", cpu="1")
    node_store, pod_store = stores([make_node("n1")], [pod])
    cache = SchedulerCache(node_store, pod_store, FakeClock())
    cache.assume(pod, "n1")
    assert cache.is_assumed(pod) and cache.assumed_node("default/p") == "n1"
    [info] = cache.node_infos()
    assert info.requested.milli_cpu == 1000
    assert "nodeName" not in pod["spec"]


def test_assumed_entry_goes_when_the_informer_shows_the_pod_bound() -> None:
    pod = make_pod("p", cpu="1")
    node_store, pod_store = stores([make_node("n1")], [pod])
    cache = SchedulerCache(node_store, pod_store, FakeClock())
    cache.assume(pod, "n1")
    pod_store._put(bound(pod, "n1"))
    [info] = cache.node_infos()
    assert len(cache) == 0 and len(info.pods) == 1  # counted once, from the informer


def test_assumed_entry_goes_when_the_pod_is_deleted_or_recreated() -> None:
    pod = make_pod("p")
    node_store, pod_store = stores([make_node("n1")], [pod])
    cache = SchedulerCache(node_store, pod_store, FakeClock())
    cache.assume(pod, "n1")
    pod_store._put(make_pod("p", uid="another"))
    assert not cache.is_assumed(make_pod("p", uid="another")) and len(cache) == 0
    cache.assume(pod_store.get("default/p") or {}, "n1")
    pod_store._pop("default/p")
    cache.cleanup()
    assert len(cache) == 0


def test_assumed_entry_expires_after_the_ttl_once_binding_finished() -> None:
    clock = FakeClock()
    pod = make_pod("p")
    node_store, pod_store = stores([make_node("n1")], [pod])
    cache = SchedulerCache(node_store, pod_store, clock, ttl=30)
    cache.assume(pod, "n1")
    clock.step(100)
    assert cache.is_assumed(pod)  # binding still in flight: no deadline yet
    cache.finish_binding("default/p")
    clock.step(29)
    assert cache.is_assumed(pod)
    clock.step(1)
    assert not cache.is_assumed(pod) and len(cache) == 0


def test_forget_drops_the_assumption() -> None:
    pod = make_pod("p")
    node_store, pod_store = stores([make_node("n1")], [pod])
    cache = SchedulerCache(node_store, pod_store, FakeClock())
    cache.assume(pod, "n1")
    cache.forget("default/p")
    assert not cache.is_assumed(pod) and cache.node_infos()[0].pods == ()


def test_finished_pods_hold_no_room() -> None:
    assert node_name_index(bound(make_pod("p"), "n1")) == ["n1"]
    assert node_name_index(make_pod("p")) == []
    assert node_name_index(bound(make_pod("p", phase="Succeeded"), "n1")) == []
