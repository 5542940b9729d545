"""etcd kept bounded by the apiserver: compaction on an interval, Events that expire on leases.

Real etcd and a real apiserver with short intervals (`--etcd-compaction-interval 2s`,
`--event-ttl 3s`), so each test takes seconds.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.cluster.processes import Apiserver, Etcd

NS = "default"


def _start(tmp_path: Path, *flags: str) -> Iterator[tuple[Etcd, Apiserver]]:
    etcd = Etcd(tmp_path / "etcd").start()
    server = Apiserver(tmp_path / "apiserver", etcd.url, extra_args=list(flags))
    try:
        server.start()
        yield etcd, server
    finally:
        server.stop()
        etcd.stop()


@pytest.fixture
def compacting(tmp_path: Path) -> Iterator[tuple[Etcd, Apiserver]]:
    yield from _start(tmp_path, "--etcd-compaction-interval", "2s")


@pytest.fixture
def short_events(tmp_path: Path) -> Iterator[tuple[Etcd, Apiserver]]:
    yield from _start(tmp_path, "--event-ttl", "3s", "--etcd-compaction-interval", "0")


@pytest.fixture
def long_events(tmp_path: Path) -> Iterator[tuple[Etcd, Apiserver]]:
    # 100 s: Kubernetes' reuse window is 5% of the TTL (at most 60 s), here 5 s.
    yield from _start(tmp_path, "--event-ttl", "100s")


def _until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _etcd_get(etcd: Etcd, key: bytes, revision: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = {"key": base64.b64encode(key).decode()}
    if revision:
        body["revision"] = revision
    return dict(httpx.post(f"{etcd.url}/v3/kv/range", json=body, timeout=5).json())


def test_apiserver_compacts_etcd_on_its_interval_and_watches_go_on(
        compacting: tuple[Etcd, Apiserver]) -> None:
    etcd, server = compacting
    with server.client() as client, server.http() as http:
        created = client.create("configmaps", {"metadata": {"name": "churn"}}, NS)
        old_rv = created["metadata"]["resourceVersion"]
        for i in range(5):
            client.patch("configmaps", "churn", {"data": {"v": str(i)}}, NS)

        def old_list_gone() -> bool:
            resp = http.get(f"/api/v1/namespaces/{NS}/configmaps", params={
                "resourceVersion": old_rv, "resourceVersionMatch": "Exact"})
            assert resp.status_code in (200, 410), resp.text
            return resp.status_code == 410 and resp.json()["reason"] == "Expired"

        # The first round only notes a revision; the second compacts to it.
        _until(old_list_gone, 10, "a list at the first revision to be compacted away")
        # etcd itself no longer has it, and the apiservers' shared key says how far it went.
        old = _etcd_get(etcd, b"/registry/configmaps/default/churn", int(old_rv))
        assert "compacted" in str(old.get("message") or old.get("error")), old
        key = _etcd_get(etcd, b"compact_rev_key")
        assert int(base64.b64decode(key["kvs"][0]["value"])) > int(old_rv)

        # A watch started after compaction sees the next change.
        rv = client.get("configmaps", "churn", NS)["metadata"]["resourceVersion"]
        client.patch("configmaps", "churn", {"data": {"v": "after"}}, NS)
        events = client.watch("configmaps", NS, resource_version=rv, timeout_seconds=5)
        first = next(iter(events))
        assert first.type == "MODIFIED" and first.object["data"] == {"v": "after"}
        # One at the compacted revision is still served from the watch cache's window
        # (as Kubernetes' cacher does): every change after it, in order...
        replay = []
        for event in client.watch("configmaps", NS, resource_version=old_rv, timeout_seconds=3):
            replay.append((event.type, event.object.get("data")))
            if len(replay) == 6:
                break
        assert replay == [("MODIFIED", {"v": v}) for v in ("0", "1", "2", "3", "4", "after")]
        # ...and one older than that window is told to relist.
        stale = list(client.watch("configmaps", NS, resource_version="2", timeout_seconds=3))
        assert stale[0].type == "ERROR" and stale[0].object["code"] == 410


def test_compaction_interval_zero_compacts_nothing(tmp_path: Path) -> None:
    for etcd, server in _start(tmp_path, "--etcd-compaction-interval", "0"):
        with server.client() as client:
            rv = client.create("configmaps", {"metadata": {"name": "kept"}}, NS)[
                "metadata"]["resourceVersion"]
            client.patch("configmaps", "kept", {"data": {"v": "1"}}, NS)
            time.sleep(3)
        assert _etcd_get(etcd, b"/registry/configmaps/default/kept", int(rv))["kvs"]
        assert "kvs" not in _etcd_get(etcd, b"compact_rev_key")
