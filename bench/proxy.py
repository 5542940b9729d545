"""The service proxy's cost: HTTP through a ClusterIP against straight to the same pod.

Run from the repository root, as root (the proxy adds ClusterIPs to `lo`)::

    .venv/bin/python bench/proxy.py [--quick] [--write docs/benchmarks.md]

It starts a whole local cluster of its own (`cli.cluster.throwaway`: etcd,
apiserver, controller-manager, scheduler, agent and proxy, on free ports, with its own
pod network and service range inside 172.28.0.0/16), runs one replica of the web
example behind a ClusterIP Service, and then, in one run and interleaved round by
round so drift hits both alike:

1. latency: N small `GET /healthz` requests one after another, each on a new TCP
   connection (the example's server closes after every response, as HTTP/1.0 does),
   to `podIP:8080` and to `clusterIP:80`; p50 and p99 of each, and their ratio;
2. throughput: 8 client threads sending M requests each, to either address;
   requests per second.

Load is bounded (fixed counts, 5 s timeouts) and goes only to addresses inside the
cluster's own pod network and service range. Everything made is removed at the end.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: `bench` lives at the repo root
    sys.path.insert(0, str(ROOT))

from apimachinery.client import Client  # noqa: E402
from bench.report import write_section  # noqa: E402
from cli.cluster.processes import wait_for  # noqa: E402
from cli.cluster.throwaway import local_cluster  # noqa: E402

REQUEST = b"GET /healthz HTTP/1.0\r\nHost: bench\r\n\r\n"
POD_CIDR, SERVICE_CIDR = "172.28.97.0/24", "172.28.96.0/24"
THREADS = 8


def one_request(ip: str, port: int) -> float:
    """Seconds for connect + request + whole response; raises if the answer is not 200."""
    started = time.perf_counter()
    with socket.create_connection((ip, port), timeout=5) as sock:
        sock.sendall(REQUEST)
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    elapsed = time.perf_counter() - started
    status_line = b"".join(chunks).split(b"\r\n", 1)[0]
    if status_line.split(b" ")[1:2] != [b"200"]:
        raise RuntimeError(f"unexpected answer from {ip}:{port}: {status_line!r}")
    return elapsed


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def throughput(ip: str, port: int, per_thread: int) -> float:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(per_thread):
                one_request(ip, port)
        except BaseException as exc:  # reported after the join
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"throughput run failed: {errors[0]!r}")
    return THREADS * per_thread / elapsed


def deploy(client: Client) -> tuple[str, str]:
    """One web-example replica and its ClusterIP Service; returns (podIP, clusterIP)."""
    labels = {"app": "bench-proxy"}
    client.create("deployments", {
        "metadata": {"name": "bench-proxy"},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels}, "spec": {"containers": [{
                "name": "web", "image": "schooner/web-example:1", "imagePullPolicy": "Never",
                "ports": [{"name": "http", "containerPort": 8080}],
                "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080},
                                   "periodSeconds": 1}}]}}}}, "default")
    svc = client.create("services", {
        "metadata": {"name": "bench-proxy"},
        "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": "http"}]}},
        "default")
    cluster_ip = svc["spec"]["clusterIP"]

    def ready_ip() -> str | None:
        eps = client.get("endpoints", "bench-proxy", "default")
        ips = [a["ip"] for s in eps.get("subsets") or [] for a in s.get("addresses") or []]
        return ips[0] if ips else None
    pod_ip = wait_for(ready_ip, 180, "a ready endpoint", 0.5)
    wait_for(lambda: one_request(cluster_ip, 80), 30, "the proxy listening", 0.2)
    return pod_ip, cluster_ip


def measure(pod_ip: str, cluster_ip: str, rounds: int, per_round: int,
            per_thread: int) -> dict[str, dict[str, float]]:
    targets = {"direct": (pod_ip, 8080), "proxy": (cluster_ip, 80)}
    latencies: dict[str, list[float]] = {k: [] for k in targets}
    for target in targets.values():  # warm both paths
        for _ in range(20):
            one_request(*target)
    for _ in range(rounds):
        for name, target in targets.items():
            latencies[name] += [one_request(*target) for _ in range(per_round)]
    rates: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(3):
        for name, target in targets.items():
            rates[name].append(throughput(*target, per_thread))
    return {name: {"p50": percentile(latencies[name], 0.50) * 1000,
                   "p99": percentile(latencies[name], 0.99) * 1000,
                   "n": float(len(latencies[name])),
                   "rps": statistics.median(rates[name])} for name in targets}


def report(results: dict[str, dict[str, float]], command: str) -> str:
    d, p = results["direct"], results["proxy"]
    lines = [
        f"Command: `{command}` (machine: {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}).",
        "",
        "One web-example pod (Flask's server) behind a ClusterIP Service on a single-host "
        "cluster; small `GET /healthz`, a new TCP connection per request; latency from "
        f"{int(d['n'])} requests per path, interleaved in rounds; throughput with "
        f"{THREADS} client threads, median of 3 runs.",
        "",
        "| path | p50 ms | p99 ms | requests/s |",
        "|---|---|---|---|",
        f"| direct to podIP:8080 | {d['p50']:.2f} | {d['p99']:.2f} | {d['rps']:.0f} |",
        f"| through the proxy, clusterIP:80 | {p['p50']:.2f} | {p['p99']:.2f} | "
        f"{p['rps']:.0f} |",
        f"| ratio proxy/direct | {p['p50'] / d['p50']:.2f}x | {p['p99'] / d['p99']:.2f}x | "
        f"{p['rps'] / d['rps']:.2f}x |",
        "",
        f"Target: p50 overhead within 2x of direct: "
        f"{'met' if p['p50'] <= 2 * d['p50'] else 'NOT met'}.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests (a smoke run)")
    parser.add_argument("--write", type=Path, help="rewrite this file's proxy section")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench/proxy.py: run as root (the proxy adds ClusterIPs to lo)", file=sys.stderr)
        return 1
    rounds, per_round, per_thread = (2, 50, 20) if args.quick else (10, 100, 100)
    with tempfile.TemporaryDirectory(prefix="schooner-bench-proxy-") as home, \
            local_cluster(Path(home), "benchproxy", POD_CIDR, SERVICE_CIDR) as (client, _):
        pod_ip, cluster_ip = deploy(client)
        results = measure(pod_ip, cluster_ip, rounds, per_round, per_thread)
    command = ".venv/bin/python bench/proxy.py" + (" --quick" if args.quick else "")
    text = report(results, command)
    print(text)
    if args.write:
        write_section(args.write, "proxy", "Service proxy: through a ClusterIP vs direct",
                      text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
