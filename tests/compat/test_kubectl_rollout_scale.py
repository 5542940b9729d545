"""kubectl scale, rollout status/history/undo/restart/pause/resume, cordon and
uncordon against the controllers of a whole cluster, and kubectl top (not served)."""

from __future__ import annotations

import pytest

from cli.cluster.processes import wait_for
from tests.compat.conftest import Cluster, Kubectl
from tests.compat.readkit import (
    deployment,
    make,
    pod,
    pods_of,
    wait_available,
    wait_pod_ready,
)

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

ROLLED = 'deployment "web" successfully rolled out\n'


def revisions(cluster: Cluster, namespace: str) -> dict[str, dict[str, object]]:
    """ReplicaSets by their revision annotation."""
    return {r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: r
            for r in cluster.client.list("replicasets", namespace)["items"]}


@pytest.mark.compat("kubectl scale")
def test_scale_up_down_and_a_failed_precondition(kubectl: Kubectl, cluster: Cluster,
                                                 namespace: str) -> None:
    make(cluster, namespace, "deployments", deployment("web", 1))
    wait_available(cluster, namespace, "web", 1)
    assert kubectl("scale", "deploy/web", "--replicas=3").stdout == "deployment.apps/web scaled\n"
    wait_available(cluster, namespace, "web", 3)
    assert len(pods_of(cluster, namespace, "app=web")) == 3
    refused = kubectl("scale", "deploy/web", "--replicas=1", "--current-replicas=5", ok=False)
    assert refused.code == 1
    assert refused.stderr == "error: Expected replicas to be 5, was 3\n"
    kubectl("scale", "deploy/web", "--replicas=1", "--current-replicas=3")
    wait_available(cluster, namespace, "web", 1)
    wait_for(lambda: len(pods_of(cluster, namespace, "app=web")) == 1, 90, "two pods gone")


@pytest.mark.compat("kubectl rollout status", "kubectl rollout restart",
                    "kubectl rollout history", "kubectl rollout undo",
                    "kubectl rollout pause/resume")
def test_rollout_restart_history_undo(kubectl: Kubectl, cluster: Cluster,
                                      namespace: str) -> None:
    make(cluster, namespace, "deployments", deployment("web", 2))
    status = kubectl("rollout", "status", "deploy/web", "--timeout=180s", timeout=240)
    assert status.stdout.endswith(ROLLED)
    first = {p["metadata"]["name"] for p in pods_of(cluster, namespace, "app=web")}
    restarted = kubectl("rollout", "restart", "deploy/web")
    assert restarted.stdout == "deployment.apps/web restarted\n"
    assert kubectl("rollout", "status", "deploy/web", "--timeout=180s",
                   timeout=240).stdout.endswith(ROLLED)
    wait_for(lambda: not first & {p["metadata"]["name"]
                                  for p in pods_of(cluster, namespace, "app=web")}, 90,
             "the first pods replaced")
    template = cluster.client.get("deployments", "web", namespace)["spec"]["template"]
    assert "kubectl.kubernetes.io/restartedAt" in template["metadata"]["annotations"]
    history = kubectl("rollout", "history", "deploy/web").stdout.splitlines()
    assert history[:4] == ["deployment.apps/web ", "REVISION  CHANGE-CAUSE",
                           "1         <none>", "2         <none>"]
    detail = kubectl("rollout", "history", "deploy/web", "--revision=2").stdout
    assert detail.startswith("deployment.apps/web with revision #2\nPod Template:\n")
    assert "kubectl.kubernetes.io/restartedAt" in detail
    assert kubectl("rollout", "undo", "deploy/web").stdout == "deployment.apps/web rolled back\n"
    assert kubectl("rollout", "status", "deploy/web", "--timeout=180s",
                   timeout=240).stdout.endswith(ROLLED)
    by_revision = revisions(cluster, namespace)
    assert sorted(by_revision) == ["2", "3"]  # revision 1 came back as 3
    back = cluster.client.get("deployments", "web", namespace)["spec"]["template"]
    assert "kubectl.kubernetes.io/restartedAt" not in (back["metadata"].get("annotations")
                                                       or {})
    assert by_revision["3"]["spec"]["replicas"] == 2 and by_revision["2"]["spec"]["replicas"] == 0
    missing = kubectl("rollout", "undo", "deploy/web", "--to-revision=9", ok=False)
    assert missing.stderr == "error: unable to find specified revision 9 in history\n"
    assert kubectl("rollout", "pause", "deploy/web").stdout == "deployment.apps/web paused\n"
    assert cluster.client.get("deployments", "web", namespace)["spec"]["paused"] is True
    assert kubectl("rollout", "resume", "deploy/web").stdout == "deployment.apps/web resumed\n"
    assert not cluster.client.get("deployments", "web", namespace)["spec"].get("paused")


@pytest.mark.compat("kubectl cordon/uncordon")
def test_cordon_keeps_new_pods_off_until_uncordoned(kubectl: Kubectl, cluster: Cluster,
                                                    namespace: str) -> None:
    node = cluster.node
    try:
        assert kubectl("cordon", node, namespaced=False).stdout == f"node/{node} cordoned\n"
        assert cluster.client.get("nodes", node)["spec"]["unschedulable"] is True
        wait_for(lambda: {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
                 in (cluster.client.get("nodes", node)["spec"].get("taints") or []), 60,
                 "the unschedulable taint")
        row = kubectl("get", "node", node, "--no-headers", namespaced=False).stdout.split()
        assert row[1] == "Ready,SchedulingDisabled"
        make(cluster, namespace, "pods", pod("waiting"))
        wait_for(lambda: any(e["reason"] == "FailedScheduling" and e["involvedObject"]["name"]
                             == "waiting" for e in cluster.client.list("events",
                                                                       namespace)["items"]),
                 60, "a FailedScheduling event")
        event = kubectl("get", "events", "--field-selector",
                        "involvedObject.name=waiting,reason=FailedScheduling",
                        "-o", "jsonpath={.items[0].message}").stdout
        assert event.startswith("0/1 nodes are available: 1 node(s) were unschedulable.")
        assert not cluster.client.get("pods", "waiting", namespace)["spec"].get("nodeName")
    finally:
        uncordoned = kubectl("uncordon", node, namespaced=False)
    assert uncordoned.stdout == f"node/{node} uncordoned\n"
    wait_pod_ready(cluster, namespace, "waiting")
    assert not cluster.client.get("nodes", node)["spec"].get("unschedulable")
    wait_for(lambda: not cluster.client.get("nodes", node)["spec"].get("taints"), 60,
             "the unschedulable taint removed")


@pytest.mark.compat("kubectl top")
def test_top_says_the_metrics_api_is_not_served(kubectl: Kubectl) -> None:
    for what in (("top", "pods"), ("top", "nodes")):
        refused = kubectl(*what, ok=False)
        assert refused.code == 1
        assert refused.stderr == "error: Metrics API not available\n"
