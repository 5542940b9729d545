"""Node-pressure eviction: thresholds, ranking, the kubelet's message, the manager's passes
(conditions, reclaim, one pod a pass) and the pod sync failing an evicted pod."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from agent.eviction import ranking, signals
from agent.eviction.manager import EvictionConfig, EvictionManager
from agent.eviction.signals import MEMORY, NODEFS, Observation, Threshold
from agent.nodestatus.node_status import node_conditions
from agent.runtime.container import ContainerUsage, FsStats
from agent.runtime.docker_runtime import DockerRuntime
from apimachinery.clock import FakeClock
from apimachinery.meta import Object
from tests.unit.agent.fakes import UnusedRuntime
from tests.unit.agent.helpers import NOW, UID, make_pod
from tests.unit.agent.podsync.test_pod_sync import World

MI = 1024**2


def test_eviction_hard_in_the_kubelets_syntax() -> None:
    parsed = signals.parse_thresholds("memory.available<100Mi, nodefs.available<10%")
    assert parsed == [Threshold(MEMORY, quantity=100 * MI), Threshold(NODEFS, percentage=0.1)]
    assert [t.text() for t in parsed] == ["100Mi", "10%"]
    assert parsed[1].value(1000) == 100


@pytest.mark.parametrize(("text", "words"), [
    ("memory.available>1Gi", "invalid eviction threshold syntax"),
    ("nodefs.inodesFree<5%", "unsupported eviction signal nodefs.inodesFree"),
    ("memory.available<1Gi,memory.available<2Gi", "duplicate eviction threshold"),
    ("nodefs.available<0%", "must be > 0% and <= 100%"),
    ("memory.available<lots", "invalid quantity"),
])
def test_bad_thresholds(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        signals.parse_thresholds(text)


def test_thresholds_met_and_meminfo() -> None:
    meminfo = "MemTotal:       2048000 kB\nMemFree:  10 kB\nMemAvailable:    51200 kB\n"
    memory = signals.read_meminfo(meminfo)
    assert memory == Observation(available=51200 * 1024, capacity=2048000 * 1024)
    hard = signals.parse_thresholds(signals.DEFAULT_EVICTION_HARD)
    met = signals.thresholds_met(hard, {MEMORY: memory, NODEFS: Observation(50, 100)})
    assert [t.signal for t in met] == [MEMORY]
    assert signals.conditions_of(met) == {"MemoryPressure"}


def pod(name: str, *, memory_request: str = "", priority: int = 0, uid: str = "") -> Object:
    resources = {"requests": {"memory": memory_request}} if memory_request else {}
    return {"metadata": {"name": name, "namespace": "ns", "uid": uid or name},
            "spec": {"priority": priority,
                     "containers": [{"name": "app", "resources": resources}]},
            "status": {"phase": "Running"}}


def usage(memory: int) -> list[ContainerUsage]:
    return [ContainerUsage("app", memory=memory)]


def test_pods_ranked_as_the_kubelet_ranks_them() -> None:
    pods = {
        "guaranteed-big": (pod("guaranteed-big", memory_request="500Mi"), 400 * MI),
        "over-low-prio": (pod("over-low-prio", memory_request="10Mi", priority=-5), 50 * MI),
        "besteffort-small": (pod("besteffort-small"), 20 * MI),
        "besteffort-big": (pod("besteffort-big"), 300 * MI),
        "critical": (pod("critical", priority=2_000_000_000), 900 * MI),
    }
    ranked = ranking.rank(ranking.candidate(p, usage(u), "memory") for p, u in pods.values())
    # over requests first; among them the lowest priority, then the most over requests;
    # the pod under its request last; the critical pod never
    assert [c.pod["metadata"]["name"] for c in ranked] == [
        "over-low-prio", "besteffort-big", "besteffort-small", "guaranteed-big"]


def test_a_pods_request_counts_its_largest_init_container() -> None:
    p = pod("p", memory_request="10Mi")
    p["spec"]["initContainers"] = [{"name": "i", "resources": {"requests": {"memory": "1Gi"}}}]
    assert ranking.candidate(p, usage(300 * MI), "memory").request == 1024 * MI
    assert ranking.candidate(pod("p", memory_request="10Mi"), usage(300 * MI),
                             "memory").request == 10 * MI


def test_the_eviction_message_is_the_kubelets() -> None:
    threshold = Threshold(MEMORY, quantity=100 * MI)
    message = ranking.eviction_message(threshold, Observation(50 * MI, 2048 * MI),
                                       pod("p", memory_request="10Mi"),
                                       {"app": ContainerUsage("app", memory=300 * MI)})
    assert message == ("The node was low on resource: memory. Threshold quantity: 100Mi, "
                       "available: 50Mi. Container app was using 300Mi, request is 10Mi, has "
                       "larger consumption of memory. ")


class PressureRuntime(UnusedRuntime):
    def __init__(self) -> None:
        self.fs = FsStats(100 * MI, 50 * MI)
        self.usage: dict[str, list[ContainerUsage]] = {}
        self.volumes: dict[str, int] = {}

    async def image_fs(self) -> FsStats:
        return self.fs

    async def pod_usage(self) -> dict[str, list[ContainerUsage]]:
        return self.usage

    async def volume_usage(self) -> dict[str, int]:
        return self.volumes


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def record(self, obj: Object, reason: str, message: str, **_: Any) -> None:
        self.events.append((obj["metadata"]["name"], reason))


class Harness:
    def __init__(self, pods: list[Object], hard: str = signals.DEFAULT_EVICTION_HARD) -> None:
        self.clock, self.recorder, self.runtime = FakeClock(), Recorder(), PressureRuntime()
        self.pods, self.evicted, self.posted, self.reclaims = pods, [], 0, 0
        self.available_kb = 1_000_000
        self.manager = EvictionManager(
            self.runtime, self.clock, self.recorder, "n1",  # type: ignore[arg-type]
            EvictionConfig(tuple(signals.parse_thresholds(hard)), 300.0, 10.0),
            pods=lambda: self.pods, evict=lambda uid, msg: self.evicted.append((uid, msg)),
            reclaim_disk=self.reclaim,
            meminfo=lambda: f"MemTotal: 4000000 kB\nMemAvailable: {self.available_kb} kB\n")
        self.manager.on_pressure_change = self.post

    async def post(self) -> None:
        self.posted += 1

    async def reclaim(self) -> int:
        self.reclaims += 1
        return 0


def test_memory_pressure_evicts_one_pod_a_pass_in_order_and_the_condition_lingers() -> None:
    h = Harness([pod("a", memory_request="100Mi"), pod("b"), pod("c")])
    h.runtime.usage = {"a": usage(50 * MI), "b": usage(200 * MI), "c": usage(10 * MI)}

    async def body() -> None:
        assert await h.manager.synchronize() is None and h.manager.pressure == set()
        h.available_kb = 50 * 1024  # 50Mi < 100Mi
        assert await h.manager.synchronize() == "b"
        assert h.manager.pressure == {"MemoryPressure"} and h.posted == 1
        assert await h.manager.synchronize() == "c"  # b is being evicted: the next one
        h.available_kb = 1_000_000  # relief: no more evictions, the condition stays 5 min
        assert await h.manager.synchronize() is None
        assert h.manager.pressure == {"MemoryPressure"}
        h.clock.step(301)
        await h.manager.synchronize()
        assert h.manager.pressure == set() and h.posted == 2
    asyncio.run(body())
    assert [uid for uid, _ in h.evicted] == ["b", "c"]
    assert h.evicted[0][1].startswith("The node was low on resource: memory. Threshold "
                                      "quantity: 100Mi, available: 50Mi. Container app was "
                                      "using 200Mi, request is 0")
    assert h.recorder.events == [("n1", "EvictionThresholdMet"), ("b", "Evicted"),
                                 ("n1", "EvictionThresholdMet"), ("c", "Evicted")]
    assert h.reclaims == 0  # memory: no image reclaim


def test_disk_pressure_reclaims_images_before_evicting() -> None:
    h = Harness([pod("a"), pod("b")], hard="nodefs.available<60%")
    h.runtime.usage = {"a": [ContainerUsage("app", disk=5 * MI)],
                       "b": [ContainerUsage("app", disk=9 * MI)]}

    async def reclaim_enough() -> int:
        h.reclaims += 1
        h.runtime.fs = FsStats(100 * MI, 70 * MI)
        return 20 * MI

    async def body() -> None:
        assert await h.manager.synchronize() == "b"  # reclaim freed nothing: evict
        assert h.manager.pressure == {"DiskPressure"} and h.reclaims == 1
        h.manager._reclaim_disk = reclaim_enough
        assert await h.manager.synchronize() is None  # images were enough
    asyncio.run(body())
    assert h.evicted[0][1].startswith("The node was low on resource: ephemeral-storage. "
                                      "Threshold quantity: 60%, available: 50Mi. ")
    assert "Container app was using 9Mi, request is 0" in h.evicted[0][1]


def test_node_conditions_under_pressure() -> None:
    now = NOW
    healthy = {c["type"]: c for c in node_conditions(now, None)}
    pressed = {c["type"]: c for c in node_conditions(now, list(healthy.values()),
                                                     {"MemoryPressure"})}
    assert (pressed["MemoryPressure"]["status"], pressed["MemoryPressure"]["reason"]) == (
        "True", "KubeletHasInsufficientMemory")
    assert pressed["DiskPressure"]["status"] == "False"
    assert pressed["Ready"]["status"] == "True"


def test_an_evicted_pod_is_failed_then_killed_at_once(tmp_path: Path) -> None:
    world = World(tmp_path, make_pod("a"))

    async def body() -> None:
        await world.syncer.sync(UID)
        world.accept_status()
        world.syncer.evict(UID, "The node was low on resource: memory. ")
        await world.syncer.sync(UID)
    asyncio.run(body())
    statuses = world.client.statuses()
    failed = next(s for s in statuses if s.get("reason") == "Evicted")
    assert (failed["phase"], failed["message"]) == ("Failed",
                                                    "The node was low on resource: memory. ")
    target = next(c for c in failed["conditions"] if c["type"] == "DisruptionTarget")
    assert (target["status"], target["reason"]) == ("True", "TerminationByKubelet")
    assert ("stop", "a/2") in world.runtime.actions()  # no grace period: 2 s minimum
    # nothing wrote it back to Running afterwards
    assert all(s["phase"] == "Failed" for s in statuses[statuses.index(failed):])


def test_admission_under_pressure_as_the_kubelets() -> None:
    h = Harness([])
    best_effort = {**pod("be"), "status": {"qosClass": "BestEffort"}}
    burstable = {**pod("b", memory_request="10Mi"), "status": {"qosClass": "Burstable"}}
    critical = {**pod("c", priority=2_000_000_000), "status": {"qosClass": "BestEffort"}}
    assert h.manager.admit(best_effort) is None
    h.manager.pressure = {"MemoryPressure"}
    assert h.manager.admit(best_effort) == "The node had condition: [MemoryPressure]. "
    assert h.manager.admit(burstable) is None and h.manager.admit(critical) is None
    h.manager.pressure = {"MemoryPressure", "DiskPressure"}
    assert h.manager.admit(burstable) == "The node had condition: [DiskPressure]. "
    assert h.manager.admit(best_effort) == ("The node had condition: [DiskPressure, "
                                            "MemoryPressure]. ")


def test_a_new_pod_refused_by_admission_fails_without_running(tmp_path: Path) -> None:
    world = World(tmp_path, make_pod("a"))
    world.syncer.admit = lambda p: "The node had condition: [DiskPressure]. "
    asyncio.run(world.syncer.sync(UID))
    assert world.runtime.actions() == []  # nothing started
    failed = world.client.statuses()[0]
    assert (failed["phase"], failed["reason"], failed["message"]) == (
        "Failed", "Evicted", "The node had condition: [DiskPressure]. ")


def test_a_running_pod_is_not_refused_after_an_agent_restart(tmp_path: Path) -> None:
    world = World(tmp_path, make_pod("a"))
    asyncio.run(world.syncer.sync(UID))
    world.accept_status()
    restarted = World(tmp_path, world.pod)  # a new agent: same containers, nothing accepted
    restarted.runtime.containers = world.runtime.containers
    restarted.syncer.admit = lambda p: "The node had condition: [DiskPressure]. "
    asyncio.run(restarted.syncer.sync(UID))
    assert all(s.get("reason") != "Evicted" for s in restarted.client.statuses())


def limited(name: str, limit: str) -> Object:
    p = pod(name)
    p["spec"]["containers"][0]["resources"] = {"limits": {"ephemeral-storage": limit}}
    return p


def test_a_container_over_its_ephemeral_storage_limit_is_evicted_without_pressure() -> None:
    h = Harness([limited("over", "10Mi"), limited("under", "1Gi"), pod("free")])
    h.runtime.usage = {"over": [ContainerUsage("app", disk=11 * MI)],
                       "under": [ContainerUsage("app", disk=500 * MI)],
                       "free": [ContainerUsage("app", disk=900 * MI)]}

    async def body() -> None:
        assert await h.manager.synchronize() is None  # no node pressure
        await h.manager.synchronize()  # evicted once, not again
    asyncio.run(body())
    assert h.evicted == [("over", 'Container app exceeded its local ephemeral storage '
                                  'limit "10Mi". ')]
    assert h.recorder.events == [("over", "Evicted")]


def test_no_usage_is_read_when_no_pod_has_a_storage_limit() -> None:
    h = Harness([pod("a")])
    reads: list[int] = []

    async def counted() -> dict[str, list[ContainerUsage]]:
        reads.append(1)
        return {}
    h.runtime.pod_usage = counted  # type: ignore[method-assign]
    asyncio.run(h.manager.synchronize())
    assert reads == []  # the sized container list is costly: skipped
    h.pods.append(limited("b", "1Gi"))
    asyncio.run(h.manager.synchronize())
    assert reads == [1]


def with_scratch(name: str, limit: str, medium: str = "") -> Object:
    p = pod(name)
    p["spec"]["volumes"] = [{"name": "scratch", "emptyDir": {
        "sizeLimit": limit, **({"medium": medium} if medium else {})}}]
    return p


def test_an_emptydir_over_its_size_limit_is_evicted() -> None:
    h = Harness([with_scratch("full", "5Mi"), with_scratch("roomy", "1Gi"),
                 with_scratch("tmpfs", "1Mi", medium="Memory")])
    h.runtime.volumes = {"schooner-full-scratch": 6 * MI, "schooner-roomy-scratch": 6 * MI,
                         "schooner-tmpfs-scratch": 6 * MI}
    asyncio.run(h.manager.synchronize())
    assert h.evicted == [("full", 'Usage of EmptyDir volume "scratch" exceeds the limit '
                                  '"5Mi". ')]


def test_docker_volume_usage_is_this_nodes_volumes_from_df() -> None:
    class API:
        def df(self) -> Object:
            return {"Volumes": [
                {"Name": "schooner-u-a", "Labels": {"schooner.node": "n1"},
                 "UsageData": {"Size": 42}},
                {"Name": "schooner-u-b", "Labels": {"schooner.node": "n1"},
                 "UsageData": {"Size": -1}},
                {"Name": "other", "Labels": {"schooner.node": "n2"}, "UsageData": {"Size": 7}}]}

    class Client:
        api = API()

        def close(self) -> None:
            pass
    runtime = DockerRuntime("n1", "pods", client=Client(), max_workers=1)
    try:
        assert asyncio.run(runtime.volume_usage()) == {"schooner-u-a": 42, "schooner-u-b": 0}
    finally:
        runtime.close()
