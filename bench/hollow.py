"""Starting one hollow-node process (`python -m agent --hollow N`) for a scale run.

One process stands for N Nodes: it registers them, renews their Leases and reports
bound pods Running without Docker, so the scheduler and controllers see N nodes.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from apimachinery.client import AsyncClient
from cli.cluster.processes import Process

NODE_MONITOR_GRACE = ("--node-monitor-grace-period", "40s")  # for the controller-manager
READY_LINE = "hollow nodes ready"  # logged once every Node, Lease and informer is up


def start_hollow(kubeconfig: Path, workdir: Path, nodes: int, *,
                 start_delay: str = "1s", prefix: str = "hollow-") -> Process:
    """The hollow process with Kubernetes' 10 s Lease renewals; the controller-manager
    beside it gets Kubernetes' 40 s grace (NODE_MONITOR_GRACE), so a renewal late on a
    loaded machine does not evict pods, and 1,000 nodes cost 100 renewals a second."""
    proc = Process("hollow", [
        sys.executable, "-m", "agent", "--hollow", str(nodes), "--hollow-name-prefix", prefix,
        "--hollow-start-delay", start_delay,
        "--kubeconfig", str(kubeconfig), "-v", "2"], workdir / "hollow.log")
    proc.start()
    return proc


async def wait_nodes_ready(proc: Process, client: AsyncClient, nodes: int,
                           timeout: float) -> None:
    """Until the hollow process says it is ready and the apiserver lists `nodes` Nodes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen is not None and proc.popen.poll() is not None:
            raise RuntimeError(f"the hollow process exited:\n{proc.log_tail()}")
        if READY_LINE in proc.log_path.read_text(errors="replace"):
            items, _ = await client.list_all("nodes", label_selector="schooner.io/hollow=true")
            if len(items) >= nodes:
                return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"{nodes} hollow nodes not ready after {timeout:.0f} s:\n"
                       f"{proc.log_tail()}")
