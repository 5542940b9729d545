"""Pod security fields carried to Docker by a real agent, checked with `docker inspect`.

The enforced user and group, a read-only root filesystem, dropped and added
capabilities, no-new-privileges, the pids limit (`--pod-max-pids`), the host's
PID namespace, a hostPort published on the sandbox, the node's network for a
hostNetwork pod, and runAsNonRoot refused for an image that runs as root (the
kubelet's CreateContainerConfigError).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from apimachinery.meta import Object
from cli.cluster.processes import wait_for

if TYPE_CHECKING:
    from tests.e2e.conftest import AgentNode

pytestmark = pytest.mark.e2e
IMAGE = "schooner/busybox:latest"  # its image runs as root (no USER)
PIDS = 77


@pytest.fixture
def agent(agent_factory: Callable[..., AgentNode]) -> AgentNode:
    return agent_factory("--backoff-base", "1s", "--backoff-max", "4s",
                         "--pod-max-pids", str(PIDS))


def sh(name: str, script: str, **extra: Any) -> Object:
    return {"name": name, "image": IMAGE, "imagePullPolicy": "Never",
            "command": ["sh", "-c", script], **extra}


def state(pod: Object) -> Object:
    statuses = pod["status"].get("containerStatuses") or []
    return (statuses[0].get("state") or {}) if statuses else {}


def inspect(agent: AgentNode, pod: Object) -> Any:
    (container,) = agent.containers(pod["metadata"]["uid"])
    return agent.docker.api.inspect_container(container.id)


def test_a_restricted_container_runs_as_docker_inspect_shows(agent: AgentNode) -> None:
    pod = agent.create_pod("hard", [sh("c", "id; touch /x 2>&1; sleep 3600", securityContext={
        "runAsUser": 1000, "runAsGroup": 3000, "runAsNonRoot": True,
        "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
        "seccompProfile": {"type": "RuntimeDefault"}})],
        securityContext={"supplementalGroups": [4000]})
    agent.wait_pod("hard", lambda p: "running" in state(p), "running")
    data = inspect(agent, pod)
    host = data["HostConfig"]
    assert data["Config"]["User"] == "1000:3000"
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"] and host["CapAdd"] == ["NET_BIND_SERVICE"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["GroupAdd"] == ["4000"]
    assert host["PidsLimit"] == PIDS
    out = wait_for(lambda: "touch" in (text := "\n".join(agent.client.logs(
        "hard", agent.namespace))) and text, 20, "the container's output")
    assert "uid=1000 gid=3000 groups=3000,4000" in out
    assert "touch: /x: Read-only file system" in out


def test_run_as_non_root_is_refused_for_an_image_that_runs_as_root(agent: AgentNode) -> None:
    pod = agent.create_pod("rooted", [sh("c", "sleep 3600",
                                         securityContext={"runAsNonRoot": True})])
    uid = pod["metadata"]["uid"]
    waiting = agent.wait_pod("rooted", lambda p: (state(p).get("waiting") or {}).get(
        "reason") == "CreateContainerConfigError", "CreateContainerConfigError")
    assert state(waiting)["waiting"]["message"] == (
        "container has runAsNonRoot and image will run as root "
        f'(pod: "rooted_{agent.namespace}({uid})", container: c)')
    assert agent.containers(uid) == []


def test_host_pid_and_a_published_host_port(agent: AgentNode) -> None:
    agent.client.patch("namespaces", agent.namespace, {"metadata": {"labels": {
        "pod-security.kubernetes.io/enforce": "privileged"}}})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pod = agent.create_pod("web", [sh(
        "c", "mkdir -p /www && echo ok > /www/index.html && httpd -f -p 8080 -h /www",
        ports=[{"containerPort": 8080, "hostPort": port, "hostIP": "127.0.0.1"}])],
        hostPID=True)
    agent.wait_pod("web", lambda p: "running" in state(p), "running")
    assert inspect(agent, pod)["HostConfig"]["PidMode"] == "host"
    (sandbox,) = agent.containers(pod["metadata"]["uid"], sandbox=True)
    bindings = agent.docker.api.inspect_container(sandbox.id)["HostConfig"]["PortBindings"]
    assert bindings == {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}

    def served() -> str | None:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/", timeout=2).text
        except httpx.HTTPError:
            return None
    assert wait_for(served, 20, f"the pod answering on 127.0.0.1:{port}") == "ok\n"


def test_a_host_network_pod_serves_on_the_nodes_address(agent: AgentNode) -> None:
    agent.client.patch("namespaces", agent.namespace, {"metadata": {"labels": {
        "pod-security.kubernetes.io/enforce": "privileged"}}})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pod = agent.create_pod("hostnet", [sh(
        "c", f"mkdir -p /www && echo host > /www/index.html && "
             f"httpd -f -p 127.0.0.1:{port} -h /www")], hostNetwork=True)
    running = agent.wait_pod("hostnet", lambda p: "running" in state(p)
                             and p["status"].get("podIP"), "running with an IP")
    assert running["status"]["podIP"] == running["status"]["hostIP"] == "127.0.0.1"
    (sandbox,) = agent.containers(pod["metadata"]["uid"], sandbox=True)
    assert agent.docker.api.inspect_container(sandbox.id)["HostConfig"]["NetworkMode"] == "host"

    def served() -> str | None:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/", timeout=2).text
        except httpx.HTTPError:
            return None
    assert wait_for(served, 20, f"the pod answering on the node's 127.0.0.1:{port}") == "host\n"
