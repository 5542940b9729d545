"""kubectl describe for pods, deployments, services, nodes and namespaces: the fields
Kubernetes prints, filled from what the API holds, and the events Schooner records."""

from __future__ import annotations

import re

import pytest

from apimachinery.client import Client
from cli.cluster.processes import wait_for
from tests.compat.conftest import Cluster, Kubectl
from tests.compat.readkit import (
    deployment,
    make,
    pod,
    pods_of,
    service,
    wait_available,
    wait_pod_ready,
)

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def field(text: str, name: str) -> str:
    """The value printed after `Name:` on its line (the first such line)."""
    match = re.search(rf"^\s*{re.escape(name)}:\s*(.*)$", text, re.MULTILINE)
    assert match is not None, f"no {name}: in\n{text}"
    return match.group(1).strip()


def events(text: str) -> list[list[str]]:
    """The Events table's rows as [type, reason, ..., from, message]."""
    lines = text.split("Events:", 1)[1].splitlines()[3:]
    return [re.split(r"\s{2,}", line.strip()) for line in lines if line.strip()]


def reasons_recorded(client: Client, namespace: str, name: str, *wanted: str) -> bool:
    found = {e["reason"] for e in client.list("events", namespace)["items"]
             if e["involvedObject"]["name"] == name}
    return set(wanted) <= found


@pytest.mark.compat("kubectl describe pod")
def test_describe_pod(kubectl: Kubectl, cluster: Cluster, namespace: str) -> None:
    make(cluster, namespace, "pods", pod("p", {"app": "p", "tier": "x"}))
    wait_pod_ready(cluster, namespace, "p")
    wait_for(lambda: reasons_recorded(cluster.client, namespace, "p", "Scheduled", "Started"),
             60, "the pod's Scheduled and Started events")
    stored = cluster.client.get("pods", "p", namespace)
    out = kubectl("describe", "pod", "p").stdout
    assert field(out, "Name") == "p" and field(out, "Namespace") == namespace
    assert field(out, "Node") == f"{cluster.node}/{stored['status']['hostIP']}"
    assert field(out, "Status") == "Running"
    assert field(out, "IP") == stored["status"]["podIP"]
    assert "app=p" in out and "tier=x" in out
    status = stored["status"]["containerStatuses"][0]
    assert field(out, "Container ID") == status["containerID"]
    assert field(out, "Image") == "schooner/busybox:latest"
    assert field(out, "State") == "Running" and field(out, "Ready") == "True"
    assert field(out, "Restart Count") == "0"
    assert field(out, "QoS Class") == "BestEffort"
    rows = events(out)
    assert rows[0][:2] == ["Normal", "Scheduled"]
    assert rows[0][-1] == f"Successfully assigned {namespace}/p to {cluster.node}"
    reasons = [r[1] for r in rows]
    assert {"Pulled", "Created", "Started"} <= set(reasons)
    assert any(r[1] == "Started" and r[-2] == "kubelet" and r[-1] == "Started container main"
               for r in rows)


@pytest.mark.compat("kubectl describe deployment")
def test_describe_deployment(kubectl: Kubectl, cluster: Cluster, namespace: str) -> None:
    make(cluster, namespace, "deployments", deployment("web", 2))
    wait_available(cluster, namespace, "web")
    rs = cluster.client.list("replicasets", namespace)["items"][0]
    wait_for(lambda: reasons_recorded(cluster.client, namespace, "web", "ScalingReplicaSet"),
             60, "the ScalingReplicaSet event")
    out = kubectl("describe", "deployment", "web").stdout
    assert field(out, "Selector") == "app=web"
    assert field(out, "Replicas") == ("2 desired | 2 updated | 2 total | 2 available | "
                                      "0 unavailable")
    assert field(out, "StrategyType") == "RollingUpdate"
    assert field(out, "RollingUpdateStrategy") == "25% max unavailable, 25% max surge"
    assert re.search(r"^\s+Available\s+True\s+MinimumReplicasAvailable$", out, re.MULTILINE)
    assert re.search(r"^\s+Progressing\s+True\s+NewReplicaSetAvailable$", out, re.MULTILINE)
    assert field(out, "NewReplicaSet") == f"{rs['metadata']['name']} (2/2 replicas created)"
    assert events(out) == [["Normal", "ScalingReplicaSet", events(out)[0][2],
                            "deployment-controller",
                            f"Scaled up replica set {rs['metadata']['name']} from 0 to 2"]]
    described = kubectl("describe", "rs", rs["metadata"]["name"]).stdout
    assert field(described, "Controlled By") == "Deployment/web"
    created = sorted(r[-1] for r in events(described) if r[1] == "SuccessfulCreate")
    assert created == sorted(f"Created pod: {p['metadata']['name']}"
                             for p in pods_of(cluster, namespace, "app=web"))


