"""Lifecycle hooks and graceful termination for real: the agent, Docker, the apiserver.

Hooks leave their marks in a hostPath directory the test reads (a log file
the containers, their hooks and a CGI script behind busybox httpd append to),
so the order of preStop and SIGTERM is seen, not guessed from timing. When
containers died comes from Docker's own `die` events (their FinishedAt).
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from apimachinery import errors
from apimachinery.meta import Object
from cli.cluster.processes import start_controller_manager, wait_for

if TYPE_CHECKING:
    import docker

    from tests.e2e.conftest import AgentNode

pytestmark = pytest.mark.e2e
IMAGE = "schooner/busybox:latest"
LOOP = "while true; do sleep 1 & wait $!; done"  # `wait` lets a trap run at once
CGI = """#!/bin/sh
echo "http $QUERY_STRING $HTTP_X_HOOK" >> /data/log
printf 'Content-Type: text/plain\\r\\n\\r\\nok'
"""


def sh(name: str, script: str, **extra: Any) -> Object:
    return {"name": name, "image": IMAGE, "imagePullPolicy": "Never",
            "command": ["sh", "-c", script], **extra}


def logs_term(marker: str) -> str:
    """A script that notes `marker` in /data/log on SIGTERM and exits, else idles."""
    return f'trap "echo {marker} >> /data/log; exit 0" TERM; {LOOP}'


def exec_hook(script: str) -> Object:
    return {"exec": {"command": ["sh", "-c", script]}}


def data_volume(agent: AgentNode, path: Path) -> tuple[list[Object], list[Object]]:
    """A host directory the test reads: hostPath, so the namespace is made `privileged`
    (Schooner's default Pod Security level, baseline, refuses hostPath volumes)."""
    agent.client.patch("namespaces", agent.namespace, {"metadata": {"labels": {
        "pod-security.kubernetes.io/enforce": "privileged"}}})
    path.mkdir(parents=True, exist_ok=True)
    return ([{"name": "data", "hostPath": {"path": str(path), "type": "DirectoryOrCreate"}}],
            [{"name": "data", "mountPath": "/data"}])


def status_of(pod: Object) -> Object:
    return next(iter(pod["status"].get("containerStatuses") or []), {})


def running(pod: Object) -> bool:
    statuses = pod["status"].get("containerStatuses") or []
    return pod["status"].get("phase") == "Running" and bool(statuses) and all(
        "running" in s.get("state", {}) and s.get("ready") for s in statuses)


def gone(agent: AgentNode, name: str) -> bool:
    try:
        agent.pod(name)
    except errors.NotFound:
        return True
    return False


def log_lines(data: Path) -> list[str]:
    log = data / "log"
    return log.read_text().splitlines() if log.exists() else []


def events(agent: AgentNode, reason: str) -> list[Object]:
    return [e for e in agent.client.list("events", agent.namespace)["items"]
            if e["reason"] == reason]


class DieTimes:
    """When each pod's app container died, from Docker's `die` events for the node."""

    def __init__(self, client: docker.DockerClient, node: str) -> None:
        self.times: dict[str, float] = {}  # pod name -> wall-clock seconds
        self._stream = client.events(decode=True, filters={
            "type": "container", "event": "die", "label": f"schooner.node={node}"})
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with contextlib.suppress(Exception):  # the stream is closed under us at the end
            for event in self._stream:
                labels = (event.get("Actor") or {}).get("Attributes") or {}
                if labels.get("schooner.sandbox") != "true":
                    self.times.setdefault(labels.get("schooner.pod.name", ""),
                                          event["timeNano"] / 1e9)

    def close(self) -> None:
        self._stream.close()
        self._thread.join(5)


def test_pre_stop_hooks_run_before_sigterm(agent: AgentNode, tmp_path: Path) -> None:
    data = tmp_path / "data"
    volumes, mounts = data_volume(agent, data)
    cgi = data / "www" / "cgi-bin" / "hook"
    cgi.parent.mkdir(parents=True)
    cgi.write_text(CGI)
    cgi.chmod(0o755)
    web = sh("web", "exec httpd -f -p 8080 -h /data/www", volumeMounts=mounts,
             lifecycle={"preStop": {"sleep": {"seconds": 3}}})  # serves while app's hook runs
    app = sh("app", logs_term("app-term"), volumeMounts=mounts,
             ports=[{"name": "hooks", "containerPort": 8080}],
             lifecycle={"preStop": {"httpGet": {
                 "path": "/cgi-bin/hook?from=app", "port": "hooks",
                 "httpHeaders": [{"name": "X-Hook", "value": "prestop"}]}}})
    worker = sh("worker", logs_term("worker-term"), volumeMounts=mounts,
                lifecycle={"preStop": exec_hook("echo worker-prestop >> /data/log")})
    agent.create_pod("hooks", [web, app, worker], volumes=volumes,
                     terminationGracePeriodSeconds=10)
    agent.wait_pod("hooks", running, "Running")
    assert log_lines(data) == []

    agent.client.delete("pods", "hooks", agent.namespace)
    wait_for(lambda: gone(agent, "hooks"), 30, f"pod deleted\n{agent.process.log_tail()}")
    lines = log_lines(data)
    assert {"http from=app prestop", "app-term", "worker-prestop", "worker-term"} <= set(
        lines), lines
    assert lines.index("http from=app prestop") < lines.index("app-term"), lines
    assert lines.index("worker-prestop") < lines.index("worker-term"), lines
    assert events(agent, "FailedPreStopHook") == []


def test_the_grace_period_is_honoured_and_includes_the_pre_stop_hook(
        agent: AgentNode) -> None:
    ignore_term = f'trap "" TERM; {LOOP}'
    agent.create_pod("stubborn", [sh("c", ignore_term)], terminationGracePeriodSeconds=4)
    agent.create_pod("polite", [sh("c", "exec sleep 3600")], terminationGracePeriodSeconds=30)
    agent.create_pod("hooked", [sh("c", ignore_term, lifecycle={
        "preStop": {"sleep": {"seconds": 3}}})], terminationGracePeriodSeconds=6)
    for name in ("stubborn", "polite", "hooked"):
        agent.wait_pod(name, running, "Running")
    died = DieTimes(agent.docker, agent.name)
    try:
        deleted = time.time()
        for name in ("stubborn", "polite", "hooked"):
            agent.client.delete("pods", name, agent.namespace)
        wait_for(lambda: len(died.times) == 3, 30,
                 f"three containers dead, have {died.times}\n{agent.process.log_tail()}")
    finally:
        died.close()
    took = {name: at - deleted for name, at in died.times.items()}
    print("delete -> container died: " + ", ".join(f"{n} {t:.2f}s" for n, t in took.items()))
    assert took["polite"] < 3, took  # ends on SIGTERM, at once
    assert 4 - 0.3 <= took["stubborn"] < 4 + 4, took  # SIGKILL after the grace, not before
    assert 6 - 0.3 <= took["hooked"] < 6 + 4, took
    # the hook's 3 s came out of the 6 (2 s after the stubborn one, not 5: same delays)
    assert took["hooked"] - took["stubborn"] < 2 + 1.5, took
    for name in ("stubborn", "polite", "hooked"):
        wait_for(lambda n=name: gone(agent, n), 20, f"pod {name} deleted")


def test_post_start_runs_before_running_and_a_failed_one_restarts_the_container(
        agent: AgentNode, tmp_path: Path) -> None:
    data = tmp_path / "data"
    volumes, mounts = data_volume(agent, data)
    agent.create_pod("started", [sh("c", LOOP, volumeMounts=mounts, lifecycle={
        "postStart": exec_hook("sleep 2; echo post-start >> /data/log")})], volumes=volumes)
    agent.create_pod("badstart", [sh("c", LOOP, lifecycle={
        "postStart": exec_hook("echo nope; exit 3")})])

    marks_when_running: list[list[str]] = []

    def first_running(pod: Object) -> bool:
        if running(pod):
            marks_when_running.append(log_lines(data))
        return bool(marks_when_running)
    agent.wait_pod("started", first_running, "Running")
    assert marks_when_running[0] == ["post-start"], "Running before postStart returned"

    pod = agent.wait_pod("badstart", lambda p: status_of(p).get("restartCount", 0) >= 1,
                         "restarted after its postStart hook failed")
    assert status_of(pod)["lastState"]["terminated"]["exitCode"] in (137, 143)
    failed = wait_for(lambda: events(agent, "FailedPostStartHook"), 10,
                      "a FailedPostStartHook event")
    message = failed[0]["message"]
    assert failed[0]["type"] == "Warning" and "exited with 3" in message and "nope" in message
    assert failed[0]["involvedObject"]["fieldPath"] == "spec.containers{c}"
    assert any(e["message"] == "FailedPostStartHook" for e in events(agent, "Killing"))
    assert not running(agent.pod("badstart"))  # it never stays up


def test_a_deleted_pod_leaves_the_endpoints_while_its_pre_stop_hook_runs(
        agent: AgentNode, tmp_path: Path) -> None:
    ns = agent.namespace
    proc = start_controller_manager(agent.apiserver.component_kubeconfig(
        tmp_path / "cm.kubeconfig", "controller-manager"),
                                    tmp_path / "controller-manager.log",
                                    "--controllers", "endpoints")
    try:
        data = tmp_path / "data"
        volumes, mounts = data_volume(agent, data)
        agent.client.create("services", {"metadata": {"name": "web"}, "spec": {
            "selector": {"app": "lc"}, "ports": [{"port": 80, "targetPort": 8080}]}}, ns)
        pod = agent.client.create("pods", {
            "metadata": {"name": "backend", "namespace": ns, "labels": {"app": "lc"}},
            "spec": {"nodeName": agent.name, "terminationGracePeriodSeconds": 15,
                     "volumes": volumes, "containers": [sh(
                         "c", logs_term("term"), volumeMounts=mounts,
                         lifecycle={"preStop": {"sleep": {"seconds": 5}}})]}})
        agent.pod_uids.add(pod["metadata"]["uid"])
        ip = agent.wait_pod("backend", running, "Running")["status"]["podIP"]

        def addresses() -> list[str]:
            try:
                endpoints = agent.client.get("endpoints", "web", ns)
            except errors.NotFound:
                return []
            return [a["ip"] for s in endpoints.get("subsets") or []
                    for a in (s.get("addresses") or []) + (s.get("notReadyAddresses") or [])]
        wait_for(lambda: ip in addresses(), 20, f"{ip} in the Endpoints\n{proc.log_tail()}")

        died = DieTimes(agent.docker, agent.name)
        try:
            deleted = time.time()
            agent.client.delete("pods", "backend", ns)
            wait_for(lambda: ip not in addresses(), 5, "the pod out of the Endpoints")
            dropped = time.time()
            app = agent.containers(pod["metadata"]["uid"])
            assert [c.status for c in app] == ["running"]  # still in its preStop hook
            assert "term" not in log_lines(data)  # no SIGTERM yet
            wait_for(lambda: "backend" in died.times, 30,
                     f"the container dead\n{agent.process.log_tail()}")
        finally:
            died.close()
        assert log_lines(data) == ["term"]  # SIGTERM came, and the process exited on it
        assert dropped < died.times["backend"]
        assert died.times["backend"] - deleted >= 5 - 0.3  # held back by the 5 s preStop
        wait_for(lambda: gone(agent, "backend"), 30, f"pod deleted\n{agent.process.log_tail()}")
    finally:
        proc.stop()
