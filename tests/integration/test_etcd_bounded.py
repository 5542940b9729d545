"""etcd kept bounded by the apiserver: compaction on an interval, Events that expire on leases.

Real etcd and a real apiserver with short intervals (`--etcd-compaction-interval 2s`,
`--event-ttl 3s`), so each test takes seconds.
"""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aetcd
import httpx
import pytest
from aetcd import rpc

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


def _event(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "reason": "Tested", "message": "a test event",
            "type": "Normal",
            "involvedObject": {"kind": "ConfigMap", "name": "x", "namespace": NS}}


def _event_leases(etcd: Etcd) -> tuple[dict[bytes, int], dict[int, int]]:
    """Each stored Event's lease, and every lease etcd holds with its granted TTL (aetcd)."""

    async def read() -> tuple[dict[bytes, int], dict[int, int]]:
        async with aetcd.Client(port=etcd.client_port) as client:
            prefix = f"/registry/events/{NS}/".encode()
            resp = await client.kvstub.Range(rpc.RangeRequest(
                key=prefix, range_end=prefix[:-1] + b"0"))
            leases = await client.leasestub.LeaseLeases(rpc.LeaseLeasesRequest())
            granted = {}
            for lease in leases.leases:
                info = await client.get_lease_info(lease.ID, keys=False)
                granted[int(lease.ID)] = int(info.grantedTTL)
            return {kv.key: int(kv.lease) for kv in resp.kvs}, granted

    return asyncio.run(read())


def test_an_event_expires_after_event_ttl_and_watchers_see_it_go(
        short_events: tuple[Etcd, Apiserver]) -> None:
    etcd, server = short_events
    with server.client() as client:
        rv = client.list("events", NS)["metadata"]["resourceVersion"]
        client.create("configmaps", {"metadata": {"name": "stays"}}, NS)
        created = client.create("events", _event("fleeting"), NS)
        start = time.monotonic()
        keys, granted = _event_leases(etcd)
        lease = keys[f"/registry/events/{NS}/fleeting".encode()]
        assert lease and granted[lease] == 3  # a 3 s TTL is too short to share (window 0)
        seen: list[tuple[str, str]] = []
        for event in client.watch("events", NS, resource_version=rv, timeout_seconds=10):
            seen.append((event.type, event.object["metadata"]["name"]))
            if event.type == "DELETED":
                break
        gone_after = time.monotonic() - start
        assert seen == [("ADDED", "fleeting"), ("DELETED", "fleeting")]
        assert 2.0 < gone_after < 8.0, gone_after
        assert client.list("events", NS)["items"] == []
        assert client.get("configmaps", "stays", NS)  # only the kind with a TTL expires
    assert created["metadata"]["name"] == "fleeting"


def test_events_written_together_share_a_lease_of_ttl_plus_window(
        long_events: tuple[Etcd, Apiserver]) -> None:
    etcd, server = long_events

    def write(names: list[str]) -> None:
        with server.client() as client:
            for name in names:
                client.create("events", _event(name), NS)

    names = [f"burst-{i}" for i in range(50)]
    threads = [threading.Thread(target=write, args=(names[i::5],)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    keys, granted = _event_leases(etcd)
    assert len(keys) == 50 and all(keys.values())
    used = set(keys.values())
    # 50 writes within a 5 s window (5% of 100 s) share one lease, two if they straddle one.
    assert 1 <= len(used) <= 2, used
    assert {granted[lease] for lease in used} == {105}
    # An update keeps the Event on a lease: a put without one would make it immortal.
    with server.client() as client:
        client.patch("events", "burst-0", {"count": 2}, NS)
    keys, _ = _event_leases(etcd)
    assert keys[f"/registry/events/{NS}/burst-0".encode()] != 0
