"""The multi-host pod network on one machine: node IPAM, the agent's bridge, its routes and rules.

A real controller-manager (node IPAM), a real agent with --cluster-cidr on the
real Docker engine, and a peer Node object standing in for a second host. The
host's own routing table and firewall are never touched: the agent runs `ip`
and `iptables` inside a network namespace of this test's own
(`--host-network-netns`), whose veth carries the lab's node addresses; the
namespace, and everything in it, is deleted afterwards. The cluster CIDR is
172.28.96.0/22, beside the /24s the other e2e tests take, so the pod bridge
the agent creates on the host's Docker never overlaps a lab network.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import docker
import pytest

from apimachinery import errors
from cli.cluster.processes import (
    Apiserver,
    Process,
    own_control_plane,
    start_controller_manager,
    wait_for,
)

if TYPE_CHECKING:
    from tests.e2e.conftest import AgentNode

pytestmark = pytest.mark.e2e
CLUSTER_CIDR = "172.28.96.0/22"
SERVICE_CIDR = "172.28.99.0/24"
NODE_ADDRESS, PEER_ADDRESS = "172.30.0.2", "172.30.0.3"
TIMEOUT = 30.0


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apiserver]:
    """This module's own etcd and apiserver: its node IPAM must see only its own Nodes."""
    with own_control_plane(tmp_path_factory.mktemp("podnet")) as server:
        yield server


def in_netns(netns: str, script: str) -> str:
    done = subprocess.run(["ip", "netns", "exec", netns, "sh", "-ec", script],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"{script}: {done.stderr}"
    return done.stdout


@pytest.fixture
def netns() -> Iterator[str]:
    """A network namespace with a veth on the lab's node network and a DOCKER-USER chain."""
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    name = f"schooner-test-{uuid.uuid4().hex[:8]}"
    if subprocess.run(["ip", "netns", "add", name], capture_output=True).returncode != 0:
        pytest.skip("cannot create a network namespace here")
    try:
        in_netns(name, f"""
            ip link set lo up
            ip link add v0 type veth peer name v1
            ip addr add {NODE_ADDRESS}/16 dev v0
            ip link set v0 up; ip link set v1 up
            iptables -w -N DOCKER-USER; iptables -w -A DOCKER-USER -j RETURN
            # left by a previous run: one stale route of ours, one not ours to remove
            ip route add 172.28.98.0/24 via 172.30.0.9 proto 157
            ip route add 10.99.0.0/24 via 172.30.0.9 proto 157
        """)
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], capture_output=True)


@pytest.fixture
def node_ipam(apiserver: Apiserver, tmp_path: Path) -> Iterator[Process]:
    proc = start_controller_manager(
        apiserver.component_kubeconfig(tmp_path / "kubeconfig", "controller-manager"),
        tmp_path / "controller-manager.log",
        "--controllers", "nodeipam", "--allocate-node-cidrs", "--cluster-cidr", CLUSTER_CIDR,
        "--node-cidr-mask-size", "24", "--service-cluster-ip-range", SERVICE_CIDR,
        timeout=TIMEOUT)
    try:
        yield proc
    finally:
        proc.stop()


def cluster_cidr_free(client: docker.DockerClient) -> bool:
    cidr = ipaddress.ip_network(CLUSTER_CIDR)
    return not any(ipaddress.ip_network(cfg["Subnet"]).overlaps(cidr)
                   for net in client.api.networks()
                   for cfg in (net.get("IPAM") or {}).get("Config") or [] if cfg.get("Subnet"))


def routes(netns: str) -> set[str]:
    return {" ".join(line.split()[:3]) for line in
            in_netns(netns, "ip route show proto 157").splitlines()}


def test_pods_get_the_nodes_allocated_cidr_and_routes_follow_the_peers(
        netns: str, node_ipam: Process, apiserver: Apiserver,
        docker_client: docker.DockerClient, agent_factory: Callable[..., AgentNode]) -> None:
    if not cluster_cidr_free(docker_client):
        pytest.skip(f"a Docker network already overlaps {CLUSTER_CIDR}")
    client = apiserver.client()
    peer = f"peer-{uuid.uuid4().hex[:6]}"
    client.create("nodes", {"metadata": {"name": peer}, "spec": {}, "status": {
        "addresses": [{"type": "InternalIP", "address": PEER_ADDRESS}]}})
    try:
        peer_cidr = wait_for(lambda: client.get("nodes", peer)["spec"].get("podCIDR"),
                             TIMEOUT, f"the peer's podCIDR\n{node_ipam.log_tail()}")
        agent = agent_factory("--cluster-cidr", CLUSTER_CIDR, "--host-network-netns", netns,
                              "--pod-cidr-timeout", "30s")
        node_cidr = client.get("nodes", agent.name)["spec"]["podCIDR"]
        assert node_cidr != peer_cidr
        assert ipaddress.ip_network(node_cidr).subnet_of(ipaddress.ip_network(CLUSTER_CIDR))

        bridge = docker_client.networks.get(agent.network)
        assert [c["Subnet"] for c in bridge.attrs["IPAM"]["Config"]] == [node_cidr]
        assert bridge.attrs["Options"] == {
            "com.docker.network.bridge.enable_ip_masquerade": "false"}

        want = {f"{peer_cidr} via {PEER_ADDRESS}", "10.99.0.0/24 via 172.30.0.9"}
        wait_for(lambda: routes(netns) == want, TIMEOUT,
                 f"the peer's route, the stale one gone\n{agent.process.log_tail()}")
        rules = in_netns(netns, "iptables -w -S DOCKER-USER").splitlines()
        assert rules[1:3] == [
            f'-A DOCKER-USER -d {CLUSTER_CIDR} -m comment --comment "schooner pod network" '
            "-j ACCEPT",
            f'-A DOCKER-USER -s {CLUSTER_CIDR} -m comment --comment "schooner pod network" '
            "-j ACCEPT"], rules

        agent.create_pod("web", [{"name": "web", "image": "schooner/busybox:latest",
                                  "imagePullPolicy": "Never", "command": ["sleep", "3600"]}])
        pod = agent.wait_pod("web", lambda p: p["status"].get("podIP"), "a pod IP")
        assert ipaddress.ip_address(pod["status"]["podIP"]) in ipaddress.ip_network(node_cidr)

        client.delete("nodes", peer)
        wait_for(lambda: routes(netns) == {"10.99.0.0/24 via 172.30.0.9"}, TIMEOUT,
                 f"the gone peer's route removed\n{agent.process.log_tail()}")
        assert len(in_netns(netns, "iptables -w -S DOCKER-USER").splitlines()) == 4  # once
    finally:
        with contextlib.suppress(errors.NotFound):
            client.delete("nodes", peer)
        client.close()
