"""`schooner rollout ...`, `cordon`, `uncordon` and `drain`, and kubectl's, against a real
apiserver and controller-manager.

No agent and no scheduler run here. Where a test needs what they would do, a
`PlayAgent` thread does it: it marks live pods Running and Ready through the
status subresource and removes terminating pods (the agent's last word after
their containers stop). The module has its own etcd and apiserver, so its
Nodes and controllers never meet other modules' objects.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from apimachinery import errors
from apimachinery.client import Client
from apimachinery.meta import Object, now_rfc3339
from bench.rollouts import set_image
from cli.cluster.processes import (
    Apiserver,
    Process,
    own_control_plane,
    start_controller_manager,
    wait_for,
)

SCHOONER = str(Path(sys.executable).parent / "schooner")
KUBECTL = shutil.which("kubectl")
TIMEOUT = 40.0
REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apiserver]:
    """This module's own etcd and apiserver (overrides the session-wide one)."""
    with own_control_plane(tmp_path_factory.mktemp("rollout")) as server:
        yield server


@pytest.fixture(scope="module")
def kubeconfig(apiserver: Apiserver, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return apiserver.kubeconfig(tmp_path_factory.mktemp("config") / "kubeconfig")


@pytest.fixture(scope="module")
def manager(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    """One controller-manager for the module; stopped by its PID afterwards."""
    proc = start_controller_manager(kubeconfig, tmp_path_factory.mktemp("cm") / "cm.log",
                                    timeout=TIMEOUT)
    try:
        yield proc
    finally:
        proc.stop()


class PlayAgent(threading.Thread):
    """What node agents would do for a namespace: report pods Ready, finish deletions."""

    def __init__(self, apiserver: Apiserver, namespace: str, *, ready: bool = True) -> None:
        super().__init__(daemon=True)
        self.apiserver, self.namespace, self.ready = apiserver, namespace, ready
        self.stopped = threading.Event()

    def run(self) -> None:
        with self.apiserver.client() as client:
            while not self.stopped.is_set():
                for pod in client.list("pods", self.namespace)["items"]:
                    try:
                        self._tend(client, pod)
                    except (errors.Conflict, errors.NotFound):
                        continue
                self.stopped.wait(0.1)

    def _tend(self, client: Client, pod: Object) -> None:
        meta = pod["metadata"]
        if meta.get("deletionTimestamp"):
            client.delete("pods", meta["name"], self.namespace, grace_period_seconds=0)
        elif self.ready and (pod.get("status") or {}).get("phase") != "Running":
            pod["status"] = {**(pod.get("status") or {}), "phase": "Running", "conditions": [
                {"type": "Ready", "status": "True", "lastTransitionTime": now_rfc3339()}]}
            client.update_status("pods", pod)

    def stop(self) -> None:
        self.stopped.set()
        self.join(10)


@pytest.fixture
def agent(apiserver: Apiserver, namespace: str) -> Iterator[PlayAgent]:
    player = PlayAgent(apiserver, namespace)
    player.start()
    try:
        yield player
    finally:
        player.stop()


@pytest.fixture
def schooner(kubeconfig: Path, namespace: str) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([SCHOONER, "--kubeconfig", str(kubeconfig), "-n", namespace,
                               *args], capture_output=True, text=True, timeout=90)
    return run


@pytest.fixture
def kubectl(kubeconfig: Path, namespace: str,
            tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """The real kubectl with its own HOME (no stale discovery cache)."""
    if KUBECTL is None:
        pytest.skip("kubectl is not installed")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), "-n", namespace,
                               *args], capture_output=True, text=True, timeout=90,
                              env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    return run


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, f"{proc.args}: {proc.stderr}"
    return proc.stdout


def fails(proc: subprocess.CompletedProcess[str], text: str) -> None:
    """Exit non-zero with `text` in the last error line, and no traceback."""
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    assert text in proc.stderr.strip().splitlines()[-1], proc.stderr


def deployment(name: str, image: str, *, replicas: int = 2, cause: str | None = None,
               deadline: int | None = None) -> Object:
    labels = {"app": name}
    spec: Object = {"replicas": replicas, "selector": {"matchLabels": labels},
                    "template": {"metadata": {"labels": labels},
                                 "spec": {"containers": [{"name": "main", "image": image}]}}}
    if deadline is not None:
        spec["progressDeadlineSeconds"] = deadline
    meta: Object = {"name": name, "annotations": {CHANGE_CAUSE: cause} if cause else {}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec}


def image_of(client: Client, ns: str, name: str) -> str:
    return str(client.get("deployments", name, ns)["spec"]["template"]["spec"]["containers"][0]
               ["image"])


def revision_of(client: Client, ns: str, name: str) -> str:
    return str(client.get("deployments", name, ns)["metadata"].get("annotations", {})
               .get(REVISION, ""))


def replica_sets(client: Client, ns: str) -> list[Object]:
    return client.list("replicasets", ns)["items"]


# -- rollout -------------------------------------------------------------------------------------

def test_status_history_and_undo(manager: Process, agent: PlayAgent, client: Client,
                                 namespace: str, schooner: Any) -> None:
    client.create("deployments", deployment("web", "busybox:1", cause="first"), namespace)
    out = ok(schooner("rollout", "status", "deployment/web", "--timeout", "60s"))
    assert out.splitlines()[-1] == 'deployment "web" successfully rolled out', out

    set_image(client, namespace, "web", "busybox:2", "main", cause="second")
    out = ok(schooner("rollout", "status", "deploy", "web", "--timeout", "60s"))
    assert out.splitlines()[-1] == 'deployment "web" successfully rolled out', out
    assert ok(schooner("rollout", "history", "deployment/web")) == (
        "deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         first\n2         second\n\n")
    shown = ok(schooner("rollout", "history", "deployment/web", "--revision", "1"))
    assert shown.startswith("deployment.apps/web with revision #1\nPod Template:\n"), shown
    assert "busybox:1" in shown and "kubernetes.io/change-cause: first" in shown

    assert ok(schooner("rollout", "undo", "deployment/web")) == "deployment.apps/web rolled back\n"
    assert image_of(client, namespace, "web") == "busybox:1"
    assert client.get("deployments", "web", namespace)["metadata"]["annotations"][
        CHANGE_CAUSE] == "first"
    wait_for(lambda: revision_of(client, namespace, "web") == "3", TIMEOUT, "revision 3")
    ok(schooner("rollout", "status", "deployment/web", "--timeout", "60s"))
    assert len(replica_sets(client, namespace)) == 2  # the old ReplicaSet came back
    assert ok(schooner("rollout", "history", "deployment/web")) == (
        "deployment.apps/web \nREVISION  CHANGE-CAUSE\n2         second\n3         first\n\n")

    assert ok(schooner("rollout", "undo", "deployment/web", "--to-revision", "2")) == \
        "deployment.apps/web rolled back\n"
    assert image_of(client, namespace, "web") == "busybox:2"
    wait_for(lambda: revision_of(client, namespace, "web") == "4", TIMEOUT, "revision 4")
    assert ok(schooner("rollout", "undo", "deployment/web", "--to-revision", "4")) == (
        "deployment.apps/web skipped rollback (current template already matches revision 4)\n")
    fails(schooner("rollout", "undo", "deployment/web", "--to-revision", "99"),
          "error: unable to find specified revision 99 in history")


def test_status_fails_past_the_progress_deadline_and_on_timeout(
        manager: Process, client: Client, namespace: str, schooner: Any) -> None:
    """No agent: the pods never become ready, so the rollout stalls."""
    client.create("deployments", deployment("stuck", "busybox:1", deadline=2), namespace)
    proc = schooner("rollout", "status", "deployment/stuck", "--timeout", "60s")
    fails(proc, 'error: deployment "stuck" exceeded its progress deadline')
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr

    client.create("deployments", deployment("slow", "busybox:1"), namespace)
    proc = schooner("rollout", "status", "deployment/slow", "--timeout", "2s")
    fails(proc, "error: timed out waiting for the condition")
    assert "Waiting for" in proc.stdout
    once = ok(schooner("rollout", "status", "deployment/slow", "--watch=false"))
    assert len(once.splitlines()) == 1 and once.startswith("Waiting for"), once
    fails(schooner("rollout", "status", "deployment/nope"),
          'error: deployments.apps "nope" not found')


def test_restart_pause_and_resume(manager: Process, agent: PlayAgent, client: Client,
                                  namespace: str, schooner: Any) -> None:
    client.create("deployments", deployment("app", "busybox:1"), namespace)
    ok(schooner("rollout", "status", "deployment/app", "--timeout", "60s"))
    assert ok(schooner("rollout", "restart", "deployment/app")) == \
        "deployment.apps/app restarted\n"
    annotations = client.get("deployments", "app", namespace)["spec"]["template"]["metadata"][
        "annotations"]
    assert annotations["kubectl.kubernetes.io/restartedAt"].endswith("Z")
    wait_for(lambda: len(replica_sets(client, namespace)) == 2, TIMEOUT, "a restart's new RS")
    ok(schooner("rollout", "status", "deployment/app", "--timeout", "60s"))

    assert ok(schooner("rollout", "pause", "deployment/app")) == "deployment.apps/app paused\n"
    assert client.get("deployments", "app", namespace)["spec"]["paused"] is True
    fails(schooner("rollout", "pause", "deployment/app"),
          'error: deployments.apps "app" is already paused')
    fails(schooner("rollout", "restart", "deployment/app"), "can't restart paused deployment")
    set_image(client, namespace, "app", "busybox:2", "main", cause="while paused")

    def observed() -> bool:
        d = client.get("deployments", "app", namespace)
        return d["status"].get("observedGeneration") == d["metadata"]["generation"]
    wait_for(observed, TIMEOUT, "the paused change observed")
    assert len(replica_sets(client, namespace)) == 2  # paused: no rollout of the new template

    assert ok(schooner("rollout", "resume", "deployment/app")) == "deployment.apps/app resumed\n"
    assert not client.get("deployments", "app", namespace)["spec"].get("paused")
    wait_for(lambda: len(replica_sets(client, namespace)) == 3, TIMEOUT, "the resumed rollout")
    fails(schooner("rollout", "resume", "deployment/app"),
          'error: deployments.apps "app" is not paused')


# -- nodes ---------------------------------------------------------------------------------------

def make_node(client: Client, name: str) -> None:
    client.create("nodes", {"metadata": {"name": name}})


def bind_all(client: Client, ns: str, node: str) -> list[str]:
    """Play the scheduler: bind every unbound pod to `node`."""
    names = []
    for pod in client.list("pods", ns)["items"]:
        if not pod["spec"].get("nodeName"):
            try:
                client.bind(pod["metadata"]["name"], node, ns)
            except errors.NotFound:  # a rollout's ReplicaSet deleted it since the list
                continue
            names.append(pod["metadata"]["name"])
    return names


def unschedulable(client: Client, node: str) -> bool:
    return bool(client.get("nodes", node)["spec"].get("unschedulable"))


def test_cordon_and_uncordon(client: Client, schooner: Any) -> None:
    make_node(client, "cordoned")
    assert ok(schooner("cordon", "cordoned")) == "node/cordoned cordoned\n"
    assert unschedulable(client, "cordoned")
    assert ok(schooner("cordon", "node/cordoned")) == "node/cordoned already cordoned\n"
    assert ok(schooner("uncordon", "cordoned")) == "node/cordoned uncordoned\n"
    assert "unschedulable" not in client.get("nodes", "cordoned")["spec"]
    assert ok(schooner("uncordon", "cordoned")) == "node/cordoned already uncordoned\n"
    fails(schooner("cordon", "no-such-node"), 'error: nodes "no-such-node" not found')


def test_drain_evicts_controlled_pods_and_refuses_a_bare_one(
        manager: Process, agent: PlayAgent, client: Client, namespace: str,
        schooner: Any) -> None:
    make_node(client, "drained")
    client.create("deployments", deployment("web", "busybox:1", replicas=2), namespace)
    wait_for(lambda: len(client.list("pods", namespace)["items"]) == 2, TIMEOUT, "2 pods")
    evicted = bind_all(client, namespace, "drained")
    client.create("pods", {"metadata": {"name": "bare"}, "spec": {
        "nodeName": "drained", "containers": [{"name": "main", "image": "busybox:1"}]}},
        namespace)

    proc = schooner("drain", "drained", "--timeout", "60s")
    fails(proc, 'error: unable to drain node "drained" due to error: cannot delete Pods that '
                f"declare no controller (use --force to override): {namespace}/bare")
    assert proc.stdout == "node/drained cordoned\n"
    assert len(client.list("pods", namespace)["items"]) == 3  # nothing was evicted

    out = ok(schooner("drain", "drained", "--force", "--timeout", "60s"))
    lines = out.splitlines()
    assert lines[0] == "node/drained already cordoned" and lines[-1] == "node/drained drained"
    for name in [*evicted, "bare"]:
        assert f"evicting pod {namespace}/{name}" in lines and f"pod/{name} evicted" in lines
    assert unschedulable(client, "drained")

    def replaced() -> list[Object]:
        pods = client.list("pods", namespace)["items"]
        names = {p["metadata"]["name"] for p in pods}
        return pods if len(pods) == 2 and not names & {*evicted, "bare"} else []
    for pod in wait_for(replaced, TIMEOUT, "2 new pods from the ReplicaSet"):
        assert not pod["spec"].get("nodeName")  # not bound: the node takes no new pods


def test_eviction_deletes_the_pod_as_a_delete_would(apiserver: Apiserver, client: Client,
                                                     namespace: str) -> None:
    """POST pods/NAME/eviction: Status Success 201; a bound pod terminates gracefully."""
    make_node(client, "evicting")
    client.create("pods", {"metadata": {"name": "p"}, "spec": {
        "nodeName": "evicting", "containers": [{"name": "c", "image": "x"}]}}, namespace)
    path = f"/api/v1/namespaces/{namespace}/pods/p/eviction"
    body = {"apiVersion": "policy/v1", "kind": "Eviction",
            "metadata": {"name": "p", "namespace": namespace}}
    with apiserver.http() as http:
        assert http.post(path, json={**body, "metadata": {"name": "q"}}).status_code == 400
        reply = http.post(path, json=body)
        assert (reply.status_code, reply.json()["status"]) == (201, "Success")
        pod = client.get("pods", "p", namespace)  # bound: the agent has its grace period
        assert pod["metadata"]["deletionGracePeriodSeconds"] == 30
        reply = http.post(path, json={**body, "deleteOptions": {"gracePeriodSeconds": 0}})
        assert reply.status_code == 201
        with pytest.raises(errors.NotFound):
            client.get("pods", "p", namespace)
        assert http.post(path, json=body).json()["reason"] == "NotFound"


# -- the real kubectl ------------------------------------------------------------------------

def test_kubectl_rollout_and_drain(manager: Process, apiserver: Apiserver, client: Client,
                                   namespace: str, kubectl: Any) -> None:
    stuck = kubectl("rollout", "status", "deployment/late", "--timeout=20s")  # not there yet
    assert stuck.returncode != 0 and "not found" in stuck.stderr
    client.create("deployments", deployment("late", "busybox:1", deadline=2), namespace)
    proc = kubectl("rollout", "status", "deployment/late", "--timeout=60s")
    fails(proc, 'error: deployment "late" exceeded its progress deadline')

    player = PlayAgent(apiserver, namespace)
    player.start()
    try:
        client.create("deployments", deployment("web", "busybox:1", cause="first"), namespace)
        assert 'deployment "web" successfully rolled out' in ok(
            kubectl("rollout", "status", "deployment/web", "--timeout=60s"))
        set_image(client, namespace, "web", "busybox:2", "main", cause="second")
        ok(kubectl("rollout", "status", "deployment/web", "--timeout=60s"))
        history = ok(kubectl("rollout", "history", "deployment/web"))
        assert "1         first" in history and "2         second" in history, history
        assert "rolled back" in ok(kubectl("rollout", "undo", "deployment/web"))
        assert image_of(client, namespace, "web") == "busybox:1"

        make_node(client, "kubectl-drained")
        bind_all(client, namespace, "kubectl-drained")
        client.create("pods", {"metadata": {"name": "bare"}, "spec": {
            "nodeName": "kubectl-drained", "containers": [{"name": "c", "image": "x"}]}},
            namespace)
        refused = kubectl("drain", "kubectl-drained", "--timeout=60s")
        assert refused.returncode != 0 and f"{namespace}/bare" in refused.stderr
        out = ok(kubectl("drain", "kubectl-drained", "--force", "--timeout=60s"))
        assert "evicting pod" in out and "node/kubectl-drained drained" in out, out
        on_node = client.list("pods", None, field_selector="spec.nodeName=kubectl-drained")
        assert on_node["items"] == []
        assert unschedulable(client, "kubectl-drained")
        discovery = json.loads(ok(kubectl("get", "--raw", "/api/v1")))
        assert {"name": "pods/eviction", "group": "policy", "version": "v1",
                "kind": "Eviction"}.items() <= next(
            r for r in discovery["resources"] if r["name"] == "pods/eviction").items()
    finally:
        player.stop()
