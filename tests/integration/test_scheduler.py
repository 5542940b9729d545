"""The scheduler as a real process against a real etcd and apiserver.

Nodes are plain Node objects created through the API with capacity,
allocatable and a Ready condition (no agent exists yet). Each test gets its
own etcd and apiserver (`fresh_apiserver`), so the node count in messages is
exact and no other test's pods land on these nodes. Scheduler processes are
started and stopped by PID in a finally block.
"""

from __future__ import annotations

import re
import signal
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest

from apimachinery.client import Client
from apimachinery.meta import Object
from cli.cluster.processes import Apiserver, Etcd, Process, wait_for

pytestmark = pytest.mark.integration

NS = "sched"
T = TypeVar("T")


@dataclass
class Cluster:
    """A private apiserver, a client, and the scheduler processes this test started."""

    apiserver: Apiserver
    client: Client
    workdir: Path
    schedulers: list[Process] = field(default_factory=list)

    def start_scheduler(self) -> Process:
        kubeconfig = self.apiserver.component_kubeconfig(self.workdir / "kubeconfig", "scheduler")
        n = len(self.schedulers)
        proc = Process(f"scheduler-{n}", [sys.executable, "-m", "scheduler",
                                          "--kubeconfig", str(kubeconfig), "-v", "2",
                                          "--secure-port", "0"],
                       self.workdir / f"scheduler-{n}.log")
        self.schedulers.append(proc)
        proc.start()
        self.wait(lambda: "caches synced" in self.log(proc) or proc_exited(proc), 30,
                  f"scheduler {n} to sync")
        assert not proc_exited(proc), self.log(proc)
        return proc

    def log(self, proc: Process) -> str:
        return proc.log_path.read_text(errors="replace") if proc.log_path.exists() else ""

    def add_node(self, name: str, *, cpu: str = "4", memory: str = "8Gi",
                 labels: dict[str, str] | None = None,
                 taints: list[Object] | None = None) -> Object:
        resources = {"cpu": cpu, "memory": memory, "pods": "110"}
        node = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name,
                             "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
                "spec": {"taints": taints} if taints else {},
                "status": {"capacity": resources, "allocatable": resources,
                           "conditions": [{"type": "Ready", "status": "True",
                                           "reason": "KubeletReady"}]}}
        return self.client.create("nodes", node)

    def add_pod(self, name: str, *, cpu: str = "100m", node_selector: dict[str, str] | None = None,
                tolerations: list[Object] | None = None) -> Object:
        spec: Object = {"containers": [{"name": "main", "image": "busybox", "resources": {
            "requests": {"cpu": cpu, "memory": "64Mi"}}}]}
        if node_selector:
            spec["nodeSelector"] = node_selector
        if tolerations:
            spec["tolerations"] = tolerations
        return self.client.create("pods", {"apiVersion": "v1", "kind": "Pod",
                                           "metadata": {"name": name}, "spec": spec}, NS)

    def pods(self) -> list[Object]:
        items: list[Object] = self.client.list("pods", NS)["items"]
        return items

    def node_of(self, name: str) -> str:
        return self.client.get("pods", name, NS)["spec"].get("nodeName") or ""

    def wait_bound(self, names: list[str], timeout: float = 30) -> dict[str, str]:
        def bound() -> dict[str, str]:
            placed = {p["metadata"]["name"]: p["spec"].get("nodeName") or ""
                      for p in self.pods() if p["metadata"]["name"] in names}
            return placed if len(placed) == len(names) and all(placed.values()) else {}
        return self.wait(bound, timeout, f"pods {names} bound")

    def wait_condition(self, name: str, timeout: float = 30) -> Object:
        def unschedulable() -> Object:
            pod = self.client.get("pods", name, NS)
            conditions: list[Object] = (pod.get("status") or {}).get("conditions") or []
            return next((c for c in conditions
                         if c.get("type") == "PodScheduled" and c.get("status") == "False"), {})
        return self.wait(unschedulable, timeout, f"PodScheduled=False on {name}")

    def wait(self, condition: Callable[[], T], timeout: float, what: str) -> T:
        """wait_for, and on failure the schedulers' and apiserver's logs as they are then."""
        try:
            return wait_for(condition, timeout, what)
        except AssertionError as exc:
            logs = [f"--- {p.name}\n{p.log_tail(20)}"
                    for p in [*self.schedulers, self.apiserver.process]]
            raise AssertionError("\n".join([str(exc), *logs])) from None


def proc_exited(proc: Process) -> bool:
    return proc.popen is not None and proc.popen.poll() is not None


@pytest.fixture
def cluster(fresh_apiserver: tuple[Etcd, Apiserver], tmp_path: Path) -> Iterator[Cluster]:
    _, apiserver = fresh_apiserver
    with apiserver.client() as client:
        client.create("namespaces", {"metadata": {"name": NS}})
        cluster = Cluster(apiserver, client, tmp_path)
        try:
            yield cluster
        finally:
            for proc in cluster.schedulers:
                proc.stop()


