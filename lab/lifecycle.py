"""`schooner lab up|down|status`: the compose lab's lifecycle.

`up` is idempotent, as `schooner up` is: it (re)writes the credentials and the
compose file, lets docker-compose create whatever is missing, pushes the local
images to the lab registry, and waits until every node is Ready with a
podCIDR. `down` removes the containers and networks and, unless asked to keep
them, the volumes (etcd's data, the nodes' engines); the lab's CA and tokens
stay in the lab home so kubeconfigs handed out stay valid.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from apimachinery import errors
from apimachinery.client import Client
from apimachinery.kubeconfig import KubeconfigError

from . import compose, images, joining
from .files import LabFiles
from .readiness import NodeRow, node_rows, wait_for_apiserver, wait_for_nodes
from .topology import LabConfig

START_TIMEOUT = 300.0


def lab_home(home: Path | str | None = None) -> Path:
    """The given folder, else `$SCHOONER_LAB_HOME`, else `~/.schooner/lab`."""
    chosen = home or os.environ.get("SCHOONER_LAB_HOME") or "~/.schooner/lab"
    return Path(chosen).expanduser().absolute()


@dataclass(frozen=True)
class LabStatus:
    kubeconfig: Path
    containers: list[tuple[str, str]]  # (service, running|stopped)
    nodes: list[NodeRow]
    elapsed: float = 0.0


def up(config: LabConfig, home: Path, *, timeout: float = START_TIMEOUT) -> LabStatus:
    started = time.monotonic()
    files = LabFiles(home)
    files.ensure(config)
    join = joining.node_join(files.join_token, files.ca_cert)
    compose.write(config, files.etc, files.etcd_pki, join, files.compose_file)
    compose.run(config, files.compose_file, "up", "--detach", "--remove-orphans")
    images.wait_for_registry(config.registry_host_port)
    images.push(images.local_images(), config.registry_host_port)
    with Client.from_kubeconfig(str(files.kubeconfig)) as client:
        remaining = max(1.0, timeout - (time.monotonic() - started))
        wait_for_apiserver(client, remaining)
        joining.publish(client, config, join, files.ca_cert.read_bytes())
        remaining = max(1.0, timeout - (time.monotonic() - started))
        nodes = wait_for_nodes(client, config.node_names(), remaining)
    return LabStatus(files.kubeconfig, containers(config, files), nodes,
                     time.monotonic() - started)


def down(config: LabConfig, home: Path, *, keep_volumes: bool = False) -> None:
    files = LabFiles(home)
    if not files.compose_file.exists():
        return
    args = ["down", "--remove-orphans"] + ([] if keep_volumes else ["--volumes"])
    compose.run(config, files.compose_file, *args)


def containers(config: LabConfig, files: LabFiles) -> list[tuple[str, str]]:
    """(service, running|stopped) of each lab service docker-compose knows."""
    if not files.compose_file.exists():
        return []
    every = compose.run(config, files.compose_file, "ps", "--services").split()
    running = set(compose.run(config, files.compose_file, "ps", "--services", "--filter",
                              "status=running").split())
    return [(name, "running" if name in running else "stopped") for name in every]


def status(config: LabConfig, home: Path) -> LabStatus:
    files = LabFiles(home)
    nodes: list[NodeRow] = []
    if files.kubeconfig.exists():
        try:
            with Client.from_kubeconfig(str(files.kubeconfig)) as client:
                nodes = node_rows(client)
        except (errors.APIError, KubeconfigError, OSError):  # a stopped lab: no nodes to show
            nodes = []
    return LabStatus(files.kubeconfig, containers(config, files), nodes)
