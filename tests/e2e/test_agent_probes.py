"""Probes for real: the agent probes containers on the Docker bridge and acts on the results.

A liveness failure restarts the container, with an `Unhealthy` event that
carries the probe's output; a readiness failure turns the pod's Ready
condition False (and takes it out of its Service's Endpoints, with the real
endpoints controller) and back when the probe passes; a startup probe holds
liveness and readiness back until it passes. The probes here write a line to a
file in the container each time they run, so what ran is counted, not timed.
Periods are 1 s to keep each test to seconds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from apimachinery import errors
from apimachinery.meta import Object
from cli.cluster.processes import Process, start_controller_manager, wait_for

if TYPE_CHECKING:
    from tests.e2e.conftest import AgentNode

pytestmark = pytest.mark.e2e
IMAGE = "schooner/busybox:latest"
TIMEOUT = 60.0
PROBE_TIMEOUT = 5


def box(name: str, script: str, **extra: Any) -> Object:
    return {"name": name, "image": IMAGE, "imagePullPolicy": "Never",
            "command": ["sh", "-c", script], **extra}


def exec_probe(script: str, **timing: int) -> Object:
    """Every second; a generous timeout, as `docker exec` is slow on a loaded machine."""
    return {"exec": {"command": ["sh", "-c", script]}, "periodSeconds": 1,
            "timeoutSeconds": PROBE_TIMEOUT, **timing}


def status_of(pod: Object) -> Object:
    statuses = pod["status"].get("containerStatuses") or []
    return statuses[0] if statuses else {}


def condition(pod: Object, kind: str) -> str:
    return next((c["status"] for c in pod["status"].get("conditions") or []
                 if c["type"] == kind), "")


def in_container(agent: AgentNode, pod: Object, script: str) -> str:
    """`docker exec` in the pod's current container (as `pod exec` would)."""
    container = agent.docker.containers.get(status_of(pod)["containerID"].removeprefix(
        "docker://"))
    code, output = container.exec_run(["sh", "-c", script])
    assert code == 0, f"{script}: {output!r}"
    return str(output.decode())


def events(agent: AgentNode, reason: str) -> list[Object]:
    found = agent.client.list("events", agent.namespace)["items"]
    return [e for e in found if e["reason"] == reason]


def test_a_failing_liveness_probe_restarts_the_container(agent: AgentNode) -> None:
    """httpGet on a named port: the page goes away, the probe fails, the container restarts."""
    serve = "mkdir -p /tmp/www && echo ok > /tmp/www/healthz && exec httpd -f -p 8080 -h /tmp/www"
    probe = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 1,
             "timeoutSeconds": PROBE_TIMEOUT, "failureThreshold": 2}
    agent.create_pod("live", [box("web", serve, ports=[{"name": "http", "containerPort": 8080}],
                                  livenessProbe=probe)], terminationGracePeriodSeconds=2)
    pod = agent.wait_pod("live", lambda p: status_of(p).get("ready"), "Ready", TIMEOUT)
    first = status_of(pod)["containerID"]
    in_container(agent, pod, "rm /tmp/www/healthz")

    pod = agent.wait_pod("live", lambda p: status_of(p).get("restartCount", 0) >= 1
                         and status_of(p).get("ready"), "restarted once and Ready", TIMEOUT)
    assert status_of(pod)["containerID"] != first
    assert "terminated" in status_of(pod)["lastState"]
    unhealthy = events(agent, "Unhealthy")
    assert any(e["message"] == "Liveness probe failed: HTTP probe failed with statuscode: 404"
               and e["type"] == "Warning" and e["involvedObject"]["fieldPath"] ==
               "spec.containers{web}" for e in unhealthy), unhealthy
    killing = [e["message"] for e in events(agent, "Killing")]
    assert "Container web failed liveness probe, will be restarted" in killing, killing


def test_a_failing_readiness_probe_makes_the_pod_unready_until_it_passes(
        agent: AgentNode, tmp_path: Path) -> None:
    """Ready follows `test -f /tmp/ready`; the endpoints controller follows Ready."""
    proc = start_controller_manager(agent.apiserver.component_kubeconfig(
        tmp_path / "cm.kubeconfig", "controller-manager"),
                                    tmp_path / "controller-manager.log",
                                    "--controllers", "endpoints")
    with stopping(proc), service(agent, "web", {"app": "ready"}):
        labelled_pod(agent, "ready", {"app": "ready"}, [box(
            "app", "exec sleep 600",
            readinessProbe=exec_probe("test -f /tmp/ready", failureThreshold=1))])
        pod = agent.wait_pod("ready", lambda p: status_of(p).get("started"), "started",
                             TIMEOUT)
        assert (status_of(pod)["ready"], condition(pod, "Ready")) == (False, "False")
        assert condition(pod, "ContainersReady") == "False"
        ip = pod["status"]["podIP"]
        wait_for(lambda: endpoints(agent, "web") == ([], [ip]), TIMEOUT, "not ready endpoint")

        in_container(agent, pod, "touch /tmp/ready")
        agent.wait_pod("ready", lambda p: condition(p, "Ready") == "True", "Ready", TIMEOUT)
        wait_for(lambda: endpoints(agent, "web") == ([ip], []), TIMEOUT, "ready endpoint")

        in_container(agent, pod, "rm /tmp/ready")
        pod = agent.wait_pod("ready", lambda p: condition(p, "Ready") == "False", "unready",
                             TIMEOUT)
        assert status_of(pod)["restartCount"] == 0  # readiness never restarts anything
        wait_for(lambda: endpoints(agent, "web") == ([], [ip]), TIMEOUT, "out of Endpoints")

        in_container(agent, pod, "touch /tmp/ready")
        agent.wait_pod("ready", lambda p: condition(p, "Ready") == "True", "Ready again",
                       TIMEOUT)
        wait_for(lambda: endpoints(agent, "web") == ([ip], []), TIMEOUT, "back in Endpoints")
    assert any(e["message"] == "Readiness probe failed: " for e in events(agent, "Unhealthy"))


