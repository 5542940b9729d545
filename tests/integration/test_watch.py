"""Watch: exactly-once delivery across an apiserver crash, 410 after compaction, fan-out."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import orjson
import pytest

from apimachinery.client import Client
from apimachinery.informer import Informer
from cli.cluster.processes import Apiserver, Etcd

NS = "default"


def _collect(client: Client, rv: str, until_rv: int, got: list[tuple[str, str, int]],
             timeout: float = 20) -> None:
    """Read configmap events after `rv` until one at `until_rv` or later arrives."""
    deadline = time.monotonic() + timeout
    for event in client.watch("configmaps", NS, resource_version=rv, timeout_seconds=10):
        assert event.type != "ERROR", event.object
        meta = event.object["metadata"]
        got.append((event.type, meta["name"], int(meta["resourceVersion"])))
        if int(meta["resourceVersion"]) >= until_rv or time.monotonic() > deadline:
            return


def _writes(client: Client, prefix: str, n: int) -> int:
    """n creates, n updates, n deletes; the revision of the last one."""
    for i in range(n):
        client.create("configmaps", {"metadata": {"name": f"{prefix}{i}"}}, NS)
    for i in range(n):
        client.patch("configmaps", f"{prefix}{i}", {"data": {"v": "2"}}, NS)
    for i in range(n):
        client.delete("configmaps", f"{prefix}{i}", NS)
    return int(client.list("configmaps", NS)["metadata"]["resourceVersion"])


def test_every_event_once_across_apiserver_kill(fresh_apiserver: tuple[Etcd, Apiserver]
                                                ) -> None:
    _, server = fresh_apiserver
    got: list[tuple[str, str, int]] = []
    with server.client() as client:
        start_rv = client.list("configmaps", NS)["metadata"]["resourceVersion"]
        before = _writes(client, "a", 10)
        _collect(client, start_rv, before, got)
    # Crash the apiserver mid-life, make more changes after restart, then resume.
    server.process.kill()
    server.start()
    with server.client() as client:
        after = _writes(client, "b", 10)
        _collect(client, str(got[-1][2]), after, got)

    revisions = [rv for _, _, rv in got]
    assert revisions == sorted(set(revisions)), "events repeated or out of order"
    assert len(got) == 60
    assert [t for t, _, _ in got] == (["ADDED"] * 10 + ["MODIFIED"] * 10 + ["DELETED"] * 10) * 2
    # A fresh watch from the start sees exactly the same history.
    replay: list[tuple[str, str, int]] = []
    with server.client() as client:
        _collect(client, start_rv, after, replay)
    assert replay == got


def test_watch_from_compacted_revision_is_410(fresh_apiserver: tuple[Etcd, Apiserver]
                                              ) -> None:
    etcd, server = fresh_apiserver
    with server.client() as client:
        client.create("configmaps", {"metadata": {"name": "x"}}, NS)
        etcd.compact()
        events = list(client.watch("configmaps", NS, resource_version="2", timeout_seconds=5))
    assert len(events) == 1 and events[0].type == "ERROR"
    assert events[0].object["code"] == 410 and events[0].object["reason"] == "Expired"


def test_continue_token_from_compacted_revision_is_410(fresh_apiserver: tuple[Etcd, Apiserver]
                                                       ) -> None:
    etcd, server = fresh_apiserver
    with server.client() as client:
        for i in range(3):
            client.create("configmaps", {"metadata": {"name": f"c{i}"}}, NS)
        token = client.list("configmaps", NS, limit=1)["metadata"]["continue"]
        client.patch("configmaps", "c0", {"data": {"x": "y"}}, NS)
    etcd.compact()
    with server.http() as http:
        resp = http.get(f"/api/v1/namespaces/{NS}/configmaps",
                        params={"limit": 1, "continue": token})
    assert resp.status_code == 410 and resp.json()["reason"] == "Expired"


def test_initial_events_without_resource_version(client: Client, namespace: str) -> None:
    for i in range(3):
        client.create("configmaps", {"metadata": {"name": f"i{i}"}}, namespace)
    events = list(client.watch("configmaps", namespace, timeout_seconds=1))
    assert [(e.type, e.object["metadata"]["name"]) for e in events] == [
        ("ADDED", "i0"), ("ADDED", "i1"), ("ADDED", "i2")]


def test_filtered_watch_sees_objects_enter_and_leave(client: Client, namespace: str) -> None:
    rv = client.list("configmaps", namespace)["metadata"]["resourceVersion"]
    client.create("configmaps", {"metadata": {"name": "f", "labels": {"app": "x"}}}, namespace)
    client.patch("configmaps", "f", {"metadata": {"labels": {"app": "y"}}}, namespace)
    client.patch("configmaps", "f", {"metadata": {"labels": {"app": "x"}}}, namespace)
    events = list(client.watch("configmaps", namespace, resource_version=rv,
                               label_selector="app=x", timeout_seconds=1))
    assert [e.type for e in events] == ["ADDED", "DELETED", "ADDED"]


def test_bookmarks_carry_the_current_revision(client: Client, namespace: str) -> None:
    rv = client.create("configmaps", {"metadata": {"name": "bm"}}, namespace)[
        "metadata"]["resourceVersion"]
    events = list(client.watch("configmaps", namespace, resource_version=rv,
                               allow_bookmarks=True, timeout_seconds=6))
    bookmarks = [e for e in events if e.type == "BOOKMARK"]
    assert bookmarks and int(bookmarks[0].object["metadata"]["resourceVersion"]) >= int(rv)


def test_slow_watcher_is_closed_without_stalling_others(tmp_path, etcd: Etcd) -> None:
    N = 150
    server = Apiserver(tmp_path / "small-queue", etcd.url,
                       extra_args=["--watcher-queue-size", "20"]).start()
    client = server.client()
    try:
        ns = f"slow-{int(time.time() * 1000) % 100000}"
        client.create("namespaces", {"metadata": {"name": ns}})
        rv = client.list("configmaps", ns)["metadata"]["resourceVersion"]
        path = f"/api/v1/namespaces/{ns}/configmaps"
        params = {"watch": "true", "resourceVersion": rv, "timeoutSeconds": "60"}
        with server.http() as slow_http, slow_http.stream("GET", path, params=params) as slow:
            fast: list[str] = []
            reader = threading.Thread(target=lambda: _collect_names(server, ns, rv, N, fast))
            reader.start()
            # Big objects overflow the socket buffers of the reader that never reads, so
            # the apiserver's queue for it fills up.
            blob = "x" * 250_000
            for i in range(N):
                client.create("configmaps", {"metadata": {"name": f"s{i}"},
                                             "data": {"blob": blob}}, ns)
            reader.join(60)
            assert len(fast) == N, "a slow watcher stalled the fan-out"
            lines = [line for line in slow.iter_lines() if line]
        assert 0 < len(lines) < N, "the slow watcher should have been closed early"
        with server.http() as http:
            assert "apiserver_terminated_watchers_total" in http.get("/metrics").text
    finally:
        client.close()
        server.stop()


def _collect_names(server: Apiserver, ns: str, rv: str, n: int, out: list[str]) -> None:
    with server.client() as client:
        for event in client.watch("configmaps", ns, resource_version=rv, timeout_seconds=30):
            out.append(event.object["metadata"]["name"])
            if len(out) == n:
                return


def test_informer_rewatches_after_crash_and_relists_after_compaction(
        fresh_apiserver: tuple[Etcd, Apiserver]) -> None:
    etcd, server = fresh_apiserver

    async def scenario() -> None:
        seen: dict[str, str] = {}
        deleted: list[str] = []
        async with server.async_client() as client:
            informer = Informer(client, "configmaps", namespace=NS)
            informer.add_event_handler(
                on_add=lambda o: seen.__setitem__(o["metadata"]["name"], "add"),
                on_update=lambda old, new: seen.__setitem__(new["metadata"]["name"], "update"),
                on_delete=lambda o: deleted.append(o["metadata"]["name"]))
            informer.start()
            try:
                await informer.wait_for_sync(10)
                with server.client() as sync:
                    sync.create("configmaps", {"metadata": {"name": "one"}}, NS)
                    sync.create("configmaps", {"metadata": {"name": "doomed"}}, NS)
                await _until(lambda: "doomed" in seen, "informer saw creates")
                # Crash: changes made while it is down arrive through the re-watch.
                server.process.kill()
                server.start()
                with server.client() as sync:
                    sync.patch("configmaps", "one", {"data": {"a": "b"}}, NS)
                await _until(lambda: seen.get("one") == "update", "re-watch after crash")
                # Crash again, and compact: the informer must relist (410) and notice the
                # deletion it never saw as an event.
                server.process.kill()
                delete_directly(etcd, "doomed")
                put_directly(etcd, "/schooner-test/bump")  # so compaction passes the delete
                etcd.compact()
                server.start()
                await _until(lambda: "doomed" in deleted, "relist after 410")
                assert informer.store.get(f"{NS}/doomed") is None
                assert informer.store.get(f"{NS}/one")["data"] == {"a": "b"}
            finally:
                await informer.stop()

    asyncio.run(scenario())


def delete_directly(etcd: Etcd, name: str) -> None:
    """Delete a key behind the apiserver's back (it is down), via etcd's JSON gateway."""
    import base64
    key = base64.b64encode(f"/registry/configmaps/{NS}/{name}".encode()).decode()
    httpx.post(f"{etcd.url}/v3/kv/deleterange", json={"key": key}, timeout=5).raise_for_status()


def put_directly(etcd: Etcd, key: str) -> None:
    import base64
    httpx.post(f"{etcd.url}/v3/kv/put", json={"key": base64.b64encode(key.encode()).decode(),
                                              "value": "eA=="}, timeout=5).raise_for_status()


async def _until(condition, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def test_watch_stream_is_json_lines(apiserver: Apiserver, namespace: str) -> None:
    with apiserver.http() as http:
        rv = http.get(f"/api/v1/namespaces/{namespace}/pods").json()["metadata"][
            "resourceVersion"]
        http.post(f"/api/v1/namespaces/{namespace}/configmaps", json={"metadata": {"name": "j"}})
        with http.stream("GET", f"/api/v1/namespaces/{namespace}/configmaps",
                         params={"watch": "1", "resourceVersion": rv,
                                 "timeoutSeconds": "1"}) as resp:
            assert resp.headers["content-type"].startswith("application/json")
            lines = [orjson.loads(line) for line in resp.iter_lines() if line]
    assert lines[0]["type"] == "ADDED" and lines[0]["object"]["metadata"]["name"] == "j"


pytestmark = pytest.mark.integration
