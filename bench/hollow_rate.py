"""How fast one hollow-node process marks pods Running, and deletes them (issue 6).

Run from the repository root::

    .venv/bin/python bench/hollow_rate.py [--nodes 100] [--pods 2000] [--workers 16]

Its own etcd and apiserver (no scheduler, no controllers): the pods are created
already bound (`spec.nodeName` round-robin over the hollow nodes) while the
hollow process is not yet running, so what is measured is the hollow side
alone: from the hollow process's start to every pod Running (its informer's
list, then `--pods` status patches through `--workers` writers), and then from
one delete-collection to every pod gone (each a delete with grace 0 by the
hollow process). A watch counts the transitions; CPU seconds of the hollow
process, the apiserver and etcd come from /proc, to show which one bounds
the rate. Everything it starts is stopped by PID.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: `bench` lives at the repo root
    sys.path.insert(0, str(ROOT))

from apimachinery.client import AsyncClient  # noqa: E402
from bench.footprint import cpu_seconds  # noqa: E402
from cli.cluster.processes import Apiserver, Etcd, Process  # noqa: E402

NAMESPACE = "hollow-rate"
READY_LINE = "hollow nodes ready"


def pod(i: int, node: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"p-{i}", "labels": {"app": "rate"}},
            "spec": {"nodeName": node, "containers": [{"name": "main", "image": "busybox"}]}}


async def create_bound(client: AsyncClient, pods: int, nodes: int, prefix: str) -> float:
    """Create `pods` pods bound round-robin, 16 at a time; seconds taken."""
    started, gate = time.monotonic(), asyncio.Semaphore(16)

    async def one(i: int) -> None:
        async with gate:
            await client.create("pods", pod(i, f"{prefix}{i % nodes}"), NAMESPACE)

    await asyncio.gather(*(one(i) for i in range(pods)))
    return time.monotonic() - started


async def until(client: AsyncClient, done: Any, timeout: float) -> None:
    """Watch the namespace's pods until `done(running, present)` is true."""
    running: set[str] = set()
    present: set[str] = set()
    items, rv = await client.list_all("pods", NAMESPACE)
    for item in items:
        present.add(item["metadata"]["name"])
        if (item.get("status") or {}).get("phase") == "Running":
            running.add(item["metadata"]["name"])
    deadline = time.monotonic() + timeout
    while not done(running, present):
        if time.monotonic() > deadline:
            raise TimeoutError(f"running={len(running)} present={len(present)}")
        stream = client.watch("pods", NAMESPACE, resource_version=rv, timeout_seconds=30)
        async with contextlib.aclosing(stream) as events:
            async for event in events:
                name = event.object.get("metadata", {}).get("name", "")
                rv = event.object.get("metadata", {}).get("resourceVersion", rv)
                if event.type == "DELETED":
                    present.discard(name)
                    running.discard(name)
                else:
                    present.add(name)
                    if (event.object.get("status") or {}).get("phase") == "Running":
                        running.add(name)
                if done(running, present) or time.monotonic() > deadline:
                    break


async def measure(args: argparse.Namespace, workdir: Path) -> None:
    etcd = Etcd(workdir / "etcd")
    api = Apiserver(workdir / "apiserver", etcd.url)
    try:
        etcd.start()
        api.start()
        kubeconfig = api.kubeconfig(workdir / "kubeconfig")
        client = api.async_client()
        procs = {"apiserver": api.process.pid, "etcd": etcd.process.pid}
        try:
            await client.create("namespaces", {"metadata": {"name": NAMESPACE}})
            created = await create_bound(client, args.pods, args.nodes, args.prefix)
            print(f"created {args.pods} bound pods in {created:.1f}s "
                  f"({args.pods / created:.0f}/s)")
            hollow = Process("hollow", [
                sys.executable, "-m", "agent", "--hollow", str(args.nodes),
                "--hollow-name-prefix", args.prefix, "--hollow-start-delay", "0",
                "--hollow-workers", str(args.workers), "--hollow-cleanup",
                "--kubeconfig", str(kubeconfig)], workdir / "hollow.log")
            t0 = time.monotonic()
            hollow.start()
            procs["hollow"] = hollow.pid
            cpu0 = {k: cpu_seconds(v) for k, v in procs.items()}
            try:
                await until(client, lambda r, p: len(r) >= args.pods, args.timeout)
                run_s = time.monotonic() - t0
                ready_at = next((line for line in hollow.log_path.read_text().splitlines()
                                 if READY_LINE in line), "")
                cpu1 = {k: cpu_seconds(v) for k, v in procs.items()}
                print(f"{args.pods} pods Running {run_s:.1f}s after the hollow process "
                      f"started ({args.pods / run_s:.0f} pods/s, {args.nodes} nodes, "
                      f"{args.workers} workers); ready line: {ready_at.split(' INFO ')[-1]}")
                print("  cpu s: " + ", ".join(f"{k} {cpu1[k] - cpu0[k]:.1f}" for k in procs))
                t1 = time.monotonic()
                await client.delete_collection("pods", NAMESPACE)
                await until(client, lambda r, p: not p, args.timeout)
                gone_s = time.monotonic() - t1
                cpu2 = {k: cpu_seconds(v) for k, v in procs.items()}
                print(f"{args.pods} pods deleted for good in {gone_s:.1f}s "
                      f"({args.pods / gone_s:.0f} pods/s)")
                print("  cpu s: " + ", ".join(f"{k} {cpu2[k] - cpu1[k]:.1f}" for k in procs))
            finally:
                hollow.stop()
        finally:
            await client.aclose()
    finally:
        api.stop()
        etcd.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nodes", type=int, default=100)
    p.add_argument("--pods", type=int, default=2000)
    p.add_argument("--workers", type=int, default=16)
    p.add_argument("--prefix", default="hollow-")
    p.add_argument("--timeout", type=float, default=300.0)
    p.add_argument("--workdir", help="keep logs here (default: a temporary directory)")
    args = p.parse_args(argv)
    if args.workdir:
        Path(args.workdir).mkdir(parents=True, exist_ok=True)
        asyncio.run(measure(args, Path(args.workdir)))
        return 0
    with tempfile.TemporaryDirectory(prefix="hollow-rate-") as tmp:
        asyncio.run(measure(args, Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
