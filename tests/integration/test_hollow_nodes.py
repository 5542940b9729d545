"""Hollow nodes (`python -m agent --hollow N`) with the real scheduler and controller-manager.

The smoke version of the scale benchmark: 20 hollow nodes in one process, a
Deployment of 200 pods that the real controllers create and the real
scheduler binds; the hollow process marks each Running and Ready with a
unique fake IP from its node's podCIDR, and deletes each for good when the
Deployment scales to 0. This module runs its own etcd and apiserver, so the
20 Nodes never meet another module's pods. Every process is stopped by PID.
"""

from __future__ import annotations

import ipaddress
import sys
from collections import Counter
from collections.abc import Iterator

import pytest

from apimachinery.client import Client
from apimachinery.meta import Object
from cli.cluster.processes import (
    Apiserver,
    Process,
    own_control_plane,
    start_controller_manager,
    wait_for,
)

pytestmark = pytest.mark.integration

NODES, REPLICAS = 20, 200
PREFIX = "hollow-"
TIMEOUT = 45.0


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apiserver]:
    """This module's own etcd and apiserver (its Nodes must meet no other module's pods)."""
    with own_control_plane(tmp_path_factory.mktemp("hollow")) as server:
        yield server


def log_of(proc: Process) -> str:
    return proc.log_path.read_text(errors="replace") if proc.log_path.exists() else ""


def start_until(proc: Process, marker: str, timeout: float) -> Process:
    """Start `proc` and wait for `marker` in its log; stop it if it never gets there."""
    proc.start()
    assert proc.popen is not None
    popen = proc.popen
    try:
        wait_for(lambda: marker in log_of(proc) or popen.poll() is not None, timeout,
                 f"{proc.name} to log {marker!r}\n{proc.log_tail()}")
        assert popen.poll() is None, f"{proc.name} exited:\n{proc.log_tail()}"
    except BaseException:
        proc.stop()
        raise
    return proc


@pytest.fixture(scope="module")
def cluster(apiserver: Apiserver, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[Client, Process]]:
    """Scheduler, controller-manager and 20 hollow nodes of this module's own."""
    tmp_path = tmp_path_factory.mktemp("hollow-procs")
    # Many hollow nodes share one process and one kubeconfig, so no node identity fits
    # them all: they call as the admin; the scheduler and controller-manager as themselves.
    kubeconfig = apiserver.kubeconfig(tmp_path / "kubeconfig")
    scheduler = apiserver.component_kubeconfig(tmp_path / "scheduler.kubeconfig", "scheduler")
    manager = apiserver.component_kubeconfig(tmp_path / "cm.kubeconfig", "controller-manager")
    procs: list[Process] = []
    try:
        procs.append(start_until(Process("scheduler", [
            sys.executable, "-m", "scheduler", "--kubeconfig", str(scheduler), "-v", "2",
            "--secure-port", "0"], tmp_path / "scheduler.log"), "caches synced", 30))
        # Kubernetes' 40 s grace: a loaded 2-core machine may delay a renewal a few seconds.
        procs.append(start_controller_manager(manager, tmp_path / "controller-manager.log",
                                              "--node-monitor-grace-period", "40s"))
        hollow = start_until(Process("hollow", [
            sys.executable, "-m", "agent", "--hollow", str(NODES), "--hollow-name-prefix",
            PREFIX, "--hollow-start-delay", "500ms", "--hollow-lease-renew-interval", "5s",
            "--hollow-cleanup", "--kubeconfig", str(kubeconfig)], tmp_path / "hollow.log"),
            f"hollow nodes ready nodes={NODES}", 30)
        procs.append(hollow)
        with apiserver.client() as client:
            yield client, hollow
    finally:
        for proc in reversed(procs):
            proc.stop()


def deployment(name: str, replicas: int) -> Object:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [{
                         "name": "main", "image": "schooner/busybox:latest",
                         "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}}}]}}}}


class NotYet:
    """A falsy answer for wait_for that says how far things got."""

    def __init__(self, seen: str) -> None:
        self.seen = seen

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return self.seen


def ready(pod: Object) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or [])


def test_hollow_nodes_register_with_capacity_labels_and_pod_cidrs(
        cluster: tuple[Client, Process]) -> None:
    client, _ = cluster
    nodes = client.list("nodes", label_selector="schooner.io/hollow=true")["items"]
    assert sorted(n["metadata"]["name"] for n in nodes) == sorted(
        f"{PREFIX}{i}" for i in range(NODES))
    node = next(n for n in nodes if n["metadata"]["name"] == f"{PREFIX}3")
    assert node["metadata"]["labels"]["kubernetes.io/hostname"] == f"{PREFIX}3"
    assert node["status"]["allocatable"] == {"cpu": "4", "memory": "16777216Ki",
                                             "ephemeral-storage": str(100 * 1024**3),
                                             "pods": "110"}
    assert node["spec"]["podCIDR"] == "10.64.3.0/24"
    assert {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"] == "True"
    leases = client.list("leases", "kube-node-lease")["items"]
    assert {lease["metadata"]["name"] for lease in leases} >= {f"{PREFIX}{i}"
                                                               for i in range(NODES)}


def test_a_deployment_runs_on_hollow_nodes_and_scales_to_zero(
        cluster: tuple[Client, Process], namespace: str) -> None:
    client, hollow = cluster
    client.create("deployments", deployment("web", REPLICAS), namespace)

    def all_ready() -> list[Object] | NotYet:
        pods = client.list("pods", namespace, label_selector="app=web")["items"]
        good = [p for p in pods if ready(p)]
        return good if len(good) == REPLICAS else NotYet(f"{len(good)}/{len(pods)} ready")

    pods = wait_for(all_ready, TIMEOUT, f"{REPLICAS} pods Running and Ready\n"
                    f"{hollow.log_tail(5)}", interval=0.5)
    ips = [p["status"]["podIP"] for p in pods]
    assert len(set(ips)) == REPLICAS, "pod IPs must be unique"
    for pod in pods:
        cidr = ipaddress.ip_network(f"10.64.{pod['spec']['nodeName'].removeprefix(PREFIX)}"
                                    ".0/24")
        assert ipaddress.ip_address(pod["status"]["podIP"]) in cidr
        (cs,) = pod["status"]["containerStatuses"]
        assert cs["containerID"].startswith("hollow://") and cs["ready"]
        assert "running" in cs["state"] and pod["status"]["hostIP"] == "127.0.0.1"
    per_node = Counter(p["spec"]["nodeName"] for p in pods)
    assert len(per_node) == NODES and max(per_node.values()) <= 3 * REPLICAS // NODES, per_node

    client.patch("deployments", "web", {"spec": {"replicas": 0}}, namespace)
    wait_for(lambda: not client.list("pods", namespace, label_selector="app=web")["items"],
             TIMEOUT, "every pod deleted for good", interval=0.5)


def test_sigterm_with_cleanup_deletes_the_nodes(cluster: tuple[Client, Process]) -> None:
    """Last in the module: it stops the module's hollow process."""
    client, hollow = cluster
    hollow.stop()  # SIGTERM; --hollow-cleanup deletes the Nodes and Leases
    assert hollow.popen is not None and hollow.popen.returncode == 0, hollow.log_tail()
    assert not client.list("nodes", label_selector="schooner.io/hollow=true")["items"]
