"""Defragmentation one member at a time, with the write latency measured while it runs.

A 3-member etcd, private (TLS with client certificates, so the per-member
clients of the defragmenter present the apiserver's certificate too), and an
apiserver compacting every 2 s that defragments any
member whose file is at least 1 MiB and half free. ~24 MiB of ConfigMaps is
written and deleted; once compaction has freed it, every member's file must
shrink, and a probe writing 20 times a second throughout records its latency:
p99 before, and p99 and the longest write while the members are defragmented.
"""

from __future__ import annotations

import re
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.cluster.processes import Apiserver, Etcd, EtcdCluster, wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.long]  # `make chaos`, not `make test`

NS = "default"


def _db_size(member: Etcd) -> int:
    with member.http() as http:
        return int(http.post("/v3/maintenance/status", json={}).json()["dbSize"])


def _db_sizes(cluster: EtcdCluster) -> list[int]:
    return [_db_size(m) for m in cluster.members]


@pytest.fixture
def defragging(tmp_path: Path) -> Iterator[tuple[EtcdCluster, Apiserver]]:
    cluster = EtcdCluster(tmp_path / "etcd", tls=True).start()
    server = Apiserver(tmp_path / "apiserver", cluster.url, etcd_tls=cluster.client_tls,
                       extra_args=["--etcd-compaction-interval", "2s",
                                   "--etcd-defrag-min-bytes", str(1 << 20)])
    try:
        server.start()
        yield cluster, server
    finally:
        server.stop()
        cluster.stop()


def _p99(values: list[float]) -> float:
    if len(values) < 3:
        return max(values)
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def test_members_are_defragmented_one_at_a_time_under_writes(
        defragging: tuple[EtcdCluster, Apiserver]) -> None:
    cluster, server = defragging
    writes: list[tuple[float, float]] = []  # (start, seconds)
    failures: list[str] = []
    stop = threading.Event()

    def probe() -> None:
        with server.client() as client:
            client.create("configmaps", {"metadata": {"name": "probe"}}, NS)
            n = 0
            while not stop.is_set():
                start = time.monotonic()
                try:
                    client.patch("configmaps", "probe", {"data": {"n": str(n)}}, NS)
                    writes.append((start, time.monotonic() - start))
                except Exception as exc:
                    failures.append(repr(exc))
                n += 1
                time.sleep(max(0.0, 0.05 - (time.monotonic() - start)))

    thread = threading.Thread(target=probe)
    thread.start()
    try:
        time.sleep(2)
        with server.client() as client:
            for i in range(24):
                client.create("configmaps", {"metadata": {"name": f"big-{i}"},
                                             "data": {"v": "x" * (1 << 20)}}, NS)
            for i in range(24):
                client.delete("configmaps", f"big-{i}", NS)
        freed_at = time.monotonic()
        peak = max(_db_sizes(cluster))
        assert peak > 20 << 20, peak
        wait_for(lambda: all(s < peak / 2 for s in _db_sizes(cluster)), 15,
                 "every member's file to shrink")
        done_at = time.monotonic()
        time.sleep(1)
    finally:
        stop.set()
        thread.join()
    before = [s for t, s in writes if t < freed_at - 2]
    during = [s for t, s in writes if freed_at <= t <= done_at]
    print(f"\ndefrag of 3 members ({peak / (1 << 20):.0f} MiB files): "
          f"{done_at - freed_at:.1f} s from deletes to all shrunk; write p99 before "
          f"{_p99(before) * 1000:.0f} ms, during {_p99(during) * 1000:.0f} ms, "
          f"longest {max(during) * 1000:.0f} ms; {len(failures)} failed of "
          f"{len(writes) + len(failures)}")
    assert not failures, failures
    assert max(during) < 5.0
    # One member after another, the one the apiserver uses last.
    log = server.process.log_path.read_text(errors="replace")
    order = re.findall(r"etcd defragmenting endpoint=(\S+)", log)[:3]
    in_use = re.findall(r"using etcd endpoint=(\S+)", log)[-1]
    assert sorted(order) == sorted(m.url for m in cluster.members), order
    assert order[-1] == in_use, (order, in_use)
