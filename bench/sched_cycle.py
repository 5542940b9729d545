"""The scheduler's own ceiling: scheduling cycles per second with no API in the way.

Run from the repository root::

    .venv/bin/python bench/sched_cycle.py [--nodes 100,1000,5000] [--pods 10000]
                                          [--profile out.html] [--write docs/benchmarks.md]

Fills the scheduler's real stores with N Nodes (4 cpu, 16Gi, 110 pods each, as hollow
nodes claim) and places `--pods` pods of 10 ReplicaSets one after another exactly as
`Scheduler.schedule_one` does: `SchedulerCache.node_infos()`, the pure cycle with the
default profile, then `assume`; every 10th pod the "watch" shows an earlier one bound
(the store is written as the informer writes it), so NodeInfos are rebuilt as they are
in a live run. What is left of the end-to-end rate at the same node count is the API:
the informer's decoding, the Binding POSTs and the apiserver behind them (bench/scale.py).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

from apimachinery.meta import Object

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from apimachinery.clock import FakeClock  # noqa: E402
from apimachinery.informer import Store  # noqa: E402
from bench.machine import stamp  # noqa: E402
from bench.report import write_section  # noqa: E402
from scheduler.cache import NODE_NAME_INDEX, SchedulerCache, node_name_index  # noqa: E402
from scheduler.cycle import schedule  # noqa: E402
from scheduler.equivalence import EquivalenceCache  # noqa: E402
from scheduler.plugins import default_profile  # noqa: E402

REPLICASETS = 10
CATCH_UP_EVERY = 10  # the watch shows an assumed pod bound after this many more cycles


def node(name: str) -> Object:
    resources = {"cpu": "4", "memory": "16Gi", "pods": "110"}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name},
                         "resourceVersion": "1"},
            "spec": {}, "status": {"capacity": dict(resources), "allocatable": resources,
                                   "conditions": [{"type": "Ready", "status": "True"}]}}


def pod(i: int) -> Object:
    owner = f"rs-{i % REPLICASETS}"
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"{owner}-{i}", "namespace": "bench", "uid": f"uid-{i}",
                         "resourceVersion": "1",
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                              "name": owner, "uid": owner,
                                              "controller": True}]},
            "spec": {"containers": [{"name": "app", "image": "pause",
                                     "resources": {"requests": {"cpu": "10m",
                                                                "memory": "16Mi"}}}]},
            "status": {"phase": "Pending"}}


def run(nodes: int, pods: int) -> list[float]:
    """Seconds per cycle for `pods` pods on `nodes` nodes."""
    node_store, pod_store = Store(), Store()
    pod_store.add_indexer(NODE_NAME_INDEX, node_name_index)
    for n in range(nodes):
        node_store._put(node(f"hollow-{n:05d}"))
    pending = [pod(i) for i in range(pods)]
    for p in pending:
        pod_store._put(p)
    cache = SchedulerCache(node_store, pod_store, FakeClock())
    profile, rng, classes = default_profile(), random.Random(1), EquivalenceCache()
    start, placed, times = 0, [], []
    for p in pending:
        began = time.perf_counter()
        infos = cache.node_infos()
        result = schedule(p, infos, profile, rng=rng, start=start,
                          memo=classes.for_pod(p, len(infos)))
        assert result.node is not None, result.message
        start += result.processed
        cache.assume(p, result.node)
        times.append(time.perf_counter() - began)
        placed.append((p, result.node))
        if len(placed) > CATCH_UP_EVERY:  # the watch catches up with an older binding
            old, where = placed.pop(0)
            pod_store._put({**old, "spec": {**old["spec"], "nodeName": where}})
    return times


def table(rows: list[tuple[int, list[float]]]) -> str:
    lines = ["| nodes | cycles/s | cycle p50 | cycle p99 |", "|---:|---:|---:|---:|"]
    for nodes, times in rows:
        q = statistics.quantiles(times, n=100)
        lines.append(f"| {nodes:,} | {len(times) / sum(times):,.0f} | "
                     f"{q[49] * 1e3:.2f} ms | {q[98] * 1e3:.2f} ms |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", default="100,1000,5000")
    ap.add_argument("--pods", type=int, default=10_000)
    ap.add_argument("--profile", type=Path, help="write a pyinstrument HTML profile here")
    ap.add_argument("--write", type=Path, help="rewrite this section of docs/benchmarks.md")
    args = ap.parse_args()
    counts = [int(c) for c in args.nodes.split(",")]
    profiler = None
    if args.profile:
        from pyinstrument import Profiler
        profiler = Profiler()
        profiler.start()
    rows = [(n, run(n, args.pods)) for n in counts]
    if profiler is not None:
        profiler.stop()
        args.profile.write_text(profiler.output_html())
    body = table(rows)
    print(body)
    if args.write:
        command = (".venv/bin/python bench/sched_cycle.py "
                   f"--nodes {args.nodes} --pods {args.pods} --write {args.write}")
        intro = (f"{stamp(command).markdown()}\n"
                 "The scheduler alone (real cache, real plugins, no API, no Binding): "
                 "its own ceiling, beside the end-to-end rate of the scale run.\n\n")
        write_section(args.write, "scheduler-cycle", "Scheduler cycle, in process",
                      intro + body + "\n")


if __name__ == "__main__":
    main()
