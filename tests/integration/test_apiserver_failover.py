"""Clients with two apiserver URLs keep working when the first apiserver is killed.

One etcd, two real apiserver processes sharing a CA, serving certificate and token
(as the lab's do). A client given both URLs, and a hollow-node process and a
controller-manager given `--kubeconfig` (the first) plus `--apiserver-urls` (the
second), must carry on after `kill -9` of the first: reads fail over at once, an
open watch resumes on the second from its last resourceVersion, Leases keep renewing.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from apimachinery.client import AsyncClient, Client
from apimachinery.meta import Object
from cli.cluster.processes import Apiserver, Etcd, Process, start_controller_manager, wait_for

pytestmark = pytest.mark.integration

NS = "default"
GAP_BOUND = 3.0  # seconds without a successful read after the kill; measured well under 1
SHARED = ("ca.crt", "apiserver.crt", "apiserver.key", "tokens.csv")


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Apiserver, Apiserver]]:
    """One etcd and two apiservers on it with the same credentials; all stopped after."""
    etcd = Etcd(tmp_path / "etcd").start()
    first = Apiserver(tmp_path / "apiserver-a", etcd.url)
    second = Apiserver(tmp_path / "apiserver-b", etcd.url)
    for name in SHARED:  # the second serves the first's certificate and accepts its token
        shutil.copy(first.workdir / name, second.workdir / name)
    second.token, second.ca_pem = first.token, first.ca_pem
    try:
        first.start()
        second.start()
        yield first, second
    finally:
        second.stop()
        first.stop()
        etcd.stop()


def both(a: Apiserver, b: Apiserver) -> list[str]:
    return [a.url, b.url]


def configmap(name: str) -> Object:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
            "data": {"k": "v"}}


class SyncWatcher(threading.Thread):
    """A blocking client's watch on configmaps, in a thread, remembering names seen."""

    def __init__(self, client: Client, rv: str) -> None:
        super().__init__(daemon=True)
        self.client, self.rv = client, rv
        self.names: list[str] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for event in self.client.watch("configmaps", NS, resource_version=self.rv,
                                           timeout_seconds=25):
                self.names.append(event.object["metadata"]["name"])
        except BaseException as exc:  # reported by the test
            self.error = exc


async def probe(client: AsyncClient, stop: asyncio.Event, ok: list[float],
                failed: list[str]) -> None:
    """GET an object every 20 ms; the monotonic times of the successes."""
    while not stop.is_set():
        try:
            await client.get("configmaps", "probe", NS)
            ok.append(time.monotonic())
        except Exception as exc:
            failed.append(repr(exc))
        await asyncio.sleep(0.02)


async def collect(client: AsyncClient, rv: str, names: list[str]) -> None:
    async for event in client.watch("configmaps", NS, resource_version=rv):
        names.append(event.object["metadata"]["name"])


def longest_gap(ok: list[float], since: float) -> float:
    """The longest time without a success, from the kill on."""
    after = [since, *(t for t in ok if t >= since)]
    return max(b - a for a, b in itertools.pairwise(after))


