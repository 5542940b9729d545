"""Issue 3 end to end: a Deployment through scheduler, controller-manager and agent on Docker."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from dnslib import RCODE, DNSRecord

from apimachinery import errors
from apimachinery.client import Client
from cli.cluster.processes import wait_for
from cli.cluster.throwaway import local_cluster

pytestmark = pytest.mark.e2e
SCHOONER = str(Path(sys.executable).parent / "schooner")
TAG = f"e2e{os.getpid()}"
NODE = f"node-{TAG}"  # the node name local_cluster gives its agent


def httpd_deployment(name: str, replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {
                         "terminationGracePeriodSeconds": 2,
                         "containers": [{"name": "web", "image": "schooner/busybox:latest",
                                         "imagePullPolicy": "IfNotPresent",
                                         "command": ["httpd", "-f", "-v", "-p", "8080",
                                                     "-h", "/www"],
                                         "resources": {"requests": {"cpu": "10m"}}}]}}}}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, Path]]:
    with local_cluster(tmp_path_factory.mktemp("cluster"), TAG,
                       f"172.28.{150 + os.getpid() % 50}.0/24", "172.28.99.0/24") as started:
        yield started


def _running(client: Client, app: str, n: int) -> list[dict] | None:
    pods = client.list("pods", "default", label_selector=f"app={app}")["items"]
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    ok = [p for p in live if (p.get("status") or {}).get("phase") == "Running"
          and p["status"].get("podIP")]
    return ok if len(ok) == n and len(live) == n else None


def _containers(app: str) -> list[str]:
    """Pod names of this cluster's running `web` containers, from Docker itself."""
    out = subprocess.run(["docker", "ps", "--filter", f"label=schooner.node={NODE}",
                          "--filter", "label=schooner.container.name=web",
                          "--format", '{{.Label "schooner.pod.name"}}'],
                         capture_output=True, text=True, check=True).stdout.split()
    return [name for name in out if name.startswith(f"{app}-")]


def test_deployment_runs_scales_and_goes_away(stack: tuple[Client, Path]) -> None:
    client, _ = stack
    client.create("deployments", httpd_deployment("web", 3), "default")
    pods = wait_for(lambda: _running(client, "web", 3), 90, "3 web pods Running")
    ips = {p["status"]["podIP"] for p in pods}
    assert len(ips) == 3, "pods must have distinct IPs"
    for ip in ips:
        assert "schooner busybox" in httpx.get(f"http://{ip}:8080/", timeout=5).text
    assert len(_containers("web")) == 3
    first = pods[0]["metadata"]["name"]
    reasons = wait_for(lambda: _event_reasons(client, first) >= {"Scheduled", "Started"}
                       and _event_reasons(client, first), 30, f"events of {first}")
    assert {"Scheduled", "Created", "Started"} <= reasons

    client.patch("deployments", "web", {"spec": {"replicas": 5}}, "default",
                 subresource="scale")
    wait_for(lambda: _running(client, "web", 5), 90, "5 web pods Running")
    client.patch("deployments", "web", {"spec": {"replicas": 1}}, "default",
                 subresource="scale")
    wait_for(lambda: _running(client, "web", 1), 90, "1 web pod Running")
    wait_for(lambda: len(_containers("web")) == 1, 60, "containers scaled down to 1")
    deploy = client.get("deployments", "web", "default")
    wait_for(lambda: client.get("deployments", "web", "default")["status"].get(
        "availableReplicas") == 1, 30, f"deployment status: {deploy.get('status')}")

    client.delete("deployments", "web", "default")
    wait_for(lambda: not client.list("pods", "default", label_selector="app=web")["items"],
             90, "web pods gone")
    wait_for(lambda: not _containers("web"), 60, "web containers gone")
    with pytest.raises(errors.NotFound):
        client.get("deployments", "web", "default")