def slice_addresses(client: Client, namespace: str, service: str) -> list[str]:
    """The addresses in the Service's EndpointSlices, as the controller wrote them."""
    slices = client.list("endpointslices", namespace,
                         label_selector=f"kubernetes.io/service-name={service}")["items"]
    return sorted(e["addresses"][0] for s in slices for e in s.get("endpoints") or [])


@pytest.mark.compat("kubectl describe service")
def test_describe_service(kubectl: Kubectl, cluster: Cluster, namespace: str) -> None:
    make(cluster, namespace, "deployments", deployment("web", 2))
    make(cluster, namespace, "services", service("web", 8080))
    wait_available(cluster, namespace, "web")
    ips = sorted(p["status"]["podIP"] for p in pods_of(cluster, namespace, "app=web"))
    wait_for(lambda: slice_addresses(cluster.client, namespace, "web") == ips, 60,
             f"the EndpointSlice listing {ips}")
    svc = cluster.client.get("services", "web", namespace)
    out = kubectl("describe", "svc", "web").stdout
    assert field(out, "Type") == "ClusterIP" and field(out, "Selector") == "app=web"
    assert field(out, "IP") == svc["spec"]["clusterIP"]
    assert field(out, "Port") == "<unset>  8080/TCP"
    assert field(out, "TargetPort") == "8080/TCP"
    assert field(out, "Session Affinity") == "None"
    # kubectl 1.32 reads a service's endpoints from its EndpointSlices.
    assert sorted(field(out, "Endpoints").split(",")) == [f"{ip}:8080" for ip in ips]


@pytest.mark.compat("kubectl describe node", "kubectl describe namespace")
def test_describe_node_and_namespace(kubectl: Kubectl, cluster: Cluster,
                                     namespace: str) -> None:
    make(cluster, namespace, "pods", pod("p"))
    wait_pod_ready(cluster, namespace, "p")
    node = cluster.client.get("nodes", cluster.node)
    out = kubectl("describe", "node", cluster.node, namespaced=False).stdout
    assert field(out, "Name") == cluster.node
    assert f"kubernetes.io/hostname={cluster.node}" in out
    assert field(out, "Unschedulable") == "false"
    assert re.search(r"^\s+Ready\s+True\s+", out, re.MULTILINE)
    assert field(out, "InternalIP") == next(a["address"] for a in node["status"]["addresses"]
                                            if a["type"] == "InternalIP")
    assert field(out, "cpu") == str(node["status"]["capacity"]["cpu"])
    assert re.search(rf"^\s+{namespace}\s+p\s+0 \(0%\)", out, re.MULTILINE)
    assert "Allocated resources:" in out
    ns = kubectl("describe", "namespace", namespace, namespaced=False).stdout
    assert field(ns, "Name") == namespace and field(ns, "Status") == "Active"
    missing = kubectl("describe", "pod", "nope", ok=False)
    assert missing.code == 1
    assert missing.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'


@pytest.mark.compat("kubectl events", "kubectl get events")
def test_events_for_an_object(kubectl: Kubectl, cluster: Cluster, namespace: str) -> None:
    make(cluster, namespace, "pods", pod("p"))
    wait_pod_ready(cluster, namespace, "p")
    wait_for(lambda: reasons_recorded(cluster.client, namespace, "p", "Scheduled", "Started"),
             60, "the pod's events")
    recorded = {e["reason"] for e in cluster.client.list("events", namespace)["items"]}
    out = kubectl("events", "--for", "pod/p").stdout.splitlines()
    assert re.split(r"\s{2,}", out[0].strip()) == ["LAST SEEN", "TYPE", "REASON", "OBJECT",
                                                   "MESSAGE"]
    rows = [re.split(r"\s{2,}", line.strip()) for line in out[1:]]
    assert {r[2] for r in rows} == recorded
    assert all(r[3] == "Pod/p" for r in rows)
    assert any(r[2] == "Scheduled" and r[4] == f"Successfully assigned {namespace}/p to "
               f"{cluster.node}" for r in rows)
    listed = kubectl("get", "events", "--field-selector", "reason=Started",
                     "-o", "jsonpath={.items[*].involvedObject.name}").stdout
    assert listed == "p"
    table = kubectl("get", "events").stdout.splitlines()
    assert re.split(r"\s{2,}", table[0].strip()) == ["LAST SEEN", "TYPE", "REASON", "OBJECT",
                                                     "MESSAGE"]
    assert any("pod/p" in line and "Started" in line for line in table[1:])
