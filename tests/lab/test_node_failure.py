"""A host dies: its pods are replaced on the others and the Service keeps answering.

Runs last among the lab tests (file order): it kills node3 and starts it again.
"""

from __future__ import annotations

import time
from collections import Counter

import httpx

from apimachinery.client import Client
from bench.load import SteadyClient
from cli.cluster.processes import wait_for
from lab.testing import SchoonerCluster
from tests.lab.conftest import deployment, ready_endpoints, ready_pods, service


def node_of(client: Client, namespace: str, app: str) -> Counter[str]:
    pods = client.list("pods", namespace, label_selector=f"app={app}")["items"]
    return Counter(p["spec"].get("nodeName") for p in pods
                   if not p["metadata"].get("deletionTimestamp"))


def test_killed_node_pods_move_and_service_keeps_answering(
        cluster: SchoonerCluster, client: Client, namespace: str) -> None:
    client.create("deployments", deployment("survivor", 6), namespace)
    svc = client.create("services", service("survivor", type_="NodePort"), namespace)
    ready_pods(client, namespace, "survivor", 6)
    ready_endpoints(client, namespace, "survivor", 6)
    assert node_of(client, namespace, "survivor")["node3"] > 0
    url = f"http://{cluster.node_ip('node1')}:{svc['spec']['ports'][0]['nodePort']}/"
    wait_for(lambda: httpx.get(url, timeout=3).status_code == 200, 30, f"GET {url}", 0.5)

    load = SteadyClient(url, interval=0.05, max_seconds=240).start()
    killed_at = time.monotonic()
    cluster.kill_node("node3")
    try:
        wait_for(lambda: next(c["status"] for c in client.get("nodes", "node3")["status"][
            "conditions"] if c["type"] == "Ready") == "Unknown", 60, "node3 Ready=Unknown", 0.5)
        unknown_in = time.monotonic() - killed_at
        pods = ready_pods(client, namespace, "survivor", 6, timeout=120)
        moved_in = time.monotonic() - killed_at
        assert {p["spec"]["nodeName"] for p in pods} <= {"node1", "node2"}
        ready_endpoints(client, namespace, "survivor", 6)
        time.sleep(2)  # a little steady state after the move, measured below
    finally:
        load.stop()
    total, failed = len(load.answers), load.failures()
    assert total > 50
    # Connections that were open to node3's pods can fail; the rest are served, and
    # after the move nothing fails.
    assert len(failed) <= total * 0.1, f"{len(failed)}/{total} failed: {load.summary()}"
    assert load.answered(since=killed_at + moved_in) > 0 and not load.failures(
        since=killed_at + moved_in), f"failures after the pods moved ({moved_in:.0f}s)"
    print(f"\nnode3 killed: Ready=Unknown after {unknown_in:.1f}s, its pods Ready on the "
          f"others after {moved_in:.1f}s; NodePort requests failed {len(failed)} of {total}")

    # The host comes back: its agent removes the evicted pods' containers and the
    # Terminating pods go; nothing runs twice.
    cluster.start_node("node3")
    cluster.wait_for_nodes(timeout=120)

    def terminating_gone() -> bool:
        pods = client.list("pods", namespace, label_selector="app=survivor")["items"]
        return len(pods) == 6 and not any(p["metadata"].get("deletionTimestamp") for p in pods)
    wait_for(terminating_gone, 90, "the evicted pods finalized", 0.5)

    def no_stale_containers() -> bool:
        code, out = cluster.node_exec("node3", "docker", "ps", "--format",
                                      "{{.Label \"schooner.pod.namespace\"}}")
        return code == 0 and namespace not in out.split()
    wait_for(no_stale_containers, 60, "node3 without the evicted pods' containers", 0.5)
