"""The controller-manager as a real process against a real etcd and apiserver.

No agent and no scheduler run here: where a test needs what they would do,
it does it itself (binds pods to a node, marks pods Running and Ready through
the status subresource, deletes terminating pods with gracePeriodSeconds=0).
This module runs its own etcd and apiserver, so the controllers never touch
objects other test modules leave behind on the shared ones.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from apimachinery import errors
from apimachinery.client import Client
from apimachinery.meta import Object, now_rfc3339
from cli.cluster.processes import (
    Apiserver,
    Process,
    own_control_plane,
    start_controller_manager,
    wait_for,
)

TIMEOUT = 30.0


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apiserver]:
    """This module's own etcd and apiserver (overrides the session-wide one)."""
    with own_control_plane(tmp_path_factory.mktemp("ctl")) as server:
        yield server


def start_manager(kubeconfig: Path, log_path: Path) -> Process:
    """`python -m controllers` with every controller, ready once its caches have synced."""
    return start_controller_manager(kubeconfig, log_path, timeout=TIMEOUT)


@pytest.fixture
def manager(apiserver: Apiserver, tmp_path: Path) -> Iterator[tuple[Process, Path]]:
    """A controller-manager of this test's own; stopped by its PID afterwards."""
    kubeconfig = apiserver.component_kubeconfig(tmp_path / "kubeconfig", "controller-manager")
    proc = start_manager(kubeconfig, tmp_path / "controller-manager.log")
    try:
        yield proc, kubeconfig
    finally:
        proc.stop()


# -- helpers ------------------------------------------------------------------------------------

def template(labels: dict[str, str], image: str = "busybox:1") -> Object:
    return {"metadata": {"labels": labels},
            "spec": {"containers": [{"name": "main", "image": image}]}}


def replica_set(name: str, replicas: int) -> Object:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": template(labels)}}


def deployment(name: str, replicas: int, image: str = "busybox:1") -> Object:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": template(labels, image)}}


def pods(client: Client, ns: str, *, live_only: bool = False) -> list[Object]:
    items = client.list("pods", ns)["items"]
    if live_only:
        items = [p for p in items if not p["metadata"].get("deletionTimestamp")]
    return items


def replica_sets(client: Client, ns: str) -> list[Object]:
    return client.list("replicasets", ns)["items"]


def exists(client: Client, resource: str, name: str, ns: str | None = None) -> Object | None:
    try:
        return client.get(resource, name, ns)
    except errors.NotFound:
        return None


def mark_ready(client: Client, ns: str, *, image: str | None = None) -> None:
    """What an agent would report: every live pod (of `image`, if given) Running and Ready."""
    for pod in pods(client, ns, live_only=True):
        conds = (pod.get("status") or {}).get("conditions") or []
        if image is not None and pod["spec"]["containers"][0]["image"] != image:
            continue
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds):
            continue
        pod["status"] = {**(pod.get("status") or {}), "phase": "Running", "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": now_rfc3339()}]}
        try:
            client.update_status("pods", pod)
        except (errors.Conflict, errors.NotFound):
            continue


def owner_of(obj: Object) -> Object | None:
    return next((r for r in obj["metadata"].get("ownerReferences") or []
                 if r.get("controller")), None)


def while_ready(client: Client, ns: str, check: Callable[[], Any]) -> Callable[[], Any]:
    """A wait_for condition that plays the agent (marks pods ready) before each check."""
    def condition() -> Any:
        mark_ready(client, ns)
        return check()
    return condition


class PodCounter(threading.Thread):
    """Counts a namespace's pods over and over, remembering the most ever seen."""

    def __init__(self, apiserver: Apiserver, ns: str) -> None:
        super().__init__(daemon=True)
        self.apiserver, self.ns = apiserver, ns
        self.max_seen, self.last = 0, 0
        self.stopped = threading.Event()

    def run(self) -> None:
        with self.apiserver.client() as client:
            while not self.stopped.is_set():
                self.last = len(pods(client, self.ns))
                self.max_seen = max(self.max_seen, self.last)
                self.stopped.wait(0.01)

    def stop(self) -> None:
        self.stopped.set()
        self.join(10)


# -- tests --------------------------------------------------------------------------------------

