"""`schooner up` on a warm machine, and the footprint of the cluster it starts.

Run from the repository root::

    .venv/bin/python bench/up.py [--restarts 3] [--write docs/benchmarks.md]

Warm: the venv is installed and the images are built, as after `make up`. The
first `up` is into an empty home (certificates made, etcd empty); each restart
is `schooner down` then `schooner up` on the data kept, as a developer does it
day to day. `up` returns once every component answers its health check; the
time to the local Node being Ready is read from the apiserver after that. Then
the idle footprint of each process of that real cluster (agent and proxy
included, unlike the hollow-node runs of scale.py), from /proc. The cluster
has a home, ports, node name, pod network and address ranges of its own (so a
`make up` cluster beside it is never touched), and is stopped by its pid files
at the end, its pod network removed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from apimachinery.client import Client  # noqa: E402
from bench.footprint import Sampler  # noqa: E402
from bench.machine import stamp  # noqa: E402
from bench.report import write_section  # noqa: E402
from cli import cluster  # noqa: E402
from cli.cluster.processes import free_port, wait_for  # noqa: E402
from cli.cluster.throwaway import own_cluster_env, remove_leftovers  # noqa: E402

TAG, POD_CIDR, SERVICE_CIDR = "bench-up", "172.28.80.0/24", "172.28.81.0/24"
MB = 1024 * 1024


def node_ready(kubeconfig: Path, node: str) -> bool:
    with Client.from_kubeconfig(str(kubeconfig)) as client:
        conditions = (client.get("nodes", node).get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def timed_up(home: Path, node: str, **ports: int) -> tuple[float, float, dict[str, int]]:
    """Seconds to `up` returning healthy, seconds to its Node Ready, and each component's
    pid; `ports` (etcd_port, ...) on the first `up`, later ones reuse the saved ports."""
    start = time.perf_counter()
    status = cluster.up(home, **ports)
    healthy = time.perf_counter() - start
    if not status.healthy:
        raise RuntimeError(f"schooner up returned unhealthy: {status.components}")
    wait_for(lambda: node_ready(status.kubeconfig, node), 120, f"node {node} Ready", 0.1)
    ready = time.perf_counter() - start
    return healthy, ready, {c.name: c.pid for c in status.components if c.pid}


async def idle_footprint(pids: dict[str, int], seconds: float) -> tuple[dict, float]:
    async with Sampler(pids) as sampler:
        await asyncio.sleep(seconds)
    return sampler.usage, sampler.seconds


def render(first: tuple[float, float], restarts: list[tuple[float, float]], usage: dict,
           window: float) -> str:
    healthy = [r[0] for r in restarts]
    ready = [r[1] for r in restarts]
    lines = ["| `schooner up` | n | healthy p50 | healthy max | Node Ready p50 | Node Ready max |",
             "|---|---:|---:|---:|---:|---:|",
             f"| into an empty home | 1 | {first[0]:.2f} s | {first[0]:.2f} s | "
             f"{first[1]:.2f} s | {first[1]:.2f} s |"]
    if restarts:
        lines.append(f"| after `schooner down` | {len(restarts)} | "
                     f"{statistics.median(healthy):.2f} s | {max(healthy):.2f} s | "
                     f"{statistics.median(ready):.2f} s | {max(ready):.2f} s |")
    lines += ["", f"Idle footprint of that cluster ({window:.0f} s, one Node, no pods):", "",
              "| process | RSS mean | RSS peak | CPU (% of a core) |", "|---|---:|---:|---:|"]
    total = 0.0
    for name, u in usage.items():
        total += u.rss_mean
        lines.append(f"| {name} | {u.rss_mean / MB:.0f} MB | {u.rss_peak / MB:.0f} MB | "
                     f"{100 * u.cpu / window:.1f}% |")
    lines.append(f"| all | {total / MB:.0f} MB | | |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--restarts", type=int, default=3)
    ap.add_argument("--idle-seconds", type=float, default=10.0)
    ap.add_argument("--write", type=Path, help="rewrite this section of docs/benchmarks.md")
    args = ap.parse_args()
    command = f".venv/bin/python bench/up.py --restarts {args.restarts}"
    st = stamp(command + (f" --write {args.write}" if args.write else ""))
    env = own_cluster_env(TAG, POD_CIDR, SERVICE_CIDR)
    os.environ.update(env)
    node = env["SCHOONER_NODE_NAME"]
    with tempfile.TemporaryDirectory(prefix="schooner-up-") as tmp:
        home = Path(tmp) / "home"
        try:
            h, r, pids = timed_up(home, node, etcd_port=free_port(),
                                  etcd_peer_port=free_port(), etcd_metrics_port=free_port(),
                                  apiserver_port=free_port())
            restarts = []
            for _ in range(args.restarts):
                cluster.down(home)
                h2, r2, pids = timed_up(home, node)
                restarts.append((h2, r2))
            time.sleep(5)  # past start-up's writes
            usage, window = asyncio.run(idle_footprint(pids, args.idle_seconds))
        finally:
            cluster.down(home)
            remove_leftovers(node, env["SCHOONER_POD_NETWORK"])
    body = render((h, r), restarts, usage, window)
    print(body)
    if args.write:
        intro = (f"{st.markdown()}\n"
                 "Warm machine: venv installed, images built. `up` returns when every "
                 "component (etcd, apiserver, controller-manager, scheduler, agent, proxy) "
                 "answers its health check; Node Ready is read from the apiserver after.\n\n")
        write_section(args.write, "up", "schooner up (bench/up.py)", intro + body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
