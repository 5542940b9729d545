"""E2E fixtures: a real agent process against the real Docker engine and a real apiserver.

Each test gets its own node (name, Docker network with a /24 of its own, port,
root dir) and namespace, and the teardown removes everything the test made:
it stops the agent, then removes every container and volume labelled with
the test's node and the pods the test created, the network, the Node, its
Lease and the namespace.
"""

from __future__ import annotations

import contextlib
import ipaddress
import random
import shutil
import ssl
import sys
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest

from agent.podsync.volumes import memory_dir
from apimachinery import errors
from apimachinery.client import Client
from apimachinery.meta import Object
from apimachinery.pki import make_serving_cert, write_private
from cli.cluster.processes import Apiserver, Process, free_port, wait_for

IMAGE = "schooner/busybox:latest"


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        pytest.skip(f"no Docker engine: {exc}")
    try:
        client.images.get(IMAGE)
    except docker.errors.ImageNotFound:
        pytest.skip(f"{IMAGE} is missing: make -f deploy/images/images.mk image-busybox")
    yield client
    client.close()


def free_subnet(client: docker.DockerClient) -> str:
    """A /24 in 172.28.0.0/16 that no Docker network uses yet."""
    used = [ipaddress.ip_network(cfg["Subnet"]) for net in client.api.networks()
            for cfg in (net.get("IPAM") or {}).get("Config") or [] if cfg.get("Subnet")]
    candidates = list(range(100, 250))
    random.shuffle(candidates)
    for third in candidates:
        subnet = ipaddress.ip_network(f"172.28.{third}.0/24")
        if not any(subnet.overlaps(u) for u in used):
            return str(subnet)
    raise RuntimeError("no free /24 left in 172.28.0.0/16")


