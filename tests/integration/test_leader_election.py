"""Leader election for real: two controller-managers, two schedulers, one Lease each.

Each test has an etcd and apiserver of its own (a controller-manager or a
scheduler acts on every object of the cluster). The durations are short
(lease 4 s, renew deadline 3 s, retry 0.5 s) so a takeover after `kill -9`
of the leader must happen within the lease duration plus a jittered retry;
the slack on top is for a loaded 2-core machine. Every process is stopped by
PID afterwards.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from apimachinery.client import Client
from apimachinery.meta import Object
from cli.cluster.processes import Apiserver, Etcd, Process, wait_for

pytestmark = pytest.mark.integration

LEASE, RENEW, RETRY = 4.0, 3.0, 0.5
TAKEOVER_BOUND = LEASE + 2.2 * RETRY + 2.0  # lease expiry, one jittered retry, slack
TIMEOUT = 30.0
NS = "default"
FLAGS = ["--leader-elect", "--leader-elect-lease-duration", f"{LEASE}s",
         "--leader-elect-renew-deadline", f"{RENEW}s",
         "--leader-elect-retry-period", f"{RETRY}s", "-v", "2", "--secure-port", "0"]


class Candidates:
    """Processes of one component started against one apiserver, all stopped afterwards."""

    def __init__(self, apiserver: Apiserver, workdir: Path, module: str, lease: str) -> None:
        self.kubeconfig = apiserver.component_kubeconfig(
            workdir / "kubeconfig", "scheduler" if module == "scheduler" else "controller-manager")
        self.workdir, self.module, self.lease = workdir, module, lease
        self.procs: list[Process] = []

    def start(self, *flags: str) -> Process:
        n = len(self.procs)
        proc = Process(f"{self.module}-{n}", [sys.executable, "-m", self.module,
                                              "--kubeconfig", str(self.kubeconfig),
                                              *FLAGS, *flags],
                       self.workdir / f"{self.module}-{n}.log")
        self.procs.append(proc)
        proc.start()
        return proc

    def log(self, proc: Process) -> str:
        return proc.log_path.read_text(errors="replace") if proc.log_path.exists() else ""

    def identity(self, proc: Process) -> str:
        found = wait_for(lambda: re.search(r"identity=(\S+) attempting", self.log(proc)),
                         TIMEOUT, f"{proc.name} to campaign\n{proc.log_tail()}")
        return found.group(1)

    def holder(self, client: Client) -> str:
        lease = client.get("leases", self.lease, "kube-system")
        return str((lease.get("spec") or {}).get("holderIdentity") or "")

    def leader_and_standby(self, client: Client) -> tuple[Process, Process]:
        """Wait for one of the two to hold the Lease and to have synced its caches."""
        ids = {self.identity(p): p for p in self.procs}
        holder = wait_for(lambda: self.holder(client) in ids and self.holder(client),
                          TIMEOUT, "a leader")
        leader = ids[holder]
        (standby,) = [p for p in self.procs if p is not leader]
        wait_for(lambda: "caches synced" in self.log(leader), TIMEOUT,
                 f"the leader to sync\n{leader.log_tail()}")
        return leader, standby

    def stop(self) -> None:
        for proc in self.procs:
            proc.stop()


@pytest.fixture
def cluster(fresh_apiserver: tuple[Etcd, Apiserver]) -> Iterator[tuple[Apiserver, Client]]:
    _, apiserver = fresh_apiserver
    with apiserver.client() as client:
        yield apiserver, client


def replicaset(name: str, replicas: int) -> Object:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                         {"name": "main", "image": "schooner/busybox:latest"}]}}}}


def pods_of(client: Client, app: str) -> list[Object]:
    return [p for p in client.list("pods", NS, label_selector=f"app={app}")["items"]
            if not (p.get("metadata") or {}).get("deletionTimestamp")]


def take_over_after_kill(group: Candidates, client: Client,
                         leader: Process, standby: Process) -> float:
    """SIGKILL the leader; the seconds until the standby holds the Lease."""
    new_id = group.identity(standby)
    leader.kill()
    killed = time.monotonic()
    wait_for(lambda: group.holder(client) == new_id, TIMEOUT, "the standby to take over",
             interval=0.05)
    return time.monotonic() - killed


def test_one_controller_manager_leads_and_the_standby_takes_over(
        cluster: tuple[Apiserver, Client], tmp_path: Path) -> None:
    apiserver, client = cluster
    group = Candidates(apiserver, tmp_path, "controllers", "kube-controller-manager")
    try:
        for _ in range(2):
            group.start("--controllers", "replicaset")
        leader, standby = group.leader_and_standby(client)
        client.create("replicasets", replicaset("web", 2), NS)
        wait_for(lambda: len(pods_of(client, "web")) == 2, TIMEOUT, "the leader's 2 pods")
        assert "caches synced" not in group.log(standby), "the standby acted"
        events = client.list("events", "kube-system")["items"]
        assert any(e["reason"] == "LeaderElection" and e["involvedObject"]["kind"] == "Lease"
                   and e["message"].endswith(" became leader") for e in events), events

        took = take_over_after_kill(group, client, leader, standby)
        assert took <= TAKEOVER_BOUND, f"takeover took {took:.1f}s"
        lease = client.get("leases", "kube-controller-manager", "kube-system")
        assert lease["spec"]["leaseTransitions"] >= 1
        client.patch("replicasets", "web", {"spec": {"replicas": 3}}, NS)
        wait_for(lambda: len(pods_of(client, "web")) == 3, TIMEOUT,
                 f"the new leader's 3rd pod\n{standby.log_tail()}")
    finally:
        group.stop()


def add_node(client: Client, name: str) -> None:
    resources = {"cpu": "4", "memory": "8Gi", "pods": "110"}
    client.create("nodes", {"apiVersion": "v1", "kind": "Node",
                            "metadata": {"name": name,
                                         "labels": {"kubernetes.io/hostname": name}},
                            "status": {"capacity": resources, "allocatable": resources,
                                       "conditions": [{"type": "Ready", "status": "True"}]}})


def add_pod(client: Client, name: str) -> None:
    client.create("pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                           "spec": {"containers": [{"name": "main",
                                                    "image": "schooner/busybox:latest"}]}},
                  NS)


def node_of(client: Client, pod: str) -> str:
    return str(client.get("pods", pod, NS).get("spec", {}).get("nodeName") or "")


def test_one_scheduler_binds_and_the_standby_takes_over(
        cluster: tuple[Apiserver, Client], tmp_path: Path) -> None:
    apiserver, client = cluster
    group = Candidates(apiserver, tmp_path, "scheduler", "kube-scheduler")
    add_node(client, "node-a")
    try:
        for _ in range(2):
            group.start()
        leader, standby = group.leader_and_standby(client)
        add_pod(client, "before")
        wait_for(lambda: node_of(client, "before"), TIMEOUT, "the leader to bind")
        assert "caches synced" not in group.log(standby), "the standby acted"

        took = take_over_after_kill(group, client, leader, standby)
        assert took <= TAKEOVER_BOUND, f"takeover took {took:.1f}s"
        add_pod(client, "after")
        assert wait_for(lambda: node_of(client, "after"), TIMEOUT,
                        f"the new leader to bind\n{standby.log_tail()}") == "node-a"
    finally:
        group.stop()


def test_sigterm_releases_the_lease_so_the_standby_leads_at_once(
        cluster: tuple[Apiserver, Client], tmp_path: Path) -> None:
    """With a 15 s lease, a takeover in a few seconds shows the Lease was released."""
    apiserver, client = cluster
    group = Candidates(apiserver, tmp_path, "scheduler", "kube-scheduler")
    slow = ["--leader-elect-lease-duration", "15s", "--leader-elect-renew-deadline", "10s"]
    try:
        for _ in range(2):
            group.start(*slow)
        leader, standby = group.leader_and_standby(client)
        new_id = group.identity(standby)
        stopped = time.monotonic()
        leader.stop()
        assert leader.popen is not None and leader.popen.returncode == 0
        wait_for(lambda: group.holder(client) == new_id, TIMEOUT, "the standby to take over")
        took = time.monotonic() - stopped
        assert took < 10.0, f"takeover took {took:.1f}s: was the Lease released?"
    finally:
        group.stop()


def test_a_leader_that_cannot_renew_exits_non_zero(
        cluster: tuple[Apiserver, Client], tmp_path: Path) -> None:
    """Without the apiserver the leader gives up after the renew deadline and exits 1,
    before its Lease could expire for anyone else: it never acts as a second leader."""
    apiserver, _ = cluster
    group = Candidates(apiserver, tmp_path, "scheduler", "kube-scheduler")
    try:
        leader = group.start()
        wait_for(lambda: "caches synced" in group.log(leader), TIMEOUT,
                 f"the scheduler to lead\n{leader.log_tail()}")
        apiserver.stop()
        cut = time.monotonic()
        assert leader.popen is not None
        popen = leader.popen
        wait_for(lambda: popen.poll() is not None, TIMEOUT, "the leader to exit")
        took = time.monotonic() - cut
        assert popen.returncode == 1, leader.log_tail()
        assert "leaderelection lost" in group.log(leader)
        assert took <= RETRY + RENEW + 3.0, f"exited after {took:.1f}s"
    finally:
        group.stop()