def three_nodes(cluster: Cluster) -> None:
    for name in ("node-a", "node-b", "node-c"):
        cluster.add_node(name)


def test_pods_are_bound_and_spread_over_ready_nodes(cluster: Cluster) -> None:
    three_nodes(cluster)
    cluster.start_scheduler()
    names = [f"web-{i}" for i in range(9)]
    for name in names:
        cluster.add_pod(name)
    placed = cluster.wait_bound(names)
    assert sorted(Counter(placed.values()).values()) == [3, 3, 3], placed
    pod = cluster.client.get("pods", "web-0", NS)
    assert {"type": "PodScheduled", "status": "True"}.items() <= next(
        c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled").items()


def test_unschedulable_pod_waits_with_a_reason_then_binds_to_a_new_node(
        cluster: Cluster) -> None:
    three_nodes(cluster)
    cluster.start_scheduler()
    cluster.add_pod("huge", cpu="8")
    condition = cluster.wait_condition("huge")
    assert condition["reason"] == "Unschedulable"
    assert condition["message"] == "0/3 nodes are available: 3 Insufficient cpu."
    assert cluster.client.get("pods", "huge", NS)["status"]["phase"] == "Pending"
    cluster.add_node("node-big", cpu="16")
    assert cluster.wait_bound(["huge"], timeout=10) == {"huge": "node-big"}


def test_node_selector_and_taints_are_respected(cluster: Cluster) -> None:
    cluster.add_node("node-ssd", labels={"disk": "ssd"})
    cluster.add_node("node-gpu", taints=[{"key": "dedicated", "value": "gpu",
                                          "effect": "NoSchedule"}])
    cluster.add_node("node-plain")
    cluster.start_scheduler()
    cluster.add_pod("wants-ssd", node_selector={"disk": "ssd"})
    cluster.add_pod("wants-gpu", node_selector={"kubernetes.io/hostname": "node-gpu"})
    cluster.add_pod("tolerates-gpu", node_selector={"kubernetes.io/hostname": "node-gpu"},
                    tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu",
                                  "effect": "NoSchedule"}])
    plain = [f"plain-{i}" for i in range(6)]
    for name in plain:
        cluster.add_pod(name)
    placed = cluster.wait_bound(["wants-ssd", "tolerates-gpu", *plain])
    assert placed["wants-ssd"] == "node-ssd"
    assert placed["tolerates-gpu"] == "node-gpu"
    assert "node-gpu" not in {placed[name] for name in plain}
    condition = cluster.wait_condition("wants-gpu")
    assert condition["message"] == (
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, "
        "2 node(s) didn't match Pod's node affinity/selector.")
    assert cluster.node_of("wants-gpu") == ""


def bindings_since(client: Client, resource_version: str) -> dict[str, list[str]]:
    """Every nodeName each pod was seen with, in order, replayed from the watch history."""
    seen: dict[str, list[str]] = {}
    for event in client.watch("pods", NS, resource_version=resource_version,
                              timeout_seconds=2):
        if event.type not in ("ADDED", "MODIFIED"):
            continue
        name = event.object["metadata"]["name"]
        node = event.object["spec"].get("nodeName") or ""
        history = seen.setdefault(name, [])
        if node and (not history or history[-1] != node):
            history.append(node)
    return seen


def test_kill_9_with_pods_pending_then_restart_binds_every_pod_exactly_once(
        cluster: Cluster) -> None:
    three_nodes(cluster)
    start_rv = cluster.client.list("pods", NS)["metadata"]["resourceVersion"]
    first = cluster.start_scheduler()
    burst = [f"burst-{i}" for i in range(30)]
    for name in burst:
        cluster.add_pod(name)
    cluster.wait(lambda: any(p["spec"].get("nodeName") for p in cluster.pods()), 30,
                 "a first binding")
    first.kill()
    late = [f"late-{i}" for i in range(10)]
    for name in late:
        cluster.add_pod(name)
    assert not any(cluster.node_of(name) for name in late)
    cluster.start_scheduler()
    placed = cluster.wait_bound(burst + late, timeout=60)
    assert sorted(Counter(placed.values()).values())[0] >= 10, placed

    history = bindings_since(cluster.client, start_rv)
    assert {name: len(nodes) for name, nodes in history.items()} == {
        name: 1 for name in burst + late}, history
    assert all(history[name] == [node] for name, node in placed.items())
    logged = Counter(re.findall(r"pod=sched/(\S+) node=\S+ decision=bound",
                                "\n".join(cluster.log(p) for p in cluster.schedulers)))
    assert max(logged.values()) == 1, logged


def test_sigterm_stops_the_scheduler_cleanly(cluster: Cluster) -> None:
    proc = cluster.start_scheduler()
    assert proc.popen is not None
    proc.popen.send_signal(signal.SIGTERM)
    assert proc.popen.wait(10) == 0, cluster.log(proc)
    assert 'msg="stopped"' in cluster.log(proc)
