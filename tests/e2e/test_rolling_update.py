"""Issue 5 end to end: rolling updates under a steady client, stalls, undo and auto-rollback.

One whole local cluster (apiserver, controller-manager, scheduler, agent, proxy)
for the module. A 6-replica web Deployment (readiness probe on /healthz, a
preStop sleep so the proxy drops a terminating pod before it stops listening)
sits behind a Service; a `SteadyClient` sends one request after another, each
on a new connection, through the Service's ClusterIP while the Deployment
rolls from version 1 to version 2. Needs root for the ClusterIP on the host.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from apimachinery import errors
from apimachinery.client import Client
from apimachinery.meta import Object
from bench.load import SteadyClient
from bench.rollouts import rolled_out, set_image
from cli.cluster.processes import wait_for
from cli.cluster.throwaway import local_cluster

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(os.geteuid() != 0,
                                                  reason="ClusterIPs on the host need root")]
SCHOONER = str(Path(sys.executable).parent / "schooner")
TAG = f"ru{os.getpid()}"
NS = "default"
_NAMES = itertools.count(1)


def web_deployment(name: str, strategy: Object | None = None, *, replicas: int = 6,
                   version: str = "1", annotations: dict[str, str] | None = None,
                   progress_deadline: int = 60) -> Object:
    container = {
        "name": "web", "image": f"schooner/web-example:{version}", "imagePullPolicy": "Never",
        "ports": [{"name": "http", "containerPort": 8080}],
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"},
                           "periodSeconds": 1, "timeoutSeconds": 3, "failureThreshold": 3},
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", "2"]}}},
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
    }
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "annotations": annotations or {}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "progressDeadlineSeconds": progress_deadline,
                     "strategy": strategy or {"type": "RollingUpdate"},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {
                         "terminationGracePeriodSeconds": 10, "containers": [container]}}}}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, Path]]:
    with local_cluster(tmp_path_factory.mktemp("cluster"), TAG,
                       f"172.28.{200 + os.getpid() % 40}.0/24", "172.28.98.0/24") as started:
        yield started


@pytest.fixture
def web(stack: tuple[Client, Path]) -> Iterator[str]:
    """A fresh name per test: its Service; the Deployment is made by the test."""
    client, _ = stack
    name = f"web{next(_NAMES)}"
    client.create("services", {"metadata": {"name": name}, "spec": {
        "selector": {"app": name}, "ports": [{"port": 80, "targetPort": "http"}]}}, NS)
    yield name
    for resource in ("deployments", "services"):
        with contextlib.suppress(errors.NotFound):
            client.delete(resource, name, NS)
    wait_for(lambda: not client.list("pods", NS, label_selector=f"app={name}")["items"],
             120, f"{name} pods gone")


def service_url(client: Client, name: str) -> str:
    return f"http://{client.get('services', name, NS)['spec']['clusterIP']}/"


def deploy_and_serve(client: Client, body: Object) -> SteadyClient:
    """Create the Deployment, wait until every replica answers, start the steady client."""
    name = body["metadata"]["name"]
    client.create("deployments", body, NS)
    image = body["spec"]["template"]["spec"]["containers"][0]["image"]
    wait_for(lambda: rolled_out(client, NS, name, image), 120, f"{name} available")
    load = SteadyClient(service_url(client, name), max_seconds=240)
    wait_for(lambda: SteadyClient(load.url).once().version == "1", 30,
             f"{name} answers through its Service")
    return load.start()


def set_version(client: Client, name: str, version: str) -> None:
    set_image(client, NS, name, f"schooner/web-example:{version}")


def unhealthy(client: Client) -> str:
    """The probe failures the agent reported, to explain failed requests."""
    events = client.list("events", NS)["items"]
    return "\n".join(f"{e['involvedObject'].get('name')}: {e.get('reason')} {e.get('message')}"
                     for e in events if e.get("reason") in ("Unhealthy", "Killing", "BackOff"))


def roll_under_load(client: Client, body: Object) -> SteadyClient:
    name = body["metadata"]["name"]
    load = deploy_and_serve(client, body)
    try:
        wait_for(lambda: load.answered() >= 5, 60, "answers before the rollout")
        set_version(client, name, "2")
        wait_for(lambda: rolled_out(client, NS, name, "schooner/web-example:2"), 180,
                 f"{name} rolled out to version 2")
        done = time.monotonic()
        # some answers after it, however slow the loaded machine makes each request
        wait_for(lambda: load.answered(since=done + 0.5) > 10, 60, "answers after the rollout")
    finally:
        load.stop()
    assert not load.failures(), f"{load.summary()}\n{unhealthy(client)}"
    after = load.versions(since=done + 0.5)
    assert set(after) == {"2"} and sum(after.values()) > 10, load.summary()
    assert load.versions()["1"] >= 5, load.summary()
    return load


def test_rolling_update_default_strategy_drops_nothing(stack: tuple[Client, Path],
                                                       web: str) -> None:
    client, _ = stack
    roll_under_load(client, web_deployment(web))


def test_rolling_update_surge_only_drops_nothing(stack: tuple[Client, Path], web: str) -> None:
    client, _ = stack
    body = web_deployment(web, {"type": "RollingUpdate",
                                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}})
    name = body["metadata"]["name"]
    seen: list[int] = []

    def watch_available() -> bool:
        status = client.get("deployments", name, NS).get("status") or {}
        seen.append(int(status.get("availableReplicas") or 0))
        return False

    load = deploy_and_serve(client, body)
    try:
        set_version(client, name, "2")
        wait_for(lambda: watch_available() or rolled_out(client, NS, name,
                                                          "schooner/web-example:2"),
                 180, f"{name} rolled out")
    finally:
        load.stop()
    assert not load.failures(), load.summary()
    assert min(seen) >= 6, f"maxUnavailable 0 keeps 6 available, saw {min(seen)}"


def test_rolling_update_with_percentages_drops_nothing(stack: tuple[Client, Path],
                                                       web: str) -> None:
    client, _ = stack
    roll_under_load(client, web_deployment(web, {
        "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "34%", "maxSurge": "50%"}}))


def run_cli(kubeconfig: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([SCHOONER, "--kubeconfig", str(kubeconfig), *args],
                          capture_output=True, text=True, timeout=timeout)


def bad_image(client: Client, name: str) -> None:
    set_image(client, NS, name, "schooner/web-example:does-not-exist")


def stalled_within_max_unavailable(client: Client, name: str) -> None:
    status = client.get("deployments", name, NS)["status"]
    assert status.get("availableReplicas", 0) >= 5, status


def test_bad_image_stalls_and_undo_restores(stack: tuple[Client, Path], web: str) -> None:
    client, kubeconfig = stack
    body = web_deployment(web, {"type": "RollingUpdate",
                                "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}},
                          progress_deadline=8)
    load = deploy_and_serve(client, body)
    try:
        bad_image(client, web)
        status = run_cli(kubeconfig, "rollout", "status", f"deployment/{web}", "--timeout", "90s")
        assert status.returncode != 0, status.stdout
        assert "exceeded its progress deadline" in status.stderr + status.stdout
        stalled_within_max_unavailable(client, web)
        undo = run_cli(kubeconfig, "rollout", "undo", f"deployment/{web}")
        assert undo.returncode == 0, undo.stderr
        wait_for(lambda: rolled_out(client, NS, web, "schooner/web-example:1"), 120,
                 f"{web} back on version 1")
        done = run_cli(kubeconfig, "rollout", "status", f"deployment/{web}", "--timeout", "60s")
        assert done.returncode == 0 and "successfully rolled out" in done.stdout, done.stderr
    finally:
        load.stop()
    assert not load.failures(), load.summary()
    assert set(load.versions()) == {"1"}, load.summary()


def test_auto_rollback_restores_by_itself(stack: tuple[Client, Path], web: str) -> None:
    client, _ = stack
    body = web_deployment(web, {"type": "RollingUpdate",
                                "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}},
                          progress_deadline=8, annotations={"schooner.io/auto-rollback": "true"})
    load = deploy_and_serve(client, body)
    try:
        bad_image(client, web)
        wait_for(lambda: rolled_out(client, NS, web, "schooner/web-example:1"), 120,
                 f"{web} rolled back to version 1 by itself")
        events = client.list("events", NS, field_selector=f"involvedObject.name={web}")["items"]
        assert "AutoRollback" in {e.get("reason") for e in events}
        time.sleep(3)  # and it stays there
        image = client.get("deployments", web, NS)["spec"]["template"]["spec"][
            "containers"][0]["image"]
        assert image == "schooner/web-example:1"
    finally:
        load.stop()
    assert not load.failures(), load.summary()
