"""The compatibility suite: clients Schooner did not write, against a whole local cluster.

One throwaway cluster (etcd, apiserver, scheduler, controller-manager, an agent on the
real Docker engine, the proxy when root) serves every test in this folder; each test
works in a namespace of its own, deleted after it. `kubectl` is the real kubectl v1.32
(a dispatcher: the server's /version minor picks the binary), run with a HOME of its
own so no discovery cache outlives a test; `official` is the `kubernetes` Python
client's ApiClient.

Every test names the rows of docs/compatibility.md it proves with
`@pytest.mark.compat("row", ...)`; test_compatibility_table.py keeps the table and
the marks in step.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest

from apimachinery import errors
from apimachinery.client import Client
from cli.cluster.processes import wait_for
from cli.cluster.throwaway import local_cluster

ROOT_CA = "kube-root-ca.crt"  # the cluster CA's ConfigMap, in every namespace

KUBECTL = shutil.which("kubectl")
IMAGE = "schooner/busybox:latest"
TAG = f"compat{os.getpid()}"


@dataclass
class Cluster:
    """The running throwaway cluster: an admin client, its kubeconfig and its node's name."""

    client: Client
    kubeconfig: Path
    node: str


def _docker_or_skip() -> None:
    try:
        engine = docker.from_env()
    except docker.errors.DockerException as exc:
        pytest.skip(f"no Docker engine: {exc}")
    try:
        engine.images.get(IMAGE)
    except docker.errors.ImageNotFound:
        pytest.skip(f"{IMAGE} is missing: make images")
    finally:
        engine.close()


def free_cidrs() -> tuple[str, str]:
    """A pod /24 in 172.28.60-78.0 that no Docker network holds, and the service /24 twenty
    above it: two suites may run at once on one engine (the e2e tests use 100 and up)."""
    engine = docker.from_env()
    try:
        used = [ipaddress.ip_network(cfg["Subnet"]) for net in engine.api.networks()
                for cfg in (net.get("IPAM") or {}).get("Config") or [] if cfg.get("Subnet")]
    finally:
        engine.close()
    used += _host_addresses()
    for step in range(19):
        third = 60 + (os.getpid() + step) % 19
        pods = ipaddress.ip_network(f"172.28.{third}.0/24")
        services = ipaddress.ip_network(f"172.28.{third + 20}.0/24")
        if not any(pods.overlaps(u) or services.overlaps(u) for u in used):
            return str(pods), f"172.28.{third + 20}.0/24"
    raise RuntimeError("no free pod /24 left in 172.28.60-78.0")


def _host_addresses() -> list[ipaddress.IPv4Network]:
    """The host's own IPv4 addresses: a proxy puts its Service IPs on `lo`, and another
    suite's proxy (or one killed before its cleanup) may hold some of a range."""
    out = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True,
                         check=False).stdout
    return [ipaddress.ip_network(line.split()[3], strict=False) for line in out.splitlines()
            if len(line.split()) > 3]


@pytest.fixture(scope="package")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if KUBECTL is None:
        pytest.skip("kubectl is not installed")
    _docker_or_skip()
    pods, services = free_cidrs()
    with local_cluster(tmp_path_factory.mktemp("cluster"), TAG, pods,
                       services) as (client, kubeconfig):
        node = f"node-{TAG}"
        wait_for(lambda: _node_ready(client, node), 60, f"node {node} Ready")
        yield Cluster(client, kubeconfig, node)


def _node_ready(client: Client, name: str) -> bool:
    try:
        node = client.get("nodes", name)
    except errors.NotFound:
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (node.get("status") or {}).get("conditions") or [])


@pytest.fixture
def namespace(cluster: Cluster) -> Iterator[str]:
    """A fresh namespace per test; deleting it removes whatever the test made in it.

    As in Kubernetes, every namespace holds the root-ca-cert-publisher's ConfigMap
    `kube-root-ca.crt`: the fixture waits for it, so it is there before the test (in
    every list it makes, never an event of a watch it starts)."""
    name = f"c-{uuid.uuid4().hex[:8]}"
    cluster.client.create("namespaces", {"metadata": {"name": name}})

    def published() -> bool:
        try:
            return bool(cluster.client.get("configmaps", ROOT_CA, name))
        except errors.NotFound:
            return False
    wait_for(published, 30, f"{ROOT_CA} in namespace {name}", 0.05)
    yield name
    with contextlib.suppress(errors.NotFound):
        cluster.client.delete("namespaces", name)


@dataclass
class Result:
    """What one kubectl run printed, and how it exited."""

    code: int
    stdout: str
    stderr: str

    @property
    def out(self) -> str:
        return self.stdout + self.stderr


Kubectl = Callable[..., Result]


@pytest.fixture
def kubectl(cluster: Cluster, namespace: str, tmp_path: Path) -> Kubectl:
    """Run the real kubectl in the test's namespace; by default assert it exited 0.

    `ok=False` returns a failing run for the test to judge; `env` adds variables
    (e.g. KUBE_EDITOR for `kubectl edit`); `timeout` bounds commands like `get -w`.
    """
    home = tmp_path / "kubectl-home"
    home.mkdir()

    def run(*args: str, stdin: str | None = None, ok: bool = True, timeout: float = 60,
            env: dict[str, str] | None = None, namespaced: bool = True) -> Result:
        argv = [str(KUBECTL), "--kubeconfig", str(cluster.kubeconfig)]
        if namespaced:
            argv += ["-n", namespace]
        proc = subprocess.run([*argv, *args], input=stdin, capture_output=True, text=True,
                              timeout=timeout,
                              env={"HOME": str(home), "PATH": "/usr/bin:/bin", **(env or {})})
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        if ok:
            assert result.code == 0, f"kubectl {' '.join(args)} exited {result.code}: {result.out}"
        return result

    return run


@pytest.fixture
def official(cluster: Cluster) -> Iterator[Any]:
    """The official `kubernetes` Python client's ApiClient, from the cluster's kubeconfig."""
    from kubernetes import config

    api_client = config.new_client_from_config(str(cluster.kubeconfig))
    try:
        yield api_client
    finally:
        api_client.close()
