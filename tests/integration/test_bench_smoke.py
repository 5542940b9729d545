"""bench/scale.py with tiny counts, so the benchmark cannot rot between `make bench` runs.

The figures are not checked against targets here (a loaded CI machine says nothing
about them); what is checked is that every phase measures what it claims: every pod
listed, every write delivered to every watcher, every pod bound and Running.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bench import scale
from bench.machine import stamp
from cli.cluster.processes import Apiserver, Etcd

pytestmark = pytest.mark.integration


def _hollow_mode() -> bool:
    out = subprocess.run([sys.executable, "-m", "agent", "--help"], capture_output=True,
                         text=True, timeout=60, check=False).stdout
    return "--hollow" in out


def test_list_cost_lists_every_pod(apiserver: Apiserver, tmp_path: Path) -> None:
    ns = f"smoke-list-{uuid.uuid4().hex[:6]}"
    points = asyncio.run(scale.list_cost(apiserver, [50, 150], runs=1, namespace=ns))
    assert [p.count for p in points] == [50, 150]
    assert all(len(p.full.samples) == 1 and len(p.paged.samples) == 1 for p in points)
    lines = scale.render_list(points, 1, stamp("smoke"), img_dir=tmp_path)
    assert (tmp_path / "scale-list.png").stat().st_size > 0
    assert any(line.startswith("| 150 |") for line in lines)


def test_watch_fanout_delivers_every_write(apiserver: Apiserver, tmp_path: Path) -> None:
    ns = f"smoke-watch-{uuid.uuid4().hex[:6]}"
    result = asyncio.run(scale.watch_fanout(apiserver, 20, rate=10, seconds=1, namespace=ns))
    assert result.missing == 0
    assert len(result.delays.samples) == 20 * 10
    assert all(0 < d < 30 for d in result.delays.samples)
    scale.render_watch(result, stamp("smoke"), img_dir=tmp_path)
    assert (tmp_path / "scale-watch.png").stat().st_size > 0


def test_probe_measures_every_kind(apiserver: Apiserver) -> None:
    async def go() -> dict[str, scale.Latencies]:
        until = asyncio.Event()
        task = asyncio.create_task(scale.probe(apiserver, until, f"smoke-probe-"
                                                                 f"{uuid.uuid4().hex[:6]}"))
        await asyncio.sleep(1.5)
        until.set()
        return await task
    found = asyncio.run(go())
    assert set(found) == set(scale.SLI_KINDS)
    assert all(lat.samples and not lat.errors for lat in found.values()), found


@pytest.mark.skipif(not _hollow_mode(), reason="the agent has no --hollow mode yet")
def test_scheduler_run_binds_and_runs_every_pod(
        fresh_apiserver: tuple[Etcd, Apiserver], tmp_path: Path) -> None:
    etcd, api = fresh_apiserver
    result = asyncio.run(scale.scheduler_run(api, etcd, tmp_path, nodes=20, pods=50,
                                             idle_seconds=1, settle_seconds=0,
                                             start_delay="0", timeout=120))
    assert not result.error
    assert len(result.bound_at) == 50 and len(result.running_at) == 50
    assert result.mean_bound_per_s > 0
    assert set(result.idle) == {"etcd", "apiserver", "controller-manager", "scheduler",
                                "hollow"}
    assert all(u.rss_peak > 0 for u in result.load.values())
    assert set(result.sli) == set(scale.SLI_KINDS)
    lines = scale.render_sched([result], stamp("smoke"), img_dir=tmp_path)
    assert any(line.startswith("| 20 | 50 |") for line in lines)
    scale.render_sli(result)
    scale.render_footprint(result)


def test_up_benchmark_times_up_and_reads_every_component() -> None:
    """bench/up.py with one restart: a real `schooner up` on its own home and ports."""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "bench/up.py", "--restarts", "1",
                           "--idle-seconds", "1"], cwd=root, capture_output=True,
                          text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "| after `schooner down` | 1 |" in proc.stdout, proc.stdout
    for component in ("etcd", "apiserver", "controller-manager", "scheduler", "agent", "proxy"):
        row = next((line for line in proc.stdout.splitlines()
                    if line.startswith(f"| {component} |")), "")
        assert row and row.split("|")[2].strip() != "0 MB", (component, proc.stdout)
