"""A throwaway local cluster, started by `schooner up`'s launcher, for e2e tests and benchmarks.

It gets its own home, free ports, node name, pod network and CIDR, so it never
touches a cluster started by `make up` on the same Docker engine, and it is
stopped and its Docker leftovers removed however the `with` block ends.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent.podsync.volumes import memory_dir
from apimachinery.client import Client
from cli.cluster import local
from cli.cluster.processes import free_port


def own_cluster_env(tag: str, cidr: str, service_cidr: str) -> dict[str, str]:
    """Free component ports, and a node name, pod network and ranges named by `tag`: an
    agent removes the containers of its node that its cluster lacks, so a second
    cluster sharing `make up`'s node name would empty that cluster."""
    return {
        "SCHOONER_CONTROLLER_MANAGER_PORT": str(free_port()),
        "SCHOONER_SCHEDULER_PORT": str(free_port()),
        "SCHOONER_AGENT_PORT": str(free_port()),
        "SCHOONER_PROXY_PORT": str(free_port()),
        "SCHOONER_SERVICE_CIDR": service_cidr,
        "SCHOONER_POD_NETWORK": f"schooner-{tag}",
        "SCHOONER_NODE_NAME": f"node-{tag}",
        "SCHOONER_POD_CIDR": cidr,
    }


@contextmanager
def local_cluster(home: Path, tag: str, cidr: str, service_cidr: str = "172.28.99.0/24"
                  ) -> Iterator[tuple[Client, Path]]:
    """Start the whole local cluster (with the proxy when root); stop it all after."""
    env = own_cluster_env(tag, cidr, service_cidr)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        st = local.up(home, etcd_port=free_port(), etcd_peer_port=free_port(),
                      etcd_metrics_port=free_port(), apiserver_port=free_port(), timeout=60)
        client = Client.from_kubeconfig(str(st.kubeconfig))
        try:
            yield client, st.kubeconfig
        finally:
            client.close()
    finally:
        local.down(home)
        remove_leftovers(env["SCHOONER_NODE_NAME"], env["SCHOONER_POD_NETWORK"])
        # its pods' Secret and token files, in memory (the agent keeps them for the
        # containers it leaves running; these are gone now)
        shutil.rmtree(memory_dir(home / "agent"), ignore_errors=True)  # its --root-dir
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def remove_leftovers(node: str, network: str) -> None:
    """What the agent leaves at shutdown by design: running containers (it adopts them
    next start), claim volumes (they outlive pods), and the pod network."""
    ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=schooner.node={node}"],
                         capture_output=True, text=True, check=False).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-f", "-v", *ids], capture_output=True, check=False)
    volumes = subprocess.run(["docker", "volume", "ls", "-q", "--filter",
                              f"label=schooner.node={node}"],
                             capture_output=True, text=True, check=False).stdout.split()
    if volumes:
        subprocess.run(["docker", "volume", "rm", "-f", *volumes], capture_output=True,
                       check=False)
    subprocess.run(["docker", "network", "rm", network], capture_output=True, check=False)