def test_a_startup_probe_holds_liveness_and_readiness_back(agent: AgentNode) -> None:
    """No liveness or readiness run is counted until the startup probe has passed."""
    agent.create_pod("slow", [box(
        "app", "exec sleep 600",
        startupProbe=exec_probe("echo >> /tmp/startup-ran; test -f /tmp/started",
                                failureThreshold=60),
        livenessProbe=exec_probe("echo >> /tmp/liveness-ran"),
        readinessProbe=exec_probe("echo >> /tmp/readiness-ran"))])
    pod = agent.wait_pod("slow", lambda p: "running" in status_of(p).get("state", {}),
                         "running", TIMEOUT)

    def runs(name: str) -> int:
        return int(in_container(agent, pod, f"cat /tmp/{name}-ran 2>/dev/null | wc -l"))
    wait_for(lambda: runs("startup") >= 3, TIMEOUT, "three startup probes")
    pod = agent.pod("slow")
    assert (runs("liveness"), runs("readiness")) == (0, 0)
    assert (status_of(pod)["started"], status_of(pod)["ready"]) == (False, False)

    in_container(agent, pod, "touch /tmp/started")
    pod = agent.wait_pod("slow", lambda p: status_of(p).get("ready"), "started and Ready",
                         TIMEOUT)
    assert status_of(pod)["started"] and condition(pod, "Ready") == "True"
    wait_for(lambda: runs("liveness") >= 1 and runs("readiness") >= 1, TIMEOUT,
             "liveness and readiness run")
    assert status_of(pod)["restartCount"] == 0


def test_a_startup_probe_that_never_passes_restarts_the_container(agent: AgentNode) -> None:
    agent.create_pod("stuck", [box("app", "exec sleep 600", startupProbe=exec_probe(
        "echo not yet; exit 1", failureThreshold=2))], terminationGracePeriodSeconds=2)
    pod = agent.wait_pod("stuck", lambda p: status_of(p).get("restartCount", 0) >= 1,
                         "restarted", TIMEOUT)
    assert not status_of(pod)["ready"]
    messages = [e["message"] for e in events(agent, "Unhealthy")]
    assert "Startup probe failed: not yet\n" in messages, messages


# -- helpers for the Endpoints ---------------------------------------------------------

@contextlib.contextmanager
def stopping(proc: Process) -> Iterator[None]:
    try:
        yield
    finally:
        proc.stop()


@contextlib.contextmanager
def service(agent: AgentNode, name: str, selector: dict[str, str]) -> Iterator[None]:
    """A Service over the pods labelled `selector`, deleted with its Endpoints afterwards."""
    agent.client.create("services", {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": agent.namespace},
        "spec": {"selector": selector, "ports": [{"port": 80, "targetPort": 8080}]}})
    try:
        yield
    finally:
        for resource in ("services", "endpoints"):
            with contextlib.suppress(errors.NotFound):
                agent.client.delete(resource, name, agent.namespace)


def labelled_pod(agent: AgentNode, name: str, labels: dict[str, str],
                 containers: list[Object]) -> Object:
    """A pod on the agent's node with labels (the fixture's `create_pod` sets none)."""
    pod = agent.client.create("pods", {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": agent.namespace, "labels": labels},
        "spec": {"nodeName": agent.name, "containers": containers,
                 "terminationGracePeriodSeconds": 2}})
    agent.pod_uids.add(pod["metadata"]["uid"])
    return pod


def endpoints(agent: AgentNode, name: str) -> tuple[list[str], list[str]]:
    """(ready, not ready) addresses of the Service's Endpoints."""
    try:
        found = agent.client.get("endpoints", name, agent.namespace)
    except errors.NotFound:
        return [], []
    subsets = found.get("subsets") or []
    return ([a["ip"] for s in subsets for a in s.get("addresses") or []],
            [a["ip"] for s in subsets for a in s.get("notReadyAddresses") or []])
