"""Objects and waits the read, watch, wait, delete and logs tests share.

Pods run `schooner/busybox:latest`, never pulled (no registry is reachable), with a
one-second grace period so deletions stay fast on a busy machine.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from apimachinery import errors
from cli.cluster.processes import wait_for
from tests.compat.conftest import IMAGE, KUBECTL, Cluster

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


class Stream:
    """A long-running kubectl (`get -w`, `logs -f`): its lines as they come, stopped by PID.

    kubectl runs with `-v=6` so its stderr says when the watch or log stream is open
    (`... watch=true 200 OK`), the moment a test may start making changes.
    """

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env)
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.readers = [threading.Thread(target=self._read, args=(pipe, into), daemon=True)
                        for pipe, into in ((self.proc.stdout, self.stdout),
                                           (self.proc.stderr, self.stderr))]
        for reader in self.readers:
            reader.start()

    @staticmethod
    def _read(pipe: IO[str] | None, into: list[str]) -> None:
        assert pipe is not None
        for line in pipe:
            into.append(line.rstrip("\n"))

    def wait_stderr(self, text: str, timeout: float = 60) -> None:
        wait_for(lambda: any(text in line for line in self.stderr), timeout,
                 f"kubectl to log {text!r}; stderr: {self.stderr[-5:]}")

    def wait_lines(self, count: int, timeout: float = 90) -> list[str]:
        """The first `count` stdout lines, once kubectl has printed them."""
        wait_for(lambda: len(self.stdout) >= count, timeout,
                 f"{count} lines from kubectl; so far: {self.stdout}")
        return self.stdout[:count]

    def wait_until(self, predicate: Callable[[list[str]], bool], what: str,
                   timeout: float = 90) -> list[str]:
        wait_for(lambda: predicate(list(self.stdout)), timeout,
                 f"{what}; kubectl printed: {self.stdout}")
        return list(self.stdout)

    def finish(self, timeout: float = 60) -> int:
        """kubectl's exit code once it ends by itself (a request timeout, a log's end)."""
        code = self.proc.wait(timeout)
        self._close()
        return code

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._close()

    def _close(self) -> None:
        for reader in self.readers:
            reader.join(10)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


@contextmanager
def kubectl_stream(cluster: Cluster, namespace: str, home: Path, *args: str
                   ) -> Iterator[Stream]:
    """Start the real kubectl with `args` in `namespace`; stop it however the block ends."""
    home.mkdir(exist_ok=True)
    argv = [str(KUBECTL), "--kubeconfig", str(cluster.kubeconfig), "-n", namespace, "-v=6",
            *args]
    stream = Stream(argv, {"HOME": str(home), "PATH": "/usr/bin:/bin"})
    try:
        yield stream
    finally:
        stream.stop()
