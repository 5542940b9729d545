"""`schooner drain` on the lab: every pod leaves the node, which stays unschedulable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from apimachinery.client import Client
from cli.cluster.processes import wait_for
from lab.testing import SchoonerCluster
from tests.lab.conftest import deployment, ready_pods

SCHOONER = str(Path(sys.executable).parent / "schooner")
NODE = "node2"


def schooner(cluster: SchoonerCluster, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([SCHOONER, "--kubeconfig", str(cluster.kubeconfig), *args],
                          capture_output=True, text=True, timeout=240)


def test_drain_moves_every_pod_off_and_leaves_the_node_unschedulable(
        cluster: SchoonerCluster, client: Client, namespace: str) -> None:
    client.create("deployments", deployment("drained", 6), namespace)
    pods = ready_pods(client, namespace, "drained", 6)
    assert any(p["spec"]["nodeName"] == NODE for p in pods), "the spread put none on node2"
    try:
        out = schooner(cluster, "drain", NODE, "--ignore-daemonsets", "--timeout", "180s")
        assert out.returncode == 0, out.stderr
        assert f"node/{NODE} drained" in out.stdout
        assert client.get("nodes", NODE)["spec"].get("unschedulable") is True
        moved = ready_pods(client, namespace, "drained", 6)
        assert all(p["spec"]["nodeName"] != NODE for p in moved)
        on_node = [p for p in client.list("pods", "")["items"]
                   if p["spec"].get("nodeName") == NODE]
        assert on_node == [], [p["metadata"]["name"] for p in on_node]

        client.patch("deployments", "drained", {"spec": {"replicas": 9}}, namespace)
        grown = ready_pods(client, namespace, "drained", 9)
        assert all(p["spec"]["nodeName"] != NODE for p in grown), "cordoned: no new pods"
    finally:
        out = schooner(cluster, "uncordon", NODE)
        assert out.returncode == 0, out.stderr
    wait_for(lambda: not client.get("nodes", NODE)["spec"].get("unschedulable"), 10,
             "node2 schedulable again")
