"""etcd's size under churn: flat with the apiserver's compaction, growing without it.

One ConfigMap of ~8 KiB updated 100 times a second through the apiserver for
`SCHOONER_CHURN_SECONDS` (15 s by default; docs/reliability.md has a 60 s run,
and the 30-minute one is the same command with 1800), once with
`--etcd-compaction-interval 2s` and once with `0` (at most a minute: it only shows
what compaction saves per write), each on an etcd of its own.
etcd's status (`dbSizeInUse`: the pages holding live revisions; `dbSize`:
the file, which only defragmentation shrinks) is sampled every half second.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest

from cli.cluster.processes import Apiserver, Etcd

pytestmark = [pytest.mark.chaos, pytest.mark.long]  # `make chaos`, not `make test`

SECONDS = float(os.environ.get("SCHOONER_CHURN_SECONDS", "15"))
INTERVAL = 2.0  # --etcd-compaction-interval of the compacting run
RATE = 100.0  # updates per second: steady, so the halves of a run compare
# The peaks of the run's two halves agree within this: the 20% for runs of a
# minute or more; a 15 s run holds only a few compaction rounds, so 50%.
TOLERANCE = 0.2 if SECONDS >= 60 else 0.5
NS = "default"


def _status(etcd: Etcd) -> tuple[int, int]:
    """(dbSize, dbSizeInUse) from etcd's maintenance status (the v3 JSON gateway)."""
    body = httpx.post(f"{etcd.url}/v3/maintenance/status", json={}, timeout=5).json()
    return int(body["dbSize"]), int(body["dbSizeInUse"])


def _churn(tmp_path: Path, interval: str,
           seconds: float = SECONDS) -> tuple[list[tuple[float, int, int]], int]:
    """Update one ConfigMap for `seconds`; etcd's size samples (t, dbSize, inUse) and writes."""
    etcd = Etcd(tmp_path / "etcd").start()
    server = Apiserver(tmp_path / "apiserver", etcd.url,
                       extra_args=["--etcd-compaction-interval", interval])
    samples: list[tuple[float, int, int]] = []
    writes = 0
    try:
        server.start()
        with server.client() as client:
            client.create("configmaps", {"metadata": {"name": "churn"}}, NS)
            start = next_sample = time.monotonic()
            while (now := time.monotonic()) - start < seconds:
                client.patch("configmaps", "churn",
                             {"data": {"v": f"{writes:08d}" * 1024}}, NS)
                writes += 1
                time.sleep(max(0.0, start + writes / RATE - time.monotonic()))
                if now >= next_sample:
                    samples.append((now - start, *_status(etcd)))
                    next_sample += 0.5
        samples.append((time.monotonic() - start, *_status(etcd)))
    finally:
        server.stop()
        etcd.stop()
    return samples, writes


def test_db_size_stays_flat_under_churn_with_compaction(tmp_path: Path) -> None:
    on, on_writes = _churn(tmp_path / "on", f"{INTERVAL:g}s")
    # The run without compaction only shows what compaction saves (per write): a minute
    # is plenty, and 30 minutes of it would bring etcd near its quota.
    off, off_writes = _churn(tmp_path / "off", "0", min(SECONDS, 60.0))
    mib = 1024 * 1024
    # After two intervals the in-use size holds one to two intervals of revisions:
    # compare the peaks of the two halves that follow.
    settled = [s for s in on if s[0] >= 2 * INTERVAL]
    half = len(settled) // 2
    first_peak = max(s[2] for s in settled[:half])
    second_peak = max(s[2] for s in settled[half:])
    print(f"\nchurn {SECONDS:g}s, compaction {INTERVAL:g}s: {on_writes} writes, "
          f"in use {first_peak / mib:.1f} -> {second_peak / mib:.1f} MiB (peaks of halves), "
          f"end dbSize {on[-1][1] / mib:.1f} MiB in use {on[-1][2] / mib:.1f} MiB")
    print(f"churn {min(SECONDS, 60.0):g}s, no compaction: {off_writes} writes, "
          f"end dbSize {off[-1][1] / mib:.1f} MiB in use {off[-1][2] / mib:.1f} MiB")
    assert second_peak <= (1 + TOLERANCE) * first_peak, (first_peak, second_peak)
    # Without compaction every revision stays: etcd grows by each update's ~8 KiB,
    # and holds (per write made) more than twice what the compacted one does.
    off_per_write, on_per_write = off[-1][2] / off_writes, on[-1][2] / on_writes
    assert off_per_write > 4096
    assert on_per_write < off_per_write / 2, (on_per_write, off_per_write)
