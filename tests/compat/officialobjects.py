"""Bodies and helpers the official-client compatibility tests share.

Pods run `schooner/busybox:latest` with `imagePullPolicy: IfNotPresent` (no registry is
reachable) and a one-second grace period, so a deletion finishes quickly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cli.cluster.processes import wait_for
from tests.compat.conftest import IMAGE

SLEEP = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]


def pod_spec(command: list[str] | None = None) -> dict[str, Any]:
    """A busybox pod spec that runs `command` (by default: wait for SIGTERM)."""
    return {"containers": [{"name": "main", "image": IMAGE, "imagePullPolicy": "IfNotPresent",
                            "command": command or SLEEP}],
            "terminationGracePeriodSeconds": 1}


def pod(name: str, labels: dict[str, str] | None = None,
        command: list[str] | None = None, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {"app": name}},
            "spec": {**pod_spec(command), **spec}}


def workload_spec(app: str, replicas: int = 1) -> dict[str, Any]:
    """The selector, template and replicas a Deployment, ReplicaSet or StatefulSet shares."""
    return {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
            "template": {"metadata": {"labels": {"app": app}}, "spec": pod_spec()}}


def deployment(name: str, replicas: int = 1) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": workload_spec(name, replicas)}


def retry_on_conflict(write: Callable[[], Any], attempts: int = 5) -> Any:
    """Run a read-modify-write until no 409 Conflict: a controller writing the object's
    status in between moves its resourceVersion (client-go's RetryOnConflict)."""
    from kubernetes.client.exceptions import ApiException

    for _ in range(attempts - 1):
        try:
            return write()
        except ApiException as exc:
            if exc.status != 409:
                raise
    return write()


def status_of(exc: Any) -> dict[str, Any]:
    """The v1 Status an ApiException carries in its body."""
    body: dict[str, Any] = json.loads(exc.body)
    assert body["kind"] == "Status" and body["apiVersion"] == "v1", body
    return body


def gone(read: Callable[[], Any], timeout: float = 90) -> None:
    """Wait until `read` raises a 404 ApiException."""
    from kubernetes.client.exceptions import ApiException

    def absent() -> bool:
        try:
            read()
        except ApiException as exc:
            if exc.status == 404:
                return True
            raise
        return False

    wait_for(absent, timeout, "the object to be gone", interval=0.2)
