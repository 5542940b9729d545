"""Lab fixtures: one SchoonerCluster of three Docker-in-Docker nodes for the whole session.

Test files run in name order, and the one that stops a node (`test_node_failure`)
runs last and starts the node again; the ones that kill, freeze or stop control-plane
containers start them again and wait for a healthy lab before they end.

The cluster is `lab.testing.SchoonerCluster`, the same module users get for
their own tests, so the lab tests exercise it too. It needs the node image
(`make image-node`, which `make test` builds); without it these tests fail with
that instruction rather than skip, since the lab is part of what `make test`
promises.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from apimachinery import errors
from apimachinery.client import Client
from apimachinery.meta import Object
from cli.cluster.processes import wait_for
from lab.testing import SchoonerCluster


@pytest.fixture(scope="session")
def cluster() -> Iterator[SchoonerCluster]:
    """The lab as `make lab` runs it: 3 etcd members and 2 apiservers, every component
    given both (the control-plane faults of test_lab_control_plane_faults need them)."""
    with SchoonerCluster(nodes=3, etcd_members=3, apiservers=2) as lab:
        yield lab


@pytest.fixture(scope="session")
def client(cluster: SchoonerCluster) -> Iterator[Client]:
    with cluster.client() as c:
        yield c


@pytest.fixture
def namespace(client: Client) -> Iterator[str]:
    name = f"lab-{uuid.uuid4().hex[:6]}"
    client.create("namespaces", {"metadata": {"name": name}})
    yield name
    with contextlib.suppress(errors.NotFound):
        client.delete("namespaces", name)


def pod_exec(client: Client, namespace: str, pod: str, command: list[str]) -> tuple[int, str]:
    """Run a command in a pod through the apiserver and its node's agent (kubectl exec)."""
    resp = client.request("POST", f"/api/v1/namespaces/{namespace}/pods/{pod}/exec",
                          json={"command": command})
    body = json.loads(resp.content)
    return int(body.get("exitCode", 0)), str(body.get("output", ""))


# Run inside a web-example pod (it has Python): GET each URL N times, print one JSON
# line per answer ({"pod": ...} from the app, or {"error": ...}).
FETCH = """
import json, sys, time, urllib.request
urls, count = sys.argv[1].split(","), int(sys.argv[2])
for url in urls:
    for _ in range(count):
        start = time.monotonic()
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                out = json.loads(r.read())
        except Exception as e:
            out = {"error": f"{type(e).__name__}: {e}"}
        out["url"], out["seconds"] = url, round(time.monotonic() - start, 3)
        print(json.dumps(out))
"""


def fetch(client: Client, namespace: str, pod: str, urls: list[str],
          count: int = 1) -> list[Object]:
    code, out = pod_exec(client, namespace, pod,
                         ["python3", "-c", FETCH, ",".join(urls), str(count)])
    assert code == 0, out
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def wait_serving(client: Client, namespace: str, from_pod: str, pods: list[Object],
                 timeout: float = 60) -> None:
    """Until every pod's server answers by pod IP from `from_pod` (a pod may be Ready
    a moment before its server listens, when it has no readiness probe)."""
    urls = [f"http://{p['status']['podIP']}:8080/" for p in pods]
    wait_for(lambda: all("pod" in a for a in fetch(client, namespace, from_pod, urls)),
             timeout, f"{len(urls)} pods answering from {from_pod}", 0.5)


def deployment(name: str, replicas: int, image: str = "schooner/web-example:1") -> Object:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [{
                         "name": "web", "image": image, "imagePullPolicy": "IfNotPresent",
                         "ports": [{"name": "http", "containerPort": 8080}],
                         "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080},
                                            "periodSeconds": 1},
                         "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}}


def service(name: str, *, selector: dict[str, str] | None = None, type_: str = "ClusterIP",
            **port: Any) -> Object:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"type": type_, "selector": selector if selector is not None else
                     {"app": name},
                     "ports": [{"name": "http", "port": 80, "targetPort": "http", **port}]}}


def ready_pods(client: Client, namespace: str, app: str, count: int,
               timeout: float = 180) -> list[Object]:
    def check() -> list[Object] | None:
        pods = [p for p in client.list("pods", namespace, label_selector=f"app={app}")["items"]
                if not p["metadata"].get("deletionTimestamp")
                and any(c["type"] == "Ready" and c["status"] == "True"
                        for c in p.get("status", {}).get("conditions", []))]
        return pods if len(pods) == count else None
    return wait_for(check, timeout, f"{count} ready pods of {app} in {namespace}", 0.5)


def ready_endpoints(client: Client, namespace: str, name: str, count: int,
                    timeout: float = 60) -> list[str]:
    def check() -> list[str] | None:
        try:
            eps = client.get("endpoints", name, namespace)
        except errors.NotFound:
            return None
        ips = [a["ip"] for s in eps.get("subsets") or [] for a in s.get("addresses") or []]
        return ips if len(ips) == count else None
    return wait_for(check, timeout, f"{count} ready endpoints of {namespace}/{name}", 0.5)
