"""A backup restored into a fresh cluster: the workloads come back, nothing runs twice.

A whole local cluster (etcd, apiserver, controller-manager, scheduler, agent on
Docker, the proxy as root) runs a Deployment of 2 busybox httpd pods behind a
Service, a ConfigMap and a Secret. `schooner backup` takes the snapshot; then
a third replica is added (after the backup: it must not survive the restore).
The control plane goes down as a whole (the agent too; the pods' containers
keep running, as in a control-plane outage), etcd's data dir is wiped, and
`schooner restore` + `schooner up` bring the cluster back on the snapshot. etcd is
private (TLS, client certificates): the backup presents the apiserver's etcd client
certificate, and the wiped etcd certificates are signed again from the kept etcd CA.

Checked: every object is back with its uid and data; the two backed-up pods'
containers are the same containers (IDs), still running, never restarted; the
third replica's container, whose pod the restored cluster lacks, is removed by
the agent; no other container appears over a settle period; the Deployment is
Available at 2 replicas and the Service answers through its ClusterIP. Printed
with `-s`: backup size and time, and restore-to-serving time (docs/reliability.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest

from apimachinery.client import Client
from cli.cluster import local
from cli.cluster.processes import wait_for
from cli.cluster.throwaway import local_cluster
from tests.e2e.conftest import free_subnet

pytestmark = pytest.mark.chaos
SCHOONER = str(Path(sys.executable).parent / "schooner")
TAG = f"br{os.getpid()}"
NODE = f"node-{TAG}"  # the node name local_cluster gives its agent
SERVICE_CIDR = "172.28.97.0/24"
SETTLE = 4.0
IMAGE = "schooner/busybox:latest"


def deployment(replicas: int) -> dict[str, Any]:
    return {"metadata": {"name": "web"}, "spec": {
        "replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "web", "image": IMAGE, "imagePullPolicy": "IfNotPresent",
                            "command": ["httpd", "-f", "-p", "8080", "-h", "/www"],
                            "envFrom": [{"configMapRef": {"name": "settings"}},
                                        {"secretRef": {"name": "password"}}],
                            "readinessProbe": {"tcpSocket": {"port": 8080},
                                               "periodSeconds": 1}}]}}}}


def containers() -> dict[str, tuple[str, str, str]]:
    """Every container of this cluster's node (the pods' sandboxes too), running or not:
    id -> (pod, container, state)."""
    out = subprocess.run(["docker", "ps", "-a", "--no-trunc", "--filter",
                          f"label=schooner.node={NODE}", "--format",
                          '{{.ID}} {{.Label "schooner.pod.name"}} '
                          '{{.Label "schooner.container.name"}}_ {{.State}}'],
                         capture_output=True, text=True, check=True).stdout
    return {cid: (pod, name.removesuffix("_"), state)
            for cid, pod, name, state in (ln.split() for ln in out.splitlines())}


def ready_pods(client: Client, n: int) -> list[dict[str, Any]] | None:
    pods = [p for p in client.list("pods", "default", label_selector="app=web")["items"]
            if not p["metadata"].get("deletionTimestamp")]
    ready = [p for p in pods if any(c["type"] == "Ready" and c["status"] == "True"
                                    for c in (p.get("status") or {}).get("conditions") or [])]
    return ready if len(ready) == n == len(pods) else None


def available(client: Client, n: int) -> bool:
    status = client.get("deployments", "web", "default").get("status") or {}
    return status.get("availableReplicas") == n and any(
        c["type"] == "Available" and c["status"] == "True" for c in status.get("conditions", []))


def identity(client: Client) -> dict[str, tuple[str, Any]]:
    """What must come back unchanged: each object's uid and content that matters."""
    out: dict[str, tuple[str, Any]] = {}
    for kind, name in (("configmaps", "settings"), ("secrets", "password"),
                       ("deployments", "web"), ("services", "web")):
        obj = client.get(kind, name, "default")
        out[f"{kind}/{name}"] = (obj["metadata"]["uid"], obj.get("data") or obj["spec"])
    for p in client.list("pods", "default", label_selector="app=web")["items"]:
        out[f"pods/{p['metadata']['name']}"] = (p["metadata"]["uid"], p["spec"]["nodeName"])
    return out


