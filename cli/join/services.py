"""The agent and the proxy of a joined host: systemd units when the host runs systemd,
else detached processes supervised as the local cluster's components are.

Both call the apiserver as the node (its client certificate from `join`); the agent
serves its port with the kubelet-serving certificate `join` obtained
(`--tls-cert-file`/`--tls-private-key-file`) and takes client certificates of the
discovered CA (`--client-ca-file`). The pod network is cut by the
controller-manager's node IPAM (`--cluster-cidr`), so every joined host gets a /24
of its own.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from cli.cluster.layout import Paths
from cli.cluster.supervisor import (
    START_TIMEOUT,
    ClusterError,
    Component,
    health_client,
    running_pid,
    start,
)

from .tlsbootstrap import NodeFiles

SYSTEMD_DIR = Path("/etc/systemd/system")
AGENT_PORT, PROXY_HEALTH_PORT = 10250, 10256


@dataclass(frozen=True)
class HostNetwork:
    """The cluster's address plan, as `schooner init` set it up."""

    cluster_cidr: str
    service_cidr: str
    cluster_dns: str


def agent_command(files: NodeFiles, node: str, address: str, net: HostNetwork) -> list[str]:
    """The agent serves TLS with the kubelet-serving certificate `join` obtained (the
    apiserver checks it against the CA it dials with) and takes client certificates of
    the discovered CA (the apiserver's among them)."""
    return [sys.executable, "-m", "agent", "--kubeconfig", str(files.kubeconfig),
            "--node-name", node, "--node-ip", address, "--port", str(AGENT_PORT),
            "--root-dir", str(files.home / "agent"), "--cluster-cidr", net.cluster_cidr,
            "--cluster-dns", net.cluster_dns,
            "--tls-cert-file", str(files.serving_cert),
            "--tls-private-key-file", str(files.serving_key),
            "--client-ca-file", str(files.ca_cert)]


def proxy_command(files: NodeFiles, address: str, net: HostNetwork) -> list[str]:
    return [sys.executable, "-m", "proxy", "--kubeconfig", str(files.kubeconfig),
            "--service-cluster-ip-range", net.service_cidr, "--cluster-dns", net.cluster_dns,
            "--nodeport-addresses", address, "--healthz-port", str(PROXY_HEALTH_PORT)]


def host_components(files: NodeFiles, node: str, address: str,
                    net: HostNetwork) -> list[Component]:
    env = {"PYTHONUNBUFFERED": "1"}
    if pythonpath := os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = pythonpath
    agent = agent_command(files, node, address, net)
    # the health check verifies the serving certificate as the apiserver will: its address
    return [Component("agent", agent, f"https://{address}:{AGENT_PORT}/healthz", env=env,
                      ports=(AGENT_PORT,)),
            Component("proxy", proxy_command(files, address, net),
                      f"http://127.0.0.1:{PROXY_HEALTH_PORT}/healthz", env=env,
                      ports=(PROXY_HEALTH_PORT,))]


def has_systemd() -> bool:
    """systemd is PID 1 (its runtime directory exists) and systemctl is there."""
    return Path("/run/systemd/system").is_dir() and shutil.which("systemctl") is not None


def unit_file(component: Component) -> str:
    """A simple service unit: restarted when it exits, as kubeadm's kubelet unit."""
    env = "".join(f"Environment={shlex.quote(f'{k}={v}')}\n"
                  for k, v in sorted(component.env.items()))
    return (f"[Unit]\nDescription=Schooner {component.name}\n"
            "After=network-online.target docker.service\nWants=network-online.target\n\n"
            f"[Service]\n{env}ExecStart={shlex.join(component.argv)}\n"
            "Restart=always\nRestartSec=2\n\n[Install]\nWantedBy=multi-user.target\n")


def install_units(components: list[Component], directory: Path = SYSTEMD_DIR) -> list[Path]:
    """Write `schooner-<name>.service` for each, then enable and start them."""
    written = []
    for component in components:
        path = directory / f"schooner-{component.name}.service"
        path.write_text(unit_file(component))
        written.append(path)
    subprocess.run(["systemctl", "daemon-reload"], check=True)
    subprocess.run(["systemctl", "enable", "--now", *(p.name for p in written)], check=True)
    return written


def start_supervised(home: Path, components: list[Component],
                     timeout: float = START_TIMEOUT) -> None:
    """Start each detached with a pid file under `home`, as `schooner up` does."""
    paths = Paths(home)
    paths.run.mkdir(parents=True, exist_ok=True)
    with health_client(paths) as client:
        for component in components:
            if running_pid(paths, component) is not None:
                raise ClusterError(f"{component.name} already runs from {home}: stop it "
                                   "before joining again")
            start(paths, component, client, timeout)