def test_logs_through_the_apiserver(stack: tuple[Client, Path]) -> None:
    client, kubeconfig = stack
    client.create("pods", {"metadata": {"name": "talker"}, "spec": {
        "terminationGracePeriodSeconds": 1,
        "containers": [{"name": "main", "image": "schooner/busybox:latest",
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["sh", "-c", "echo hello-from-schooner; sleep 3600"]}]}},
        "default")
    try:
        wait_for(lambda: client.get("pods", "talker", "default")["status"].get("phase")
                 == "Running", 60, "talker Running")
        out = wait_for(lambda: _logs([SCHOONER, "--kubeconfig", str(kubeconfig), "logs",
                                      "talker"]), 20, "schooner logs")
        assert "hello-from-schooner" in out
        if shutil.which("kubectl"):
            out = _logs(["kubectl", "--kubeconfig", str(kubeconfig), "logs", "talker"])
            assert "hello-from-schooner" in out
        follower = subprocess.Popen([SCHOONER, "--kubeconfig", str(kubeconfig), "logs", "-f",
                                     "talker"], stdout=subprocess.PIPE, text=True)
        try:  # -f keeps the stream open: the first line arrives and the process lives on
            assert follower.stdout is not None
            assert "hello-from-schooner" in follower.stdout.readline()
            assert follower.poll() is None
        finally:
            follower.kill()
            follower.communicate(timeout=10)  # reaps it and closes its pipe
        exec_out = subprocess.run([SCHOONER, "--kubeconfig", str(kubeconfig), "exec",
                                   "talker", "--", "echo", "inside"],
                                  capture_output=True, text=True, timeout=30)
        assert exec_out.returncode == 0 and "inside" in exec_out.stdout, exec_out.stderr
        # The agent (over TLS) was asked by the apiserver's own identity, never the admin's.
        agent_log = (kubeconfig.parent / "logs" / "agent.log").read_text()
        # (logs and the exec WebSocket are GETs on the agent's port: verb get)
        assert ("SubjectAccessReview user=kube-apiserver-kubelet-client verb=get "
                "resource=nodes subresource=proxy allowed=true") in agent_log
        assert "user=admin" not in agent_log
    finally:
        client.delete("pods", "talker", "default")
        wait_for(lambda: not _exists(client, "talker"), 60, "talker deleted")


def _event_reasons(client: Client, pod: str) -> set[str]:
    events = client.list("events", "default",
                         field_selector=f"involvedObject.name={pod}")["items"]
    return {e.get("reason", "") for e in events}


def _logs(argv: list[str]) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                          env={**os.environ, "HOME": os.environ.get("HOME", "/root")})
    return proc.stdout if proc.returncode == 0 and proc.stdout else ""


def _exists(client: Client, name: str) -> bool:
    try:
        client.get("pods", name, "default")
        return True
    except errors.NotFound:
        return False


def test_unschedulable_pod_says_why(stack: tuple[Client, Path]) -> None:
    client, _ = stack
    client.create("pods", {"metadata": {"name": "huge"}, "spec": {"containers": [
        {"name": "c", "image": "schooner/busybox:latest", "imagePullPolicy": "IfNotPresent",
         "resources": {"requests": {"cpu": "500"}}}]}}, "default")
    try:
        def condition() -> str | None:
            conds = client.get("pods", "huge", "default").get("status", {}).get(
                "conditions") or []
            found = [c for c in conds if c.get("type") == "PodScheduled"]
            return found[0].get("message") if found and found[0].get("reason") == \
                "Unschedulable" else None
        message = wait_for(condition, 30, "PodScheduled=False Unschedulable")
        assert message == "0/1 nodes are available: 1 Insufficient cpu."
        wait_for(lambda: "FailedScheduling" in _event_reasons(client, "huge"), 30,
                 "FailedScheduling event")
    finally:
        client.delete("pods", "huge", "default")


