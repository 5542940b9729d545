"""How long the lab takes to come up: from `schooner lab up` to every node Ready.

Run from the repository root (after `make images image-node`)::

    .venv/bin/python bench/lab.py [--trials 2] [--nodes 3] [--write docs/benchmarks.md]

A lab of its own (name `schooner-bench`, 172.29.0.0/16, its own 127.0.0.1 ports and
home), so it never touches a `make lab`. Each trial, alternating:

* cold: no volumes (etcd empty, registry empty, each node's engine empty), so the
  images are pushed and every node registers for the first time;
* warm: the same lab stopped with `down --keep-volumes` and started again (data,
  images in the registry and in the nodes' engines kept).

The time is `lifecycle.up` from the call to the apiserver answering and every node
Ready with a podCIDR, as `make lab` runs it (image builds excluded: they are cached).
Everything is removed at the end.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402
from lab import lifecycle  # noqa: E402
from lab.topology import LabConfig  # noqa: E402


def timed_up(config: LabConfig, home: Path) -> float:
    started = time.monotonic()
    lifecycle.up(config, home)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    config = LabConfig(name="schooner-bench", nodes=args.nodes, subnet="172.29.0.0/16",
                       apiserver_host_port=17443, registry_host_port=15001)
    cold: list[float] = []
    warm: list[float] = []
    with tempfile.TemporaryDirectory(prefix="schooner-bench-lab-") as tmp:
        home = Path(tmp)
        try:
            for _ in range(args.trials):
                lifecycle.down(config, home)
                cold.append(timed_up(config, home))
                lifecycle.down(config, home, keep_volumes=True)
                warm.append(timed_up(config, home))
                print(f"cold {cold[-1]:.1f}s warm {warm[-1]:.1f}s", flush=True)
        finally:
            lifecycle.down(config, home)
    command = f".venv/bin/python bench/lab.py --trials {args.trials} --nodes {args.nodes}"
    text = "\n".join([
        f"Command: `{command}` (machine: {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}).",
        "",
        f"From `schooner lab up` to every one of {args.nodes} nodes Ready with a podCIDR "
        "(3 etcd members, 2 apiservers, registry, scheduler, controller-manager; images "
        "already built). Cold: no volumes, images pushed to the registry; warm: restarted "
        f"with its volumes. {args.trials} trials each, alternating.",
        "",
        "| start | median s | each trial s |",
        "|---|---|---|",
        f"| cold | {statistics.median(cold):.1f} | {', '.join(f'{c:.1f}' for c in cold)} |",
        f"| warm | {statistics.median(warm):.1f} | {', '.join(f'{w:.1f}' for w in warm)} |",
        "",
    ])
    print(text)
    if args.write:
        write_section(args.write, "lab", "Lab start: to all nodes Ready", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
