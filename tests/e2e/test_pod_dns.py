"""Pod DNS for real: an agent with --cluster-dns, the real Docker engine, a real apiserver.

No DNS server answers at 172.30.255.10 here: the tests read the resolv.conf
each container sees (through the agent's exec endpoint, as `schooner exec`
does, and with `docker exec` for the sandbox, which has no endpoint).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from apimachinery.meta import Object

if TYPE_CHECKING:
    from tests.e2e.conftest import AgentNode

pytestmark = pytest.mark.e2e
IMAGE = "schooner/busybox:latest"
DNS = "172.30.255.10"


def sleeper(name: str) -> Object:
    return {"name": name, "image": IMAGE, "imagePullPolicy": "Never",
            "command": ["sleep", "3600"]}


def running(pod: Object) -> bool:
    statuses = pod["status"].get("containerStatuses") or []
    return pod["status"].get("phase") == "Running" and bool(statuses) and all(
        "running" in s.get("state", {}) for s in statuses)


def read_resolv_conf(agent: AgentNode, pod: str, container: str) -> str:
    with agent.http() as http:
        result = http.post(f"/exec/{agent.namespace}/{pod}/{container}",
                           json={"command": ["cat", "/etc/resolv.conf"]}).json()
    assert result["exitCode"] == 0, result
    return str(result["output"])


@pytest.fixture
def dns_agent(agent_factory: Callable[..., AgentNode]) -> AgentNode:
    return agent_factory("--cluster-dns", DNS, "--cluster-domain", "cluster.local")


def test_cluster_first_pods_get_the_cluster_dns_in_every_container(
        dns_agent: AgentNode) -> None:
    agent = dns_agent
    pod = agent.create_pod("dns", [sleeper("a"), sleeper("b")])
    agent.wait_pod("dns", running, "Running")
    expected = (f"nameserver {DNS}\n"
                f"search {agent.namespace}.svc.cluster.local svc.cluster.local cluster.local\n"
                "options ndots:5\n")
    assert read_resolv_conf(agent, "dns", "a") == expected
    assert read_resolv_conf(agent, "dns", "b") == expected
    (sandbox,) = agent.containers(pod["metadata"]["uid"], sandbox=True)
    code, output = sandbox.exec_run(["cat", "/etc/resolv.conf"])
    assert (code, output.decode()) == (0, expected)
    # Read-only, as the kubelet mounts it: a container cannot redirect the pod's DNS.
    with agent.http() as http:
        result = http.post(f"/exec/{agent.namespace}/dns/a", json={
            "command": ["sh", "-c", "echo nameserver 192.0.2.1 >> /etc/resolv.conf"]}).json()
    assert result["exitCode"] != 0 and "Read-only" in result["output"], result
    host_file = agent.root_dir / "pods" / pod["metadata"]["uid"] / "resolv.conf"
    assert host_file.read_text() == expected


def test_dns_policy_default_keeps_dockers_resolv_conf(dns_agent: AgentNode) -> None:
    agent = dns_agent
    agent.create_pod("host-dns", [sleeper("a")], dnsPolicy="Default")
    agent.wait_pod("host-dns", running, "Running")
    text = read_resolv_conf(agent, "host-dns", "a")
    assert DNS not in text
    assert "nameserver 127.0.0.11" in text  # Docker's embedded DNS on a user network


def test_dns_config_reaches_the_containers(dns_agent: AgentNode) -> None:
    """dnsPolicy None: only the pod's dnsConfig, stored by the apiserver as sent."""
    agent = dns_agent
    agent.create_pod("own-dns", [sleeper("a")], dnsPolicy="None", dnsConfig={
        "nameservers": ["192.0.2.53"], "searches": ["example.org"],
        "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]})
    agent.wait_pod("own-dns", running, "Running")
    assert read_resolv_conf(agent, "own-dns", "a") == (
        "nameserver 192.0.2.53\nsearch example.org\noptions ndots:2 edns0\n")
