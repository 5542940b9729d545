"""The `kubernetes` Service's endpoints are the apiservers alive now (lease reconciler).

Two apiservers on an etcd of their own (never the session's: each would write its
address into the session's default/kubernetes), on one port as a cluster's are
(127.0.0.11 and 127.0.0.12), advertising 192.0.2.11 and 192.0.2.12 (TEST-NET-1:
bound with IP_FREEBIND, no packet is ever sent there), with a 4 s lease renewed
every 1 s so the test need not wait Kubernetes' 15 s. A controller-manager runs
against them: its endpoints and mirroring controllers must leave both objects be.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from apimachinery.client import Client
from apimachinery.errors import NotFound
from cli.cluster.processes import (
    Apiserver,
    Etcd,
    Process,
    free_port,
    start_controller_manager,
    wait_for,
)

TTL, INTERVAL = 4, 1
IPS = {"a": "192.0.2.11", "b": "192.0.2.12"}
BINDS = {"a": "127.0.0.11", "b": "127.0.0.12"}


def addresses(client: Client) -> tuple[list[str], list[str]]:
    """The IPs of the Endpoints and of the EndpointSlice `kubernetes` (absent: [])."""
    try:
        ep = client.get("endpoints", "kubernetes", "default")
        ep_ips = [a["ip"] for s in ep.get("subsets") or [] for a in s.get("addresses") or []]
    except NotFound:
        ep_ips = []
    try:
        sl = client.get("endpointslices", "kubernetes", "default")
        sl_ips = [a for e in sl.get("endpoints") or [] for a in e["addresses"]]
    except NotFound:
        sl_ips = []
    return ep_ips, sl_ips


def wait_addresses(client: Client, want: list[str], timeout: float) -> float:
    """Seconds until both objects list exactly `want`."""
    start = time.monotonic()
    wait_for(lambda: addresses(client) == (want, want), timeout,
             f"kubernetes endpoints == {want}", interval=0.1)
    return time.monotonic() - start


def stored_ips(etcd: Etcd, key: str) -> list[str]:
    """The IPs at an Endpoints key (read raw through etcd's JSON gateway), or, for a key
    ending in `/`, the IPs recorded under that prefix."""
    body: dict[str, str] = {"key": base64.b64encode(key.encode()).decode()}
    if key.endswith("/"):
        body["range_end"] = base64.b64encode(key[:-1].encode() + b"0").decode()
    with etcd.http() as http:
        kvs = http.post("/v3/kv/range", json=body).json().get("kvs", [])
    values = [base64.b64decode(kv["value"]) for kv in kvs]
    if key.endswith("/"):
        return [v.decode() for v in values]
    (endpoints,) = [json.loads(v) for v in values]
    return [a["ip"] for s in endpoints["subsets"] for a in s["addresses"]]


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Etcd, Apiserver, Apiserver, Client]]:
    etcd = Etcd(tmp_path / "etcd").start()
    port = free_port()
    servers = {
        name: Apiserver(tmp_path / name, etcd.url, bind_address=BINDS[name], port=port,
                        extra_args=["--advertise-address", IPS[name],
                                    "--endpoint-lease-ttl", f"{TTL}s",
                                    "--endpoint-reconcile-interval", f"{INTERVAL}s"])
        for name in IPS}
    manager: Process | None = None
    try:
        with ThreadPoolExecutor(2) as pool:  # side by side: half the wait
            list(pool.map(Apiserver.start, servers.values()))
        manager = start_controller_manager(servers["a"].kubeconfig(tmp_path / "kubeconfig"),
                                           tmp_path / "controller-manager.log")
        with servers["a"].client() as client:
            yield etcd, servers["a"], servers["b"], client
    finally:
        if manager is not None:
            manager.stop()
        for server in servers.values():
            server.stop()
        etcd.stop()


def test_the_endpoints_follow_the_apiservers_alive(
        pair: tuple[Etcd, Apiserver, Apiserver, Client]) -> None:
    etcd, a, b, client = pair
    both = [IPS["a"], IPS["b"]]
    wait_addresses(client, both, 2 * INTERVAL + 2)

    endpoints = client.get("endpoints", "kubernetes", "default")
    assert endpoints["metadata"]["labels"] == {"endpointslice.kubernetes.io/skip-mirror": "true"}
    assert endpoints["subsets"][0]["ports"] == [{"name": "https", "port": a.port,
                                                 "protocol": "TCP"}]
    slice_ = client.get("endpointslices", "kubernetes", "default")
    assert slice_["metadata"]["labels"] == {"kubernetes.io/service-name": "kubernetes"}
    assert slice_["addressType"] == "IPv4"
    assert slice_["ports"] == [{"name": "https", "port": a.port, "protocol": "TCP"}]
    assert all(e["conditions"]["ready"] for e in slice_["endpoints"])
    service = client.get("services", "kubernetes", "default")
    assert service["spec"]["ports"][0]["targetPort"] == a.port
    assert "selector" not in service["spec"]
    # No controller claims them: the mirroring controller made no slice of its own.
    slices = client.list("endpointslices", "default",
                         label_selector="kubernetes.io/service-name=kubernetes")["items"]
    assert [s["metadata"]["name"] for s in slices] == ["kubernetes"]

    # kill -9: b's record runs out (TTL) and a's next round drops it.
    b.process.kill()
    left = wait_addresses(client, [IPS["a"]], TTL + INTERVAL + 3)
    # not before its record could expire: its last renewal was at most INTERVAL ago
    assert left > TTL - INTERVAL - 0.5, f"b left after {left:.1f}s"

    # Back again: a restarted apiserver adds itself at once.
    b.process = b._process()
    b.start()
    wait_addresses(client, both, INTERVAL + 2)

    # A clean stop takes b out before it exits, long before its record would expire.
    b.stop()
    assert addresses(client) == ([IPS["a"]], [IPS["a"]])

    # The mirroring controller still made no slice of its own.
    slices = client.list("endpointslices", "default",
                         label_selector="kubernetes.io/service-name=kubernetes")["items"]
    assert [s["metadata"]["name"] for s in slices] == ["kubernetes"]
    # The last apiserver never empties them, even when it stops (read from etcd itself).
    a.stop()
    assert stored_ips(etcd, "/registry/endpoints/default/kubernetes") == [IPS["a"]]
    assert stored_ips(etcd, "/registry/masterleases/") == []