def test_statefulset_pod_comes_back_with_its_data(stack: tuple[Client, Path]) -> None:
    """db-0 writes to its claim once; after the pod is deleted, the new db-0 reads it."""
    client, kubeconfig = stack
    script = "test -f /data/boot || date +%s%N > /data/boot; cat /data/boot; sleep 3600"
    client.create("statefulsets", {"metadata": {"name": "db"}, "spec": {
        "serviceName": "db", "replicas": 1, "selector": {"matchLabels": {"app": "db"}},
        "volumeClaimTemplates": [{"metadata": {"name": "data"}}],
        "template": {"metadata": {"labels": {"app": "db"}}, "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "db", "image": "schooner/busybox:latest",
                            "imagePullPolicy": "IfNotPresent", "command": ["sh", "-c", script],
                            "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}}}},
        "default")
    try:
        def boot_line(uid: str | None = None) -> str:
            pod = client.get("pods", "db-0", "default")
            if uid and pod["metadata"]["uid"] == uid:
                return ""
            if (pod.get("status") or {}).get("phase") != "Running":
                return ""
            return _logs([SCHOONER, "--kubeconfig", str(kubeconfig), "logs", "db-0"]).strip()

        first = wait_for(boot_line, 60, "db-0 running with its boot stamp")
        old_uid = client.get("pods", "db-0", "default")["metadata"]["uid"]
        client.delete("pods", "db-0", "default")
        second = wait_for(lambda: boot_line(old_uid), 90, "a new db-0 with its boot stamp")
        assert second == first, "the new pod must read the data the old one wrote"
    finally:
        client.delete("statefulsets", "db", "default")
        wait_for(lambda: not client.list("pods", "default", label_selector="app=db")["items"],
                 60, "db pods gone")


@pytest.mark.skipif(os.geteuid() != 0, reason="the proxy adds ClusterIPs to lo: needs root")
def test_service_cluster_ip_balances_over_ready_pods(stack: tuple[Client, Path]) -> None:
    """Service -> ClusterIP -> Endpoints -> proxy on this host -> every replica answers."""
    import socket

    client, _ = stack
    client.create("deployments", httpd_deployment("svc", 3), "default")
    client.create("services", {"metadata": {"name": "svc"}, "spec": {
        "selector": {"app": "svc"}, "ports": [{"port": 80, "targetPort": 8080}]}}, "default")
    client.create("services", {"metadata": {"name": "empty"}, "spec": {
        "selector": {"app": "nothing"}, "ports": [{"port": 80}]}}, "default")
    try:
        ip = client.get("services", "svc", "default")["spec"]["clusterIP"]
        assert ip.startswith("172.28.99.")
        pods = wait_for(lambda: _running(client, "svc", 3), 90, "3 svc pods Running")
        names = {p["metadata"]["name"] for p in pods}

        def served_by() -> set[str]:
            seen = set()
            for _ in range(30):
                with httpx.Client(timeout=3) as http:  # a new connection each time
                    http.get(f"http://{ip}/")
                # busybox httpd does not say who it is: ask the logs instead (below)
            for name in names:
                logs = _logs([SCHOONER, "--kubeconfig", str(stack[1]), "logs", name])
                if "GET /" in logs or "response:200" in logs:
                    seen.add(name)
            return seen

        assert wait_for(lambda: served_by() == names, 60, "every replica served a request")
        empty_ip = client.get("services", "empty", "default")["spec"]["clusterIP"]
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((empty_ip, 80), timeout=2).close()
    finally:
        client.delete("services", "svc", "default")
        client.delete("services", "empty", "default")
        client.delete("deployments", "svc", "default")
        wait_for(lambda: not client.list("pods", "default", label_selector="app=svc")["items"],
                 90, "svc pods gone")


# -- the proxy and the cluster DNS on EndpointSlices made by hand ----------------------------

ES = "endpointslices.discovery.k8s.io"
DNS_IP = "172.28.99.10"  # the proxy's cluster DNS: the service range's 10th address


def _hand_slice(service: str, ip: str, **endpoint: object) -> dict:
    """A slice for a selector-less Service, managed by "someone else" than a controller."""
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": f"{service}-by-hand", "labels": {
                "kubernetes.io/service-name": service,
                "endpointslice.kubernetes.io/managed-by": "e2e.schooner.example"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [ip], "conditions": {"ready": True}, **endpoint}],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}


def _answers(cluster_ip: str) -> bool:
    try:
        return "schooner busybox" in httpx.get(f"http://{cluster_ip}/", timeout=3).text
    except httpx.HTTPError:
        return False


def _dns(qname: str) -> tuple[str, list[str]]:
    reply = DNSRecord.parse(DNSRecord.question(qname).send(DNS_IP, 53, timeout=2))
    return RCODE[reply.header.rcode], [str(rr.rdata) for rr in reply.rr]