class AgentNode:
    """One agent process and everything it is known to have made."""

    def __init__(self, apiserver: Apiserver, client: Client, docker_client: docker.DockerClient,
                 workdir: Path, extra_args: list[str]) -> None:
        suffix = uuid.uuid4().hex[:8]
        self.apiserver, self.client, self.docker = apiserver, client, docker_client
        self.name = f"e2e-{suffix}"
        self.network = f"schooner-e2e-{suffix}"
        self.subnet = free_subnet(docker_client)
        self.port = free_port()
        self.root_dir = workdir / "root"
        self.namespace = f"e2e-{suffix}"
        self.pod_uids: set[str] = set()
        # the node's own identity (system:node:NAME): only what the Node authorizer allows
        kubeconfig = apiserver.component_kubeconfig(workdir / "kubeconfig", "agent", self.name)
        self.process = Process("agent", [
            sys.executable, "-m", "agent", "--kubeconfig", str(kubeconfig),
            "--node-name", self.name, "--node-ip", "127.0.0.1", "--port", str(self.port),
            *self._serving_tls(workdir),
            "--pod-cidr", self.subnet, "--network-name", self.network,
            "--root-dir", str(self.root_dir), "--sync-frequency", "5s",
            # the host's engine is shared: no image GC unless a test asks (the last flag wins)
            "--image-gc-high-threshold", "100", *extra_args,
        ], workdir / "agent.log")

    def _serving_tls(self, workdir: Path) -> list[str]:
        """The node's serving certificate from the apiserver's CA (its name and
        127.0.0.1), and that CA for callers' client certificates (the apiserver's)."""
        workdir.mkdir(parents=True, exist_ok=True)
        cert, key = make_serving_cert(self.apiserver.ca_pem, self.apiserver.ca_key_pem,
                                      hosts=[self.name, "127.0.0.1"],
                                      common_name=f"system:node:{self.name}")
        (workdir / "agent.crt").write_bytes(cert)
        write_private(workdir / "agent.key", key)
        (workdir / "ca.crt").write_bytes(self.apiserver.ca_pem)
        return ["--tls-cert-file", str(workdir / "agent.crt"),
                "--tls-private-key-file", str(workdir / "agent.key"),
                "--client-ca-file", str(workdir / "ca.crt")]

    # -- process ------------------------------------------------------------------------

    def start(self) -> AgentNode:
        self.process.start()
        wait_for(self.healthy, 30, f"agent {self.name} healthy\n{self.process.log_tail()}")
        wait_for(self.node_ready, 30, f"node {self.name} Ready\n{self.process.log_tail()}")
        return self

    def healthy(self) -> bool:
        if self.process.popen and self.process.popen.poll() is not None:
            raise AssertionError(f"agent exited:\n{self.process.log_tail()}")
        # health only: a test's agent may serve a certificate no CA here signed
        return httpx.get(f"{self.url}/healthz", timeout=2, verify=False).text == "ok"

    def node_ready(self) -> bool:
        node = self.client.get("nodes", self.name)
        return any(c["type"] == "Ready" and c["status"] == "True"
                   for c in node["status"].get("conditions") or [])

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def ssl(self, cert: tuple[str, str] | None = None) -> ssl.SSLContext:
        """Trusts the cluster CA (the agent's serving certificate); with `cert`
        (certificate file, key file), presents that client certificate."""
        context = ssl.create_default_context(cadata=self.apiserver.ca_pem.decode())
        if cert is not None:
            context.load_cert_chain(*cert)
        return context

    def http(self, token: str | None = "admin",
             cert: tuple[str, str] | None = None) -> httpx.Client:
        token = self.apiserver.token if token == "admin" else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30,
                            verify=self.ssl(cert))

    # -- pods ---------------------------------------------------------------------------

    def create_pod(self, name: str, containers: list[Object], **spec: Any) -> Object:
        body = {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": self.namespace},
                "spec": {"nodeName": self.name, "containers": containers,
                         "terminationGracePeriodSeconds": 5, **spec}}
        pod = self.client.create("pods", body)
        self.pod_uids.add(pod["metadata"]["uid"])
        return pod

    def pod(self, name: str) -> Object:
        return self.client.get("pods", name, self.namespace)

    def wait_pod(self, name: str, check: Callable[[Object], Any], what: str,
                 timeout: float = 30) -> Any:
        def probe() -> Any:
            pod = self.pod(name)
            return check(pod) and pod
        try:
            return wait_for(probe, timeout, f"pod {name}: {what}", interval=0.1)
        except AssertionError as exc:
            status = self.pod(name).get("status")
            raise AssertionError(f"{exc}\nstatus: {status}\n{self.process.log_tail()}") from None

    def containers(self, pod_uid: str, *, sandbox: bool | None = False) -> list[Any]:
        found = self.docker.containers.list(all=True, filters={
            "label": [f"schooner.pod.uid={pod_uid}", f"schooner.node={self.name}"]})
        if sandbox is None:
            return found
        return [c for c in found if (c.labels.get("schooner.sandbox") == "true") == sandbox]

    # -- teardown -----------------------------------------------------------------------

    def _remove_containers(self, pool: ThreadPoolExecutor, flt: dict[str, list[str]]) -> None:
        """Until none is left: creates and starts the stopped agent sent still land in
        Docker, and removing a container in the middle of its start leaks its network
        endpoint (the network then cannot be removed), so wait for those first."""
        def remove(container_id: str) -> None:
            with contextlib.suppress(docker.errors.NotFound):
                self.docker.api.remove_container(container_id, force=True)

        def settled() -> bool:
            return not any(r.get("State") == "created"
                           for r in self.docker.api.containers(all=True, filters=flt))
        for _ in range(5):
            with contextlib.suppress(AssertionError):  # one that never starts: go on
                wait_for(settled, 5, "containers mid-start", interval=0.2)
            ids = [c["Id"] for c in self.docker.api.containers(all=True, filters=flt)]
            if not ids:
                return
            list(pool.map(remove, ids))

    @staticmethod
    def _removed(network: Any) -> bool:
        try:
            network.remove()
        except docker.errors.NotFound:
            return True
        except docker.errors.APIError as exc:
            if "active endpoints" not in str(exc):
                raise
            return False
        return True

    def cleanup(self) -> None:
        self.process.stop()
        # the stopped agent cannot remove its pods' Secret and token files from memory
        shutil.rmtree(memory_dir(self.root_dir), ignore_errors=True)
        filters = [{"label": [f"schooner.node={self.name}"]}] + [
            {"label": [f"schooner.pod.uid={uid}"]} for uid in self.pod_uids]
        with ThreadPoolExecutor(16) as pool:  # Docker removes several at once faster
            for flt in filters:
                self._remove_containers(pool, flt)
                for volume in self.docker.volumes.list(filters=flt):
                    volume.remove(force=True)
        for network in self.docker.networks.list(names=[self.network]):
            if network.name == self.network:
                # After a storm of ~300 containers Docker took more than 15 s here.
                wait_for(lambda n=network: self._removed(n), 60, f"network {self.network} "
                         "removed (Docker frees endpoints of removed containers lazily)")
        for resource, name, ns in (("leases", self.name, "kube-node-lease"),
                                   ("nodes", self.name, None),
                                   ("namespaces", self.namespace, None)):
            with contextlib.suppress(errors.NotFound):
                self.client.delete(resource, name, ns)


@pytest.fixture
def agent_factory(apiserver: Apiserver, docker_client: docker.DockerClient,
                  tmp_path: Path) -> Iterator[Callable[..., AgentNode]]:
    """Start agents (extra flags allowed); all are stopped and cleaned up afterwards."""
    made: list[AgentNode] = []
    client = apiserver.client()

    def make(*extra_args: str) -> AgentNode:
        node = AgentNode(apiserver, client, docker_client, tmp_path / f"agent{len(made)}",
                         list(extra_args))
        made.append(node)
        client.create("namespaces", {"metadata": {"name": node.namespace}})
        return node.start()

    try:
        yield make
    finally:
        try:
            for node in made:
                node.cleanup()
        finally:  # a failed cleanup must not leak the client's TLS sockets into later tests
            client.close()


@pytest.fixture
def agent(agent_factory: Callable[..., AgentNode]) -> AgentNode:
    """An agent with a 1 s restart back-off, for speed (the default is 10 s)."""
    return agent_factory("--backoff-base", "1s", "--backoff-max", "8s")