def serves(ip: str) -> bool:
    try:
        return httpx.get(f"http://{ip}/", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def schooner(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SCHOONER, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(os.geteuid() != 0, reason="the proxy adds ClusterIPs to lo: needs root")
def test_a_backup_restored_into_a_fresh_cluster(tmp_path: Path) -> None:
    try:
        engine = docker.from_env()
        engine.images.get(IMAGE)
    except docker.errors.DockerException as exc:
        pytest.skip(f"no Docker engine or no {IMAGE}: {exc}")
    try:
        cidr = free_subnet(engine)
    finally:
        engine.close()
    home = tmp_path / "cluster"
    with local_cluster(home, TAG, cidr, SERVICE_CIDR) as (client, kubeconfig):
        client.create("configmaps", {"metadata": {"name": "settings"},
                                     "data": {"GREETING": "ahoy"}}, "default")
        client.create("secrets", {"metadata": {"name": "password"},
                                  "stringData": {"PASSWORD": "s3cret"}}, "default")
        client.create("deployments", deployment(2), "default")
        client.create("services", {"metadata": {"name": "web"}, "spec": {
            "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}},
            "default")
        ip = client.get("services", "web", "default")["spec"]["clusterIP"]
        wait_for(lambda: ready_pods(client, 2), 60, "2 web pods Ready")
        wait_for(lambda: available(client, 2), 30, "web Available")
        wait_for(lambda: serves(ip), 30, f"the Service at {ip} answering")
        before, kept = identity(client), containers()
        assert len({pod for pod, _, _ in kept.values()}) == 2, kept
        assert all(state == "running" for _, _, state in kept.values()), kept

        archive = tmp_path / "backup.tar.gz"
        started = time.monotonic()
        done = schooner("backup", str(archive), "--home", str(home))
        backup_seconds = time.monotonic() - started
        assert done.returncode == 0, done.stderr

        client.patch("deployments", "web", {"spec": {"replicas": 3}}, "default",
                     subresource="scale")  # after the backup: gone after the restore
        wait_for(lambda: ready_pods(client, 3), 60, "a third web pod Ready")
        extra = set(containers()) - set(kept)
        assert extra

        local.down(home)  # the whole control plane and the agent; the containers run on
        running = {cid for cid, (_, _, state) in containers().items() if state == "running"}
        assert running == kept.keys() | extra
        refused = schooner("restore", str(archive), "--home", str(home))
        assert refused.returncode == 1 and "already holds a cluster's data" in refused.stderr
        # a fresh cluster: no etcd data, no etcd CA or certificates (the archive keeps the
        # CA; `up` signs etcd's and the apiserver's etcd client certificates again from it)
        subprocess.run(["rm", "-rf", str(home / "etcd"), str(home / "pki" / "etcd"),
                        *map(str, (home / "pki").glob("apiserver-etcd-client.*"))], check=True)

        started = time.monotonic()
        done = schooner("restore", str(archive), "--home", str(home))
        assert done.returncode == 0, done.stderr
        restore_seconds = time.monotonic() - started
        local.up(home, timeout=60)
        with Client.from_kubeconfig(str(kubeconfig)) as restored:
            wait_for(lambda: ready_pods(restored, 2) and available(restored, 2)
                     and serves(ip), 60, "2 web pods Ready and the Service answering")
            serving_seconds = time.monotonic() - started
            wait_for(lambda: set(containers()) == set(kept), 30,
                     "the third replica's container removed, the others kept")
            synced_seconds = time.monotonic() - started
            deadline = time.monotonic() + SETTLE
            while time.monotonic() < deadline:  # nothing started twice while it settles
                now = containers()
                assert now == kept, f"containers changed: {kept} -> {now}"
                assert available(restored, 2), restored.get("deployments", "web", "default")
                time.sleep(0.5)
            assert identity(restored) == before
            pods = restored.list("pods", "default", label_selector="app=web")["items"]
            ids = {s["containerID"].removeprefix("docker://") for p in pods
                   for s in p["status"]["containerStatuses"]}
            assert ids == {cid for cid, (_, name, _) in kept.items() if name == "web"}
            assert all(s["restartCount"] == 0 for p in pods
                       for s in p["status"]["containerStatuses"])
            assert available(restored, 2)
        print(f"\nbackup: {archive.stat().st_size} bytes in {backup_seconds:.2f}s; "
              f"`schooner restore` {restore_seconds:.2f}s; from it to 2 pods Ready, Available "
              f"and the Service answering: {serving_seconds:.2f}s; to the third replica's "
              f"container removed: {synced_seconds:.2f}s")