def test_clients_keep_working_after_the_first_apiserver_is_killed(
        pair: tuple[Apiserver, Apiserver]) -> None:
    a, b = pair
    sync = Client(both(a, b), token=a.token, ca_data=a.ca_pem)
    sync.create("configmaps", configmap("probe"), NS)
    rv = sync.list("configmaps", NS)["metadata"]["resourceVersion"]
    watcher = SyncWatcher(Client(both(a, b), token=a.token, ca_data=a.ca_pem), rv)
    watcher.start()

    async def main() -> tuple[float, list[str], list[str]]:
        ok: list[float] = []
        failed: list[str] = []
        names: list[str] = []
        stop = asyncio.Event()
        # The prober has a client of its own: no watch on it notices the kill first.
        async with AsyncClient(both(a, b), token=a.token, ca_data=a.ca_pem) as client, \
                AsyncClient(both(a, b), token=a.token, ca_data=a.ca_pem) as prober:
            tasks = [asyncio.create_task(probe(prober, stop, ok, failed)),
                     asyncio.create_task(collect(client, rv, names))]
            await client.create("configmaps", configmap("before"), NS)
            await asyncio.sleep(1.0)
            assert client.server == a.url
            a.process.kill()
            killed = time.monotonic()
            await asyncio.sleep(2.0)
            assert client.server == b.url and prober.server == b.url
            await client.create("configmaps", configmap("after-async"), NS)
            assert len((await client.list("configmaps", NS))["items"]) >= 3
            deadline = time.monotonic() + 10
            while "after-async" not in names and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            stop.set()
            tasks[1].cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return longest_gap(ok, killed), failed, names

    gap, failed, names = asyncio.run(main())
    print(f"longest gap in successful GETs after kill -9: {gap * 1000:.0f} ms")
    assert not failed, failed[:3]
    assert gap < GAP_BOUND
    assert names[:1] == ["before"] and "after-async" in names
    # The blocking client too: get, list, create, and its watch still delivering.
    assert sync.get("configmaps", "probe", NS)["metadata"]["name"] == "probe"
    sync.create("configmaps", configmap("after-sync"), NS)
    assert {"before", "after-async", "after-sync"} <= {
        c["metadata"]["name"] for c in sync.list("configmaps", NS)["items"]}
    assert sync.server == b.url
    wait_for(lambda: "after-sync" in watcher.names or watcher.error, 10,
             f"the blocking watch to deliver after-sync (saw {watcher.names})")
    assert watcher.error is None, watcher.error
    assert watcher.names[:3] == ["before", "after-async", "after-sync"]
    sync.close()


def renewed(client: Client, namespace: str, name: str) -> datetime:
    lease = client.get("leases", name, namespace)
    text = lease["spec"]["renewTime"].replace("Z", "+00:00")
    return datetime.fromisoformat(text)


def test_hollow_nodes_and_a_leader_keep_renewing_after_the_first_apiserver_is_killed(
        pair: tuple[Apiserver, Apiserver], tmp_path: Path) -> None:
    a, b = pair
    kubeconfig = a.kubeconfig(tmp_path / "kubeconfig")  # the first apiserver's URL
    # (hollow nodes share it: many nodes in one process; the controller-manager is itself)
    manager = a.component_kubeconfig(tmp_path / "cm.kubeconfig", "controller-manager")
    failover = ["--apiserver-urls", b.url]
    procs: list[Process] = []
    try:
        procs.append(start_controller_manager(
            manager, tmp_path / "controller-manager.log", *failover, "--leader-elect",
            "--leader-elect-lease-duration", "4s", "--leader-elect-renew-deadline", "3s",
            "--leader-elect-retry-period", "0.5s"))
        hollow = Process("hollow", [
            sys.executable, "-m", "agent", "--hollow", "2", "--hollow-name-prefix", "fo-",
            "--hollow-lease-renew-interval", "1s", "--kubeconfig", str(kubeconfig),
            *failover], tmp_path / "hollow.log")
        procs.append(hollow)
        hollow.start()
        with b.client() as client:
            wait_for(lambda: "hollow nodes ready nodes=2" in hollow.log_tail(50), 30,
                     f"hollow nodes ready\n{hollow.log_tail()}")
            leases = [("kube-node-lease", "fo-0"), ("kube-node-lease", "fo-1"),
                      ("kube-system", "kube-controller-manager")]
            holder = client.get("leases", "kube-controller-manager",
                                "kube-system")["spec"]["holderIdentity"]
            a.process.kill()
            killed = datetime.now(UTC)
            for ns, name in leases:
                wait_for(lambda ns=ns, name=name: (renewed(client, ns, name) - killed
                                                   ).total_seconds() > 3, 15,
                         f"lease {ns}/{name} renewed 3 s after the kill\n"
                         f"{hollow.log_tail()}\n{procs[0].log_tail()}")
            assert client.get("leases", "kube-controller-manager",
                              "kube-system")["spec"]["holderIdentity"] == holder
            for proc in procs:
                assert proc.popen is not None and proc.popen.poll() is None, proc.log_tail()
            for node in ("fo-0", "fo-1"):
                conditions = client.get("nodes", node)["status"]["conditions"]
                ready = [c for c in conditions if c["type"] == "Ready"]
                assert ready[0]["status"] == "True"
    finally:
        for proc in reversed(procs):
            proc.stop()