def test_replicaset_creates_and_scales_pods(manager: Any, client: Client, namespace: str) -> None:
    rs = client.create("replicasets", replica_set("web", 3), namespace)
    wait_for(lambda: len(pods(client, namespace)) == 3, TIMEOUT, "3 pods")
    for pod in pods(client, namespace):
        assert owner_of(pod) == {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
                                 "uid": rs["metadata"]["uid"], "controller": True,
                                 "blockOwnerDeletion": True}
        assert pod["metadata"]["name"].startswith("web-")
        assert pod["metadata"]["labels"] == {"app": "web"}
    wait_for(lambda: client.get("replicasets", "web", namespace).get("status", {})
             .get("replicas") == 3, TIMEOUT, "status.replicas 3")
    assert client.get("replicasets", "web", namespace)["status"]["observedGeneration"] == 1

    client.patch("replicasets", "web", {"spec": {"replicas": 5}}, namespace)
    wait_for(lambda: len(pods(client, namespace)) == 5, TIMEOUT, "5 pods")
    client.patch("replicasets", "web", {"spec": {"replicas": 1}}, namespace)
    wait_for(lambda: len(pods(client, namespace)) == 1, TIMEOUT, "1 pod")
    wait_for(while_ready(client, namespace, lambda: client.get(
        "replicasets", "web", namespace)["status"].get("availableReplicas") == 1),
        TIMEOUT, "1 available replica")
    status = client.get("replicasets", "web", namespace)["status"]
    assert (status["replicas"], status["readyReplicas"], status["observedGeneration"]) == \
        (1, 1, 3)