@pytest.mark.skipif(os.geteuid() != 0, reason="the proxy adds ClusterIPs to lo: needs root")
def test_hand_made_slices_and_endpoints_reach_a_pod_through_the_proxy(
        stack: tuple[Client, Path]) -> None:
    """Selector-less Services pointed at a pod's IP by hand, no controller choosing it: an
    EndpointSlice, a v1 Endpoints (mirrored into a slice by the endpointslicemirroring
    controller) and, for a headless Service, a slice naming the endpoint's hostname; the
    ClusterIPs answer through the real proxy and the names through its DNS."""
    client, _ = stack
    client.create("pods", {"metadata": {"name": "backend"}, "spec": {
        "terminationGracePeriodSeconds": 1,
        "containers": [{"name": "web", "image": "schooner/busybox:latest",
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["httpd", "-f", "-p", "8080", "-h", "/www"]}]}}, "default")
    services = ("by-slice", "by-endpoints", "headless")
    try:
        pod_ip = wait_for(lambda: (s := client.get("pods", "backend", "default")["status"])
                          .get("phase") == "Running" and s.get("podIP"), 90, "backend Running")
        ips = {name: client.create("services", {"metadata": {"name": name}, "spec": {
            "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
            **({"clusterIP": "None"} if name == "headless" else {})}}, "default")
            ["spec"]["clusterIP"] for name in services}
        assert not _answers(ips["by-slice"])  # no endpoints yet: refused

        client.create(ES, _hand_slice("by-slice", pod_ip), "default")
        wait_for(lambda: _answers(ips["by-slice"]), 30, "by-slice answering")

        client.create("endpoints", {"metadata": {"name": "by-endpoints"}, "subsets": [{
            "addresses": [{"ip": pod_ip}],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}]}, "default")
        wait_for(lambda: _answers(ips["by-endpoints"]), 30, "by-endpoints answering")
        (mirrored,) = client.list(ES, "default", label_selector=(
            "kubernetes.io/service-name=by-endpoints"))["items"]
        assert mirrored["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == \
            "endpointslicemirroring-controller.k8s.io"

        client.create(ES, _hand_slice("headless", pod_ip, hostname="box"), "default")
        name = "headless.default.svc.cluster.local"
        wait_for(lambda: _dns(name) == ("NOERROR", [pod_ip]), 30, f"{name} -> {pod_ip}")
        assert _dns(f"box.{name}") == ("NOERROR", [pod_ip])

        client.delete(ES, "by-slice-by-hand", "default")
        wait_for(lambda: not _answers(ips["by-slice"]), 30, "by-slice refusing again")
    finally:
        for name in services:
            with contextlib.suppress(errors.NotFound):
                client.delete("services", name, "default")
        for kind, name in ((ES, "by-slice-by-hand"), (ES, "headless-by-hand"),
                           ("endpoints", "by-endpoints"), ("pods", "backend")):
            with contextlib.suppress(errors.NotFound):
                client.delete(kind, name, "default")
        wait_for(lambda: not _exists(client, "backend"), 60, "backend deleted")
        wait_for(lambda: not client.list(ES, "default", label_selector=(
            "kubernetes.io/service-name=by-endpoints"))["items"], 30, "mirrored slice gone")


IN_CLUSTER_IMAGE = "schooner/in-cluster-example:1"
IN_CLUSTER_MANIFEST = Path(__file__).parents[2] / "examples" / "in-cluster" / "in-cluster.yaml"


def test_a_pod_lists_pods_with_the_official_client(stack: tuple[Client, Path]) -> None:
    """examples/in-cluster: `load_incluster_config()` in a pod reaches the apiserver
    through the kubernetes Service with the pod's projected token and CA, and has exactly
    its ServiceAccount's rights (pods listed, Secrets a 403)."""
    client, kubeconfig = stack
    if subprocess.run(["docker", "image", "inspect", IN_CLUSTER_IMAGE],
                      capture_output=True, check=False).returncode != 0:
        pytest.skip(f"{IN_CLUSTER_IMAGE} is missing: make images")
    if os.geteuid() != 0:
        pytest.skip("no service proxy without root: the kubernetes Service has no route")
    try:
        endpoints = client.get("endpoints", "kubernetes", "default")
    except errors.NotFound:
        endpoints = {}
    ips = [a["ip"] for s in endpoints.get("subsets") or [] for a in s.get("addresses") or []]
    if not ips or all(ip.startswith("127.") for ip in ips):
        pytest.skip(f"default/kubernetes names no address a pod can reach ({ips}): the "
                    "apiserver's endpoints reconciler and pod-reachable address are not here")
    docs = [d for d in yaml.safe_load_all(IN_CLUSTER_MANIFEST.read_text()) if d]
    for doc in docs:
        if doc["kind"] == "Deployment":
            container = doc["spec"]["template"]["spec"]["containers"][0]
            container["env"] = [{"name": "INTERVAL_SECONDS", "value": "2"}]
            doc["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 1
    made = [client.create(_plural(d["kind"]), d, "default") for d in docs]
    try:
        pods = wait_for(lambda: _running(client, "pod-lister", 1), 60, "pod-lister Running")
        name = pods[0]["metadata"]["name"]
        out = wait_for(lambda: (log := _logs([SCHOONER, "--kubeconfig", str(kubeconfig),
                                              "logs", name]))
                       and "pods in default:" in log and "secrets: 403" in log and log,
                       40, "the program's pods list and its 403")
        assert name in out
    finally:
        for obj in reversed(made):
            with contextlib.suppress(errors.NotFound):
                client.delete(_plural(obj["kind"]), obj["metadata"]["name"], "default")


def _plural(kind: str) -> str:
    return {"ServiceAccount": "serviceaccounts", "Role": "roles",
            "RoleBinding": "rolebindings", "Deployment": "deployments"}[kind]
