"""`SchoonerCluster`: a throwaway multi-node Schooner cluster for integration tests.

In the spirit of testcontainers' `K3SContainer`: a context manager that starts
a whole cluster in containers and hands out a kubeconfig. It starts exactly the
containers of `lab.topology` (the ones `make lab` runs), on networks and volumes
of its own with a name and subnet of its own, so it can run beside a `make lab`
and leaves nothing behind:

    from lab.testing import SchoonerCluster

    with SchoonerCluster(nodes=3) as cluster:
        client = cluster.client()             # apimachinery.client.Client, admin, every apiserver
        cluster.kubeconfig                    # a kubeconfig file for schooner/kubectl
        cluster.stop_node("node2")            # `docker stop` one host; start_node() again

The images come from the host's engine (`make image-node` builds the node image);
testcontainers' Ryuk reaper is not used (it would be pulled from a registry), so
cleanup is this class's `stop()`, which runs however the `with` block ends.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import shutil
import socket
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, Self

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

import docker
from docker.types import EndpointConfig, IPAMConfig, IPAMPool
from testcontainers.core.container import DockerContainer

from apimachinery import errors
from apimachinery.client import Client
from apimachinery.kubeconfig import load_kubeconfig

from . import images, joining
from .compose import DOCKER_IN_DOCKER
from .files import LabFiles
from .readiness import NodeRow, wait_for_apiserver, wait_for_nodes
from .topology import (
    APISERVER_DIR,
    CONFIG_DIR,
    ETCD_PKI_DIR,
    SIGNING_DIR,
    ContainerSpec,
    LabConfig,
    lab_containers,
    node_spec,
)

# /16s a test cluster may take, tried in order; `make lab` uses 172.30.0.0/16.
CANDIDATE_SUBNETS = ("172.31.0.0/16", "172.29.0.0/16", "172.27.0.0/16", "172.26.0.0/16")
START_TIMEOUT = 240.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_subnet(client: docker.DockerClient) -> str:
    """The first candidate /16 that overlaps no Docker network on this engine."""
    used: list[ipaddress.IPv4Network] = []
    for net in client.networks.list():
        for pool in (net.attrs.get("IPAM") or {}).get("Config") or []:
            with contextlib.suppress(ValueError, KeyError):
                used.append(ipaddress.IPv4Network(pool["Subnet"]))
    for candidate in CANDIDATE_SUBNETS:
        subnet = ipaddress.IPv4Network(candidate)
        if not any(subnet.overlaps(u) for u in used):
            return candidate
    raise RuntimeError(f"no free lab subnet among {', '.join(CANDIDATE_SUBNETS)}")


class SchoonerCluster:
    """A Schooner cluster of `nodes` Docker-in-Docker nodes; use it as a context manager."""

    def __init__(self, nodes: int = 3, *, etcd_members: int = 1, apiservers: int = 1,
                 image: str = LabConfig.image, push_images: bool = True,
                 start_timeout: float = START_TIMEOUT) -> None:
        self._docker = docker.from_env()
        name = f"schooner-test-{secrets.token_hex(3)}"
        self.config = LabConfig(name=name, nodes=nodes, etcd_members=etcd_members,
                                apiservers=apiservers, subnet=free_subnet(self._docker),
                                apiserver_host_port=free_port(),
                                registry_host_port=free_port(), image=image)
        if apiservers > 1:  # one host port per apiserver, each free
            self.config = replace(self.config, apiserver_host_port=self._port_run(apiservers))
        self.push_images = push_images
        self.start_timeout = start_timeout
        self._home = Path(tempfile.mkdtemp(prefix=f"{name}-"))
        self.files = LabFiles(self._home)
        self.containers: dict[str, DockerContainer] = {}

    @staticmethod
    def _port_run(count: int) -> int:
        for _ in range(50):
            base = free_port()
            if base + count < 65535 and all(_is_free(base + i) for i in range(1, count)):
                return base
        raise RuntimeError(f"no run of {count} free ports")

    # -- what tests use --

    @property
    def kubeconfig(self) -> Path:
        return self.files.kubeconfig

    @property
    def apiserver_urls(self) -> list[str]:
        """Every apiserver as the host reaches it (127.0.0.1), the kubeconfig's first."""
        base = self.config.apiserver_host_port
        return [f"https://127.0.0.1:{base + i}" for i in range(self.config.apiservers)]

    def client(self, *servers: str) -> Client:
        """An admin client of the kubeconfig's apiserver failing over to the others, or
        of `servers` (from `apiserver_urls`) in that order."""
        if servers:
            cfg = load_kubeconfig(str(self.files.kubeconfig))
            return Client(list(servers), token=cfg.token, ca_data=cfg.ca_data,
                          namespace=cfg.namespace)
        return Client.from_kubeconfig(str(self.files.kubeconfig),
                                      extra_servers=self.apiserver_urls[1:])

    def container(self, service: str) -> Any:
        """The Docker SDK container of a service (`node1`, `apiserver1`, `registry`...)."""
        return self._docker.containers.get(self.config.container_name(service))

    def node_ip(self, node: str) -> str:
        info = self.container(node).attrs["NetworkSettings"]["Networks"]
        return str(info[self.config.lab_network]["IPAddress"])

    def stop_node(self, node: str, timeout: int = 10) -> None:
        self.container(node).stop(timeout=timeout)

    def kill_node(self, node: str) -> None:
        self.container(node).kill()

    def start_node(self, node: str) -> None:
        self.container(node).start()

    def node_exec(self, node: str, *cmd: str) -> tuple[int, str]:
        """Run a command on a node host (e.g. `docker ps` against its own engine)."""
        code, out = self.container(node).exec_run(list(cmd))
        return int(code), out.decode(errors="replace")

    def add_node(self, name: str, token: str, ca_cert_hash: str | None = None) -> None:
        """Start one more node host that joins with `token` (and the lab CA's hash unless
        told another), as a new machine running `schooner join` would; `stop()` removes
        it with the rest."""
        spec = node_spec(self.config, len(self.config.node_names()), name, token,
                         ca_cert_hash or self.join.ca_cert_hash)
        self._start_container(spec, {"schooner.lab": self.config.name})

    def remove_node(self, name: str) -> None:
        """Remove a node added by `add_node`, its volumes and its Node object."""
        container = self.containers.pop(name, None)
        if container is not None:
            with contextlib.suppress(docker.errors.APIError):
                container.get_wrapped_container().remove(force=True, v=True)
        label = {"label": f"schooner.lab={self.config.name}"}
        for volume in self._docker.volumes.list(filters=label):
            if volume.name.startswith(f"{self.config.name}-{name}-"):
                with contextlib.suppress(docker.errors.APIError):
                    volume.remove(force=True)
        with self.client() as client, contextlib.suppress(errors.NotFound):
            client.delete("nodes", name)

    def wait_for_nodes(self, timeout: float = START_TIMEOUT) -> list[NodeRow]:
        with self.client() as client:
            return wait_for_nodes(client, self.config.node_names(), timeout)

    # -- lifecycle --

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        cfg = self.config
        try:  # never let testcontainers pull a missing image from a registry
            self._docker.images.get(cfg.image)
        except docker.errors.ImageNotFound:
            raise RuntimeError(f"image {cfg.image} is not built: run `make image-node`") from None
        self.files.ensure(cfg)
        self.join = joining.node_join(self.files.join_token, self.files.ca_cert)
        labels = {"schooner.lab": cfg.name}
        self._docker.networks.create(
            cfg.lab_network, driver="bridge", internal=True, labels=labels,
            ipam=IPAMConfig(pool_configs=[IPAMPool(subnet=cfg.subnet, iprange=cfg.container_range,
                                                   gateway=cfg.gateway)]))
        self._docker.networks.create(cfg.edge_network, driver="bridge", labels=labels)
        for spec in lab_containers(cfg, self.join.token, self.join.ca_cert_hash):
            self._start_container(spec, labels)
        if self.push_images:
            images.wait_for_registry(cfg.registry_host_port)
            images.push(images.local_images(), cfg.registry_host_port)
        with self.client() as client:
            wait_for_apiserver(client, self.start_timeout)
            joining.publish(client, cfg, self.join, self.files.ca_cert.read_bytes())
            wait_for_nodes(client, cfg.node_names(), self.start_timeout)

    def _start_container(self, spec: ContainerSpec, labels: dict[str, str]) -> None:
        cfg = self.config
        container = DockerContainer(cfg.image, name=cfg.container_name(spec.service))
        container.with_command(spec.command)  # an argv list, which with_command's type allows
        for name, path in spec.volumes.items():
            volume = self._docker.volumes.create(f"{cfg.name}-{name}", labels=labels)
            container.with_volume_mapping(volume.name, path, "rw")
        if spec.config_files:
            container.with_volume_mapping(self.files.config_dir(spec.service), CONFIG_DIR, "ro")
        if spec.apiserver_mount:
            container.with_volume_mapping(self.files.apiserver, APISERVER_DIR, "ro")
        if spec.signing_mount:
            container.with_volume_mapping(self.files.signing, SIGNING_DIR, "ro")
        if spec.etcd_pki:
            container.with_volume_mapping(self.files.etcd_pki_dir(spec.etcd_pki),
                                          str(ETCD_PKI_DIR), "ro")
        kwargs: dict[str, Any] = {"hostname": spec.service, "init": True, "labels": labels,
                                  "extra_hosts": spec.extra_hosts}
        if spec.restart:
            kwargs["restart_policy"] = {"Name": spec.restart}
        if spec.docker_in_docker:
            kwargs.update(DOCKER_IN_DOCKER)
            kwargs.pop("tmpfs")
            for path in DOCKER_IN_DOCKER["tmpfs"]:
                container.with_tmpfs_mount(path)
            container.with_volume_mapping("/sys/fs/cgroup", "/sys/fs/cgroup", "rw")
        # A container with published ports is created on the edge network (an internal
        # network publishes nothing), then joins the lab network under its service name.
        first = cfg.edge_network if spec.ports else cfg.lab_network
        endpoint = EndpointConfig(self._docker.api.api_version, aliases=[spec.service],
                                  ipv4_address=spec.ipv4_address
                                  if first == cfg.lab_network and spec.ipv4_address else None)
        container.with_kwargs(network=first, networking_config={first: endpoint}, **kwargs)
        for port, host_port in spec.ports.items():  # on loopback only, never 0.0.0.0
            container.ports[f"{port}/tcp"] = ("127.0.0.1", host_port)  # type: ignore[assignment]
        container.start()
        self.containers[spec.service] = container
        if first != cfg.lab_network:
            self._docker.networks.get(cfg.lab_network).connect(
                container.get_wrapped_container(), aliases=[spec.service],
                ipv4_address=spec.ipv4_address or None)

    def stop(self) -> None:
        """Remove every container, network, volume and file this cluster made."""
        remove_lab(self._docker, self.config.name)
        self.containers.clear()
        shutil.rmtree(self._home, ignore_errors=True)
        self._docker.close()


def remove_lab(client: docker.DockerClient, name: str) -> None:
    """Remove a lab's containers, volumes and networks by their `schooner.lab` label.

    By label, so a container whose start failed half-way goes too, and so a test run
    killed before its teardown can be cleaned up: `python -m lab.testing NAME...`.
    """
    label: dict[str, str | list[str] | bool] = {"label": f"schooner.lab={name}"}
    for container in client.containers.list(all=True, filters=label):
        with contextlib.suppress(docker.errors.APIError):
            container.remove(force=True, v=True)
    for volume in client.volumes.list(filters=label):
        with contextlib.suppress(docker.errors.APIError):
            volume.remove(force=True)
    for network in client.networks.list(filters=label):
        with contextlib.suppress(docker.errors.APIError):
            network.remove()


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


if __name__ == "__main__":
    import sys

    _client = docker.from_env()
    for _name in sys.argv[1:]:
        remove_lab(_client, _name)
        print(f"removed {_name}")
    _client.close()