def test_deployment_rolls_out_a_new_template(manager: Any, client: Client,
                                             namespace: str) -> None:
    d = client.create("deployments", deployment("app", 3), namespace)
    wait_for(lambda: len(replica_sets(client, namespace)) == 1 and
             len(pods(client, namespace)) == 3, TIMEOUT, "1 ReplicaSet and 3 pods")
    (first,) = replica_sets(client, namespace)
    pod_hash = first["metadata"]["labels"]["pod-template-hash"]
    assert first["metadata"]["name"] == f"app-{pod_hash}"
    assert first["spec"]["selector"]["matchLabels"] == {"app": "app",
                                                       "pod-template-hash": pod_hash}
    assert first["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] == pod_hash
    assert first["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    assert owner_of(first)["uid"] == d["metadata"]["uid"]  # type: ignore[index]
    wait_for(while_ready(client, namespace, lambda: client.get(
        "deployments", "app", namespace).get("status", {}).get("availableReplicas") == 3),
        TIMEOUT, "3 available replicas")
    current = client.get("deployments", "app", namespace)
    assert current["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"

    client.patch("deployments", "app", {"spec": {"template": {"spec": {"containers": [
        {"name": "main", "image": "busybox:2"}]}}}}, namespace)

    def rolled_out() -> bool:
        d = client.get("deployments", "app", namespace)
        s = d.get("status", {})
        return (s.get("observedGeneration") == d["metadata"]["generation"]
                and s.get("updatedReplicas") == 3 and s.get("replicas") == 3
                and s.get("availableReplicas") == 3)
    wait_for(while_ready(client, namespace, rolled_out), TIMEOUT, "rollout to finish")
    by_revision = {rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: rs
                   for rs in replica_sets(client, namespace)}
    assert set(by_revision) == {"1", "2"}
    assert by_revision["1"]["spec"]["replicas"] == 0
    assert by_revision["2"]["spec"]["replicas"] == 3
    assert by_revision["2"]["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:2"
    final = client.get("deployments", "app", namespace)
    assert final["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    conditions = {c["type"]: c for c in final["status"]["conditions"]}
    assert conditions["Available"]["status"] == "True"
    wait_for(lambda: {c["type"]: c["reason"] for c in client.get(
        "deployments", "app", namespace)["status"]["conditions"]}.get("Progressing") ==
        "NewReplicaSetAvailable", TIMEOUT, "Progressing=NewReplicaSetAvailable")
    wait_for(lambda: all(p["spec"]["containers"][0]["image"] == "busybox:2"
                         for p in pods(client, namespace)), TIMEOUT, "only new pods left")


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_rollout_status_history_and_undo(manager: Any, apiserver: Apiserver,
                                                 client: Client, namespace: str,
                                                 tmp_path: Path) -> None:
    """The real kubectl: rollout status waits on our status, undo reuses the old ReplicaSet."""
    config = apiserver.kubeconfig(tmp_path / "kubectl-config")

    def kubectl(*args: str) -> str:
        proc = subprocess.run(
            [str(shutil.which("kubectl")), "--kubeconfig", str(config), "-n", namespace, *args],
            capture_output=True, text=True, timeout=60,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
        assert proc.returncode == 0, f"kubectl {args}: {proc.stderr}"
        return proc.stdout

    def rolled_out(revision: str) -> Callable[[], bool]:
        def check() -> bool:
            d = client.get("deployments", "app", namespace)
            s = d.get("status", {})
            return (d["metadata"].get("annotations", {}).get(
                "deployment.kubernetes.io/revision") == revision
                and s.get("observedGeneration") == d["metadata"]["generation"]
                and s.get("updatedReplicas") == s.get("availableReplicas") == s.get("replicas")
                == 2)
        return while_ready(client, namespace, check)

    client.create("deployments", deployment("app", 2), namespace)
    wait_for(rolled_out("1"), TIMEOUT, "revision 1 rolled out")
    assert 'deployment "app" successfully rolled out' in kubectl(
        "rollout", "status", "deploy/app", "--timeout=20s")
    kubectl("set", "image", "deploy/app", "main=busybox:2")
    wait_for(rolled_out("2"), TIMEOUT, "revision 2 rolled out")
    history = kubectl("rollout", "history", "deploy/app")
    assert "1 " in history and "2 " in history, history

    assert "rolled back" in kubectl("rollout", "undo", "deploy/app")
    wait_for(rolled_out("3"), TIMEOUT, "the undo (revision 3) rolled out")
    revisions = {rs["spec"]["template"]["spec"]["containers"][0]["image"]:
                 rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                 for rs in replica_sets(client, namespace)}
    assert revisions == {"busybox:1": "3", "busybox:2": "2"}  # reused, not cloned


def test_background_delete_collects_replicasets_and_pods(manager: Any, client: Client,
                                                         namespace: str) -> None:
    client.create("deployments", deployment("gone", 2), namespace)
    wait_for(lambda: len(pods(client, namespace)) == 2, TIMEOUT, "2 pods")
    client.delete("deployments", "gone", namespace)
    wait_for(lambda: not replica_sets(client, namespace) and not pods(client, namespace),
             TIMEOUT, "ReplicaSets and pods garbage-collected")


def test_foreground_delete_removes_dependents_before_the_owner(
        manager: Any, client: Client, namespace: str) -> None:
    client.create("deployments", deployment("fg", 2), namespace)
    wait_for(lambda: len(pods(client, namespace)) == 2, TIMEOUT, "2 pods")
    for pod in pods(client, namespace):  # bound pods terminate gracefully, like real ones
        client.bind(pod["metadata"]["name"], "node-1", namespace)
    client.delete("deployments", "fg", namespace, propagation_policy="Foreground")
    wait_for(lambda: len(pods(client, namespace)) == 2 and all(
        p["metadata"].get("deletionTimestamp") for p in pods(client, namespace)),
        TIMEOUT, "pods terminating")
    owner = client.get("deployments", "fg", namespace)  # still there: pods block it
    assert owner["metadata"]["deletionTimestamp"]
    assert "foregroundDeletion" in owner["metadata"]["finalizers"]
    (rs,) = replica_sets(client, namespace)
    assert "foregroundDeletion" in rs["metadata"]["finalizers"]

    for pod in pods(client, namespace):  # the agent confirms the containers stopped
        client.delete("pods", pod["metadata"]["name"], namespace, grace_period_seconds=0)
    seen: list[tuple[bool, int, int]] = []

    def owner_gone_last() -> bool:
        owner_present = exists(client, "deployments", "fg", namespace) is not None
        snapshot = (owner_present, len(replica_sets(client, namespace)),
                    len(pods(client, namespace)))
        seen.append(snapshot)
        return not owner_present
    wait_for(owner_gone_last, TIMEOUT, "the Deployment to go")
    assert all(rs_count == 0 and pod_count == 0
               for present, rs_count, pod_count in seen if not present), seen


def test_kill_9_while_scaling_never_overshoots(apiserver: Apiserver, client: Client,
                                               namespace: str, tmp_path: Path) -> None:
    kubeconfig = apiserver.component_kubeconfig(tmp_path / "kubeconfig", "controller-manager")
    counter = PodCounter(apiserver, namespace)
    first = start_manager(kubeconfig, tmp_path / "cm-1.log")
    second: Process | None = None
    killed_at = 0
    try:
        client.create("deployments", deployment("big", 1), namespace)
        wait_for(lambda: len(pods(client, namespace)) == 1, TIMEOUT, "1 pod")
        counter.start()
        client.patch("deployments", "big", {"spec": {"replicas": 20}}, namespace)
        wait_for(lambda: counter.last > 1, TIMEOUT, "scaling to start")
        first.kill()
        killed_at = counter.last
        second = start_manager(kubeconfig, tmp_path / "cm-2.log")
        wait_for(lambda: counter.last == 20, TIMEOUT, "20 pods after the restart")
        wait_for(lambda: client.get("replicasets", replica_sets(client, namespace)[0]
                                    ["metadata"]["name"], namespace)["status"]
                 .get("replicas") == 20, TIMEOUT, "ReplicaSet status to show 20")
        assert len(pods(client, namespace)) == 20
        assert len(replica_sets(client, namespace)) == 1
        second.stop()  # SIGTERM: a clean exit
        assert second.popen is not None and second.popen.returncode == 0, second.log_tail()
    finally:
        counter.stop()
        first.stop()
        if second is not None:
            second.stop()
    assert counter.max_seen <= 20, f"saw {counter.max_seen} pods (killed at {killed_at})"


def test_deleting_a_namespace_removes_its_objects_then_itself(
        manager: Any, client: Client) -> None:
    ns = f"t-{uuid.uuid4().hex[:8]}"
    client.create("namespaces", {"metadata": {"name": ns}})
    client.create("deployments", deployment("web", 2), ns)
    client.create("configmaps", {"metadata": {"name": "conf"}, "data": {"a": "b"}}, ns)
    client.create("pods", {"metadata": {"name": "bound"}, "spec": {
        "containers": [{"name": "main", "image": "busybox:1"}]}}, ns)
    client.bind("bound", "node-1", ns)
    wait_for(lambda: len(pods(client, ns)) == 3, TIMEOUT, "3 pods")

    client.delete("namespaces", ns)
    wait_for(lambda: not client.list("configmaps", ns)["items"]
             and not client.list("deployments", ns)["items"]
             and not replica_sets(client, ns)
             and [p["metadata"]["name"] for p in pods(client, ns)] == ["bound"],
             TIMEOUT, "everything but the terminating bound pod deleted")
    terminating = client.get("namespaces", ns)
    assert terminating["status"]["phase"] == "Terminating"
    assert client.get("pods", "bound", ns)["metadata"]["deletionTimestamp"]

    client.delete("pods", "bound", ns, grace_period_seconds=0)  # the agent's last word
    wait_for(lambda: exists(client, "namespaces", ns) is None, TIMEOUT, "namespace removed")


def _slices(client: Client, ns: str, service: str) -> list[Object]:
    return client.list("endpointslices", ns,
                       label_selector=f"kubernetes.io/service-name={service}")["items"]


def _slice_endpoints(client: Client, ns: str, service: str) -> list[tuple[str, bool, str]]:
    return sorted((e["addresses"][0], e["conditions"]["ready"], e.get("zone", ""))
                  for s in _slices(client, ns, service) for e in s.get("endpoints") or [])


def test_endpointslices_follow_a_services_pods(manager: Any, client: Client,
                                               namespace: str) -> None:
    node = f"n-{uuid.uuid4().hex[:6]}"
    client.create("nodes", {"metadata": {"name": node,
                                         "labels": {"topology.kubernetes.io/zone": "z1"}}})
    try:
        client.create("services", {"metadata": {"name": "web"}, "spec": {
            "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}, namespace)
        wait_for(lambda: [s["endpoints"] for s in _slices(client, namespace, "web")] == [[]],
                 TIMEOUT, "the placeholder slice of a Service without pods")
        for i in (1, 2):
            client.create("pods", {"metadata": {"name": f"web-{i}", "labels": {"app": "web"}},
                                   "spec": {"nodeName": node, "containers": [{
                                       "name": "main", "image": "busybox:1",
                                       "ports": [{"name": "http", "containerPort": 8080}]}]}},
                          namespace)
            pod = client.get("pods", f"web-{i}", namespace)
            pod["status"] = {"phase": "Running", "podIP": f"10.244.9.{i}",
                             "podIPs": [{"ip": f"10.244.9.{i}"}], "conditions": [
                                 {"type": "Ready", "status": "True" if i == 1 else "False",
                                  "lastTransitionTime": now_rfc3339()}]}
            client.update_status("pods", pod)
        wait_for(lambda: _slice_endpoints(client, namespace, "web") == [
            ("10.244.9.1", True, "z1"), ("10.244.9.2", False, "z1")],
            TIMEOUT, "both pods in the Service's slice")
        (slice_,) = _slices(client, namespace, "web")
        assert slice_["metadata"]["name"].startswith("web-")
        assert slice_["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
        assert owner_of(slice_)["kind"] == "Service"  # type: ignore[index]

        client.delete("pods", "web-2", namespace, grace_period_seconds=0)
        wait_for(lambda: _slice_endpoints(client, namespace, "web") == [
            ("10.244.9.1", True, "z1")], TIMEOUT, "the deleted pod gone from the slice")
        assert [s["metadata"]["name"] for s in _slices(client, namespace, "web")] == \
            [slice_["metadata"]["name"]]  # updated in place

        client.delete("services", "web", namespace)
        wait_for(lambda: not _slices(client, namespace, "web"), TIMEOUT,
                 "the slices collected with their Service")
    finally:
        client.delete("nodes", node)
