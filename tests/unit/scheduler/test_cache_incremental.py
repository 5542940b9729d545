"""The cache rebuilds only the NodeInfos of nodes something happened to, and is never stale."""

from __future__ import annotations

import random

from apimachinery.clock import FakeClock
from apimachinery.informer import Store
from apimachinery.meta import Object
from scheduler.cache import NODE_NAME_INDEX, SchedulerCache, node_name_index
from scheduler.framework import NodeInfo
from tests.unit.scheduler.builders import make_node, make_pod


def setup(nodes: int = 5) -> tuple[Store, Store, SchedulerCache]:
    node_store, pod_store = Store(), Store()
    pod_store.add_indexer(NODE_NAME_INDEX, node_name_index)
    for i in range(nodes):
        node_store._put(make_node(f"n{i}"))
    return node_store, pod_store, SchedulerCache(node_store, pod_store, FakeClock())


def from_scratch(node_store: Store, pod_store: Store, cache: SchedulerCache) -> list[Object]:
    """What every NodeInfo must say: a full rebuild from the stores and the assumed pods."""
    out = []
    for node in sorted(node_store.list(), key=lambda n: n["metadata"]["name"]):
        name = node["metadata"]["name"]
        assumed = [e.pod for e in cache._assumed.values() if e.node == name]
        info = NodeInfo.build(node, [*pod_store.by_index(NODE_NAME_INDEX, name), *assumed])
        out.append(summary(info))
    return out


def summary(info: NodeInfo) -> Object:
    return {"name": info.name, "node": info.node, "requested": info.requested,
            "pods": sorted(p["metadata"]["name"] for p in info.pods)}


def test_untouched_nodes_keep_their_nodeinfo_object() -> None:
    _, pod_store, cache = setup()
    first = cache.node_infos()
    pod_store._put(make_pod("p", cpu="1", node_name="n2"))
    second = cache.node_infos()
    assert [a is b for a, b in zip(first, second, strict=True)] == [
        True, True, False, True, True]
    assert second[2].requested.milli_cpu == 1000
    pod = make_pod("q", cpu="1")
    pod_store._put(pod)  # pending: no node's index moves
    assert cache.node_infos()[4] is second[4]
    cache.assume(pod, "n4")
    third = cache.node_infos()
    assert third[4] is not second[4] and third[4].requested.milli_cpu == 1000
    assert third[0] is second[0]


def test_a_changed_node_object_and_a_new_node_are_seen() -> None:
    node_store, _, cache = setup(2)
    cache.node_infos()
    node_store._put(make_node("n1", cpu="8"))
    node_store._put(make_node("n0a"))
    infos = cache.node_infos()
    assert [i.name for i in infos] == ["n0", "n0a", "n1"]
    assert infos[2].allocatable.milli_cpu == 8000
    node_store._pop("n0a")
    assert [i.name for i in cache.node_infos()] == ["n0", "n1"]


def test_random_churn_always_matches_a_full_rebuild() -> None:
    rng = random.Random(3)
    node_store, pod_store, cache = setup(6)
    nodes = [f"n{i}" for i in range(6)]
    for step in range(600):
        action = rng.choice(["bind", "move", "delete", "assume", "forget", "node", "finish"])
        name = f"p{rng.randrange(30)}"
        key = f"default/{name}"
        if action == "bind":
            pod_store._put(make_pod(name, cpu="100m", node_name=rng.choice(nodes)))
        elif action == "move" and key in pod_store:
            pod_store._put(make_pod(name, cpu="200m", node_name=rng.choice(nodes)))
        elif action == "delete":
            pod_store._pop(key)
        elif action == "assume":
            pending = make_pod(name, cpu="300m", uid=f"u{step}")
            pod_store._put(pending)
            cache.assume(pending, rng.choice(nodes))
        elif action == "forget":
            cache.forget(key)
        elif action == "finish" and key in pod_store:
            pod_store._put(make_pod(name, cpu="100m", node_name=rng.choice(nodes),
                                    phase="Succeeded"))
        elif action == "node":
            node_store._put(make_node(rng.choice(nodes), cpu=rng.choice(["4", "8"])))
        if step % 3 == 0:
            got = [summary(i) for i in cache.node_infos()]
            assert got == from_scratch(node_store, pod_store, cache), f"step {step}"
