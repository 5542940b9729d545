"""`schooner-node`: one lab host's init: its own dockerd, `schooner join`, the agent and proxy.

A lab node is a container that behaves like a separate host (RECIPES: the
Docker-in-Docker flags). This process is its PID 1: it starts dockerd (pulling
through the lab registry as a mirror, so `schooner/web-example:1` is fetched
from the lab the way a kubelet pulls), waits for the engine, then joins the
cluster exactly as `schooner join SERVER --token T --discovery-token-ca-cert-hash H`
does (cli/join/: token discovery, then its client and serving certificates by
CSR), retrying while the control plane is still starting, and keeps what joining
gave it under /var/lib/schooner (a restarted node joins no second time). It then
runs `schooner-agent` and `schooner-proxy` as the node, with the command lines
`schooner join` would install as systemd units, plus the lab's failover URLs. If
any of the three exits, the others are stopped and the node exits with that code,
as a host whose kubelet died would be replaced; SIGTERM stops all three in reverse
(the agent leaves the pods' containers running, to adopt them on restart).

On a real separate host, `schooner join` does the same (docs/architecture.md,
"Running a node on another host").
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from cli.join import services, tlsbootstrap
from cli.join.discovery import JoinError, discover, server_url

DOCKER_SOCKET = "/var/run/docker.sock"
DOCKER_START_TIMEOUT = 60.0
JOIN_TIMEOUT = 300.0  # the control plane may still be starting
NODE_HOME = "/var/lib/schooner"


def node_ip() -> str:
    """This container's address on the lab network (Docker writes it to /etc/hosts)."""
    return socket.gethostbyname(socket.gethostname())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="schooner-node",
                                description="Run dockerd, the agent and the proxy on a lab node.")
    p.add_argument("--join", required=True, metavar="SERVER",
                   help="the apiserver to join through, HOST:PORT")
    p.add_argument("--token", required=True, help="the bootstrap token")
    p.add_argument("--discovery-token-ca-cert-hash", required=True,
                   help="sha256:<hex> of the cluster CA's public key")
    p.add_argument("--apiserver-urls", default="",
                   help="more apiservers to fail over to, comma-separated (agent and proxy)")
    p.add_argument("--node-name", default=socket.gethostname().lower())
    p.add_argument("--node-ip", default="", help="default: this host's address")
    p.add_argument("--registry-mirror", default="",
                   help="host:port of the lab registry, used as dockerd's mirror")
    p.add_argument("--cluster-cidr", required=True, help="the pod network (all nodes)")
    p.add_argument("--service-cluster-ip-range", required=True)
    p.add_argument("--cluster-dns", required=True, help="the cluster DNS address")
    return p.parse_args(argv)


def dockerd_command(args: argparse.Namespace) -> list[str]:
    cmd = ["dockerd", "--host", f"unix://{DOCKER_SOCKET}", "--bridge", "none",
           "--log-level", "warn"]
    if args.registry_mirror:
        cmd += ["--registry-mirror", f"http://{args.registry_mirror}",
                "--insecure-registry", args.registry_mirror]
    return cmd


def failover(args: argparse.Namespace) -> list[str]:
    return ["--apiserver-urls", args.apiserver_urls] if args.apiserver_urls else []


def network(args: argparse.Namespace) -> services.HostNetwork:
    return services.HostNetwork(args.cluster_cidr, args.service_cluster_ip_range,
                                args.cluster_dns)


def agent_command(args: argparse.Namespace, files: tlsbootstrap.NodeFiles,
                  ip: str) -> list[str]:
    return [*services.agent_command(files, args.node_name, ip, network(args)),
            *failover(args)]


def proxy_command(args: argparse.Namespace, files: tlsbootstrap.NodeFiles,
                  ip: str) -> list[str]:
    return [*services.proxy_command(files, ip, network(args)),
            "--healthz-bind-address", "0.0.0.0", *failover(args)]


def join(args: argparse.Namespace, files: tlsbootstrap.NodeFiles, ip: str,
         timeout: float = JOIN_TIMEOUT) -> None:
    """`schooner join`'s discovery and TLS bootstrap, retried while the control plane is
    not there yet; a wrong token or CA hash ends the node at once."""
    if files.joined():
        print(f"schooner-node: already joined ({files.kubeconfig})", flush=True)
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            cluster = discover(args.join, args.token, args.discovery_token_ca_cert_hash)
            tlsbootstrap.bootstrap(cluster, args.token, args.node_name, ip, files,
                                   server=server_url(args.join))
            print(f"schooner-node: joined as system:node:{args.node_name}", flush=True)
            return
        except JoinError as exc:
            if not exc.transient or time.monotonic() >= deadline:
                sys.exit(f"schooner-node: error: {exc}")
            print(f"schooner-node: not joined yet: {exc}", flush=True)
            time.sleep(2)


def wait_for_docker(dockerd: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + DOCKER_START_TIMEOUT
    while time.monotonic() < deadline:
        if dockerd.poll() is not None:
            sys.exit(f"schooner-node: dockerd exited with {dockerd.returncode}")
        probe = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                               capture_output=True, check=False)
        if probe.returncode == 0:
            return
        time.sleep(0.2)
    sys.exit(f"schooner-node: dockerd did not answer within {DOCKER_START_TIMEOUT:.0f}s")


def stop_all(children: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM in reverse start order, each given time to clean up, then SIGKILL."""
    for child in reversed(children):
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(20)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def _program(child: subprocess.Popen[bytes]) -> str:
    """The program a child runs: the first word of the command it was started with."""
    command = child.args
    if isinstance(command, str | bytes | os.PathLike):
        return os.fsdecode(command)
    return os.fsdecode(command[0])


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    ip = args.node_ip or node_ip()
    files = tlsbootstrap.NodeFiles(Path(NODE_HOME))
    stopping = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"schooner-node: node={args.node_name} ip={ip}", flush=True)
    dockerd = subprocess.Popen(dockerd_command(args))
    children = [dockerd]
    try:
        wait_for_docker(dockerd)
        join(args, files, ip)
        children.append(subprocess.Popen(agent_command(args, files, ip)))
        children.append(subprocess.Popen(proxy_command(args, files, ip)))
        while not stopping:
            for child in children:
                if child.poll() is not None:
                    print(f"schooner-node: {_program(child)} exited with {child.returncode}",
                          file=sys.stderr, flush=True)
                    stopping = True
            time.sleep(0.5)
    finally:
        stop_all(children)
    codes = [c.returncode for c in children if c.returncode not in (0, -signal.SIGTERM)]
    sys.exit(codes[0] if codes else 0)


if __name__ == "__main__":
    main()
