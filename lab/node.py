"""`schooner-node`: one lab host's init: its own dockerd, then the agent and the proxy.

A lab node is a container that behaves like a separate host (RECIPES: the
Docker-in-Docker flags). This process is its PID 1: it starts dockerd (pulling
through the lab registry as a mirror, so `schooner/web-example:1` is fetched
from the lab the way a kubelet pulls), waits for the engine, then runs
`schooner-agent` and `schooner-proxy` with this host's address. If any of the
three exits, the others are stopped and the node exits with that code, as a
host whose kubelet died would be replaced; SIGTERM stops all three in reverse
(the agent leaves the pods' containers running, to adopt them on restart).

On a real separate host, run the agent and the proxy directly with the same
flags (docs/architecture.md, "Running a node on another host").
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

DOCKER_SOCKET = "/var/run/docker.sock"
DOCKER_START_TIMEOUT = 60.0


def node_ip() -> str:
    """This container's address on the lab network (Docker writes it to /etc/hosts)."""
    return socket.gethostbyname(socket.gethostname())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="schooner-node",
                                description="Run dockerd, the agent and the proxy on a lab node.")
    p.add_argument("--kubeconfig", required=True,
                   help="the agent's kubeconfig (the node's identity, system:node:NAME)")
    p.add_argument("--proxy-kubeconfig", default="",
                   help="the proxy's kubeconfig (system:kube-proxy); default: --kubeconfig")
    p.add_argument("--apiserver-urls", default="",
                   help="more apiservers to fail over to, comma-separated (agent and proxy)")
    p.add_argument("--node-name", default=socket.gethostname().lower())
    p.add_argument("--node-ip", default="", help="default: this host's address")
    p.add_argument("--registry-mirror", default="",
                   help="host:port of the lab registry, used as dockerd's mirror")
    p.add_argument("--cluster-cidr", required=True, help="the pod network (all nodes)")
    p.add_argument("--service-cluster-ip-range", required=True)
    p.add_argument("--cluster-dns", required=True, help="the cluster DNS address")
    p.add_argument("--root-dir", default="/var/lib/schooner/agent")
    p.add_argument("--tls-cert-file", default="", help="the agent's serving certificate")
    p.add_argument("--tls-private-key-file", default="", help="its key")
    p.add_argument("--client-ca-file", default="",
                   help="CA of the client certificates the agent accepts (the apiservers')")
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


def agent_command(args: argparse.Namespace, ip: str) -> list[str]:
    return ["schooner-agent", "--kubeconfig", args.kubeconfig, *failover(args),
            "--node-name", args.node_name, "--node-ip", ip, "--root-dir", args.root_dir,
            "--cluster-cidr", args.cluster_cidr, "--cluster-dns", args.cluster_dns,
            *(arg for flag in ("tls_cert_file", "tls_private_key_file", "client_ca_file")
              if getattr(args, flag)
              for arg in (f"--{flag.replace('_', '-')}", getattr(args, flag)))]


def proxy_command(args: argparse.Namespace, ip: str) -> list[str]:
    return ["schooner-proxy", "--kubeconfig", args.proxy_kubeconfig or args.kubeconfig,
            *failover(args),
            "--service-cluster-ip-range", args.service_cluster_ip_range,
            "--cluster-dns", args.cluster_dns, "--nodeport-addresses", ip,
            "--healthz-bind-address", "0.0.0.0"]


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
    Path(args.root_dir).mkdir(parents=True, exist_ok=True)
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
        children.append(subprocess.Popen(agent_command(args, ip)))
        children.append(subprocess.Popen(proxy_command(args, ip)))
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
