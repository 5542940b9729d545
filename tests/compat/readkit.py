"""Objects and waits the read, watch, wait, delete and logs tests share.

Pods run `schooner/busybox:latest`, never pulled (no registry is reachable), with a
one-second grace period so deletions stay fast on a busy machine.
"""

from __future__ import annotations

from typing import Any

from apimachinery import errors
from cli.cluster.processes import wait_for
from tests.compat.conftest import IMAGE, Cluster

Object = dict[str, Any]
SLEEP = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]


def container(name: str = "main", command: list[str] | None = None) -> Object:
    return {"name": name, "image": IMAGE, "imagePullPolicy": "IfNotPresent",
            "command": command or SLEEP}


def pod_spec(*containers: Object, restart: str = "Always") -> Object:
    return {"containers": list(containers) or [container()], "restartPolicy": restart,
            "terminationGracePeriodSeconds": 1}


def pod(name: str, labels: dict[str, str] | None = None, *containers: Object,
        restart: str = "Always") -> Object:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {"app": name}},
            "spec": pod_spec(*containers, restart=restart)}


def deployment(name: str, replicas: int = 2, *containers: Object,
               labels: dict[str, str] | None = None) -> Object:
    match = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": {**match, **(labels or {})}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": match},
                     "template": {"metadata": {"labels": match},
                                  "spec": pod_spec(*containers)}}}


def service(name: str, port: int = 80) -> Object:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": name}, "ports": [{"port": port, "targetPort": port}]}}


def make(cluster: Cluster, namespace: str, resource: str, obj: Object) -> Object:
    return cluster.client.create(resource, obj, namespace)


def pods_of(cluster: Cluster, namespace: str, selector: str) -> list[Object]:
    return list(cluster.client.list("pods", namespace, label_selector=selector)["items"])


def pod_ready(cluster: Cluster, namespace: str, name: str) -> bool:
    try:
        status = cluster.client.get("pods", name, namespace).get("status") or {}
    except errors.NotFound:
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in status.get("conditions") or [])


def wait_pod_ready(cluster: Cluster, namespace: str, name: str) -> None:
    wait_for(lambda: pod_ready(cluster, namespace, name), 120, f"pod {name} Ready")


def wait_available(cluster: Cluster, namespace: str, name: str, replicas: int = 2) -> Object:
    def ready() -> Object | None:
        dep = cluster.client.get("deployments", name, namespace)
        status = dep.get("status") or {}
        done = (status.get("availableReplicas") == replicas
                and status.get("updatedReplicas") == replicas
                and status.get("replicas") == replicas)
        return dep if done else None
    return wait_for(ready, 180, f"deployment {name} with {replicas} available")


def gone(cluster: Cluster, resource: str, name: str, namespace: str) -> bool:
    try:
        cluster.client.get(resource, name, namespace)
    except errors.NotFound:
        return True
    return False
