"""Service ClusterIP and NodePort allocation against a real etcd and apiserver.

Explicit requests use the static bands (172.28.255.2-.17, nodePorts 30000-30085),
which dynamic allocation only touches once the upper bands are full, so these
tests never collide with Services other tests create on the shared apiserver.
"""

from __future__ import annotations

import base64
import ipaddress
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from apimachinery import errors
from apimachinery.client import Client
from cli.cluster.processes import Apiserver, Etcd

RANGE = ipaddress.ip_network("172.28.255.0/24")
IPS = "/registry/ranges/serviceips/"
PORTS = "/registry/ranges/servicenodeports/"


def svc(name: str, svc_type: str = "ClusterIP", ports: list[dict[str, Any]] | None = None,
        **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"type": svc_type, "selector": {"app": name},
                     "ports": ports or [{"name": "http", "port": 80}], **spec}}


def reservations(etcd: Etcd, prefix: str) -> dict[str, str]:
    """Reservation keys under `prefix` and their holders, read from etcd's JSON gateway."""
    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    resp = httpx.post(f"{etcd.url}/v3/kv/range",
                      json={"key": b64(prefix.encode()), "range_end": b64(end.encode())},
                      timeout=5)
    resp.raise_for_status()
    return {base64.b64decode(kv["key"]).decode()[len(prefix):]:
            base64.b64decode(kv.get("value", "")).decode()
            for kv in resp.json().get("kvs", [])}


def invalid_message(exc: pytest.ExceptionInfo[errors.Invalid]) -> str:
    return str(exc.value)


@pytest.fixture
def client(apiserver: Apiserver) -> Iterator[Client]:
    with apiserver.client() as c:
        yield c


# -- ClusterIP ----------------------------------------------------------------------


def test_cluster_ip_is_allocated_reserved_and_released(client: Client, etcd: Etcd,
                                                       namespace: str) -> None:
    created = client.create("services", svc("web"), namespace)
    ip = created["spec"]["clusterIP"]
    assert ipaddress.ip_address(ip) in RANGE and ip != "172.28.255.1"
    assert created["spec"]["clusterIPs"] == [ip]
    holder = reservations(etcd, IPS)[ip]
    assert holder == f"{namespace}/web/{created['metadata']['uid']}"

    client.delete("services", "web", namespace)
    assert ip not in reservations(etcd, IPS)


def test_explicit_ip_is_honoured_once_and_free_again_after_delete(client: Client,
                                                                  namespace: str) -> None:
    ip = "172.28.255.9"
    assert client.create("services", svc("a", clusterIP=ip), namespace)["spec"][
        "clusterIPs"] == [ip]
    with pytest.raises(errors.Invalid) as exc:
        client.create("services", svc("b", clusterIP=ip), namespace)
    assert ('spec.clusterIP: Invalid value: "172.28.255.9": provided IP is already '
            "allocated") in invalid_message(exc)

    client.delete("services", "a", namespace)
    assert client.create("services", svc("b", clusterIP=ip), namespace)["spec"][
        "clusterIP"] == ip
    client.delete("services", "b", namespace)


def test_ip_outside_the_range_is_422_with_the_field_path(apiserver: Apiserver,
                                                         namespace: str) -> None:
    with apiserver.http() as http:
        resp = http.post(f"/api/v1/namespaces/{namespace}/services",
                         json=svc("out", clusterIP="10.0.0.1"))
    assert resp.status_code == 422, resp.text
    status = resp.json()
    assert ('spec.clusterIP: Invalid value: "10.0.0.1": provided IP is not in the valid '
            "range") in status["message"]
    assert status["details"]["causes"][0]["field"] == "spec.clusterIP"


def test_headless_service_gets_none_and_holds_nothing(client: Client, etcd: Etcd,
                                                      namespace: str) -> None:
    before = reservations(etcd, IPS)
    created = client.create("services", svc("headless", clusterIP="None"), namespace)
    assert created["spec"]["clusterIP"] == "None"
    assert created["spec"]["clusterIPs"] == ["None"]
    assert reservations(etcd, IPS) == before
    client.delete("services", "headless", namespace)


def test_put_without_cluster_ip_or_node_ports_keeps_them(client: Client,
                                                         namespace: str) -> None:
    created = client.create("services", svc("keep", "NodePort"), namespace)
    node_port = created["spec"]["ports"][0]["nodePort"]
    resubmitted = svc("keep", "NodePort")  # the YAML it was created from, as `replace`
    resubmitted["metadata"]["labels"] = {"v": "2"}
    updated = client.update("services", {**resubmitted,
                                         "metadata": {**resubmitted["metadata"],
                                                      "namespace": namespace}})
    assert updated["spec"]["clusterIP"] == created["spec"]["clusterIP"]
    assert updated["spec"]["clusterIPs"] == created["spec"]["clusterIPs"]
    assert updated["spec"]["ports"][0]["nodePort"] == node_port
    assert updated["metadata"]["labels"] == {"v": "2"}

    changed = {**updated, "spec": {**updated["spec"], "clusterIP": "172.28.255.11",
                                   "clusterIPs": ["172.28.255.11"]}}
    with pytest.raises(errors.Invalid) as exc:
        client.update("services", changed)
    assert "spec.clusterIP" in invalid_message(exc) and "immutable" in invalid_message(exc)
    client.delete("services", "keep", namespace)


def test_the_kubernetes_service_exists(client: Client, apiserver: Apiserver,
                                       etcd: Etcd) -> None:
    kubernetes = client.get("services", "kubernetes", "default")
    spec = kubernetes["spec"]
    assert spec["clusterIP"] == "172.28.255.1" and spec["clusterIPs"] == ["172.28.255.1"]
    assert spec["ports"] == [{"name": "https", "port": 443, "protocol": "TCP",
                              "targetPort": apiserver.port}]
    assert "selector" not in spec
    assert reservations(etcd, IPS)["172.28.255.1"].startswith("default/kubernetes/")


def test_the_kube_dns_service_holds_the_tenth_address(client: Client, etcd: Etcd,
                                                      namespace: str) -> None:
    assert client.get("namespaces", "kube-system")["metadata"]["name"] == "kube-system"
    dns = client.get("services", "kube-dns", "kube-system")
    assert dns["metadata"]["labels"] == {"k8s-app": "kube-dns"}
    spec = dns["spec"]
    assert spec["clusterIP"] == "172.28.255.10" and spec["clusterIPs"] == ["172.28.255.10"]
    assert [(p["name"], p["port"], p["protocol"]) for p in spec["ports"]] == [
        ("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")]
    assert "selector" not in spec
    assert reservations(etcd, IPS)["172.28.255.10"].startswith("kube-system/kube-dns/")
    with pytest.raises(errors.Invalid) as exc:
        client.create("services", svc("dns-thief", clusterIP="172.28.255.10"), namespace)
    assert "provided IP is already allocated" in invalid_message(exc)


def test_dry_run_allocates_nothing(apiserver: Apiserver, client: Client, etcd: Etcd,
                                   namespace: str) -> None:
    before = (reservations(etcd, IPS), reservations(etcd, PORTS))
    path = f"/api/v1/namespaces/{namespace}/services?dryRun=All"
    with apiserver.http() as http:
        explicit = http.post(path, json=svc("dry", "NodePort", clusterIP="172.28.255.12",
                                            ports=[{"port": 80, "nodePort": 30012}]))
        dynamic = http.post(path, json=svc("dry2", "NodePort"))
    assert explicit.status_code == 201, explicit.text
    assert explicit.json()["spec"]["clusterIP"] == "172.28.255.12"
    assert ipaddress.ip_address(dynamic.json()["spec"]["clusterIP"]) in RANGE
    assert dynamic.json()["spec"]["ports"][0]["nodePort"] >= 30000
    assert (reservations(etcd, IPS), reservations(etcd, PORTS)) == before
    with pytest.raises(errors.NotFound):
        client.get("services", "dry", namespace)
    # What the dry run showed is still free for a real create.
    real = client.create("services", svc("dry", "NodePort", clusterIP="172.28.255.12",
                                         ports=[{"port": 80, "nodePort": 30012}]), namespace)
    assert real["spec"]["ports"][0]["nodePort"] == 30012
    client.delete("services", "dry", namespace)


# -- NodePort -----------------------------------------------------------------------


def test_node_ports_are_allocated_and_conflicts_rejected(client: Client, etcd: Etcd,
                                                         namespace: str) -> None:
    a = client.create("services", svc("a", "NodePort", ports=[
        {"name": "fixed", "port": 80, "nodePort": 30080}, {"name": "auto", "port": 81}]),
        namespace)
    auto = a["spec"]["ports"][1]["nodePort"]
    assert a["spec"]["ports"][0]["nodePort"] == 30080 and 30000 <= auto <= 32767
    held = reservations(etcd, PORTS)
    assert held["30080"] == held[str(auto)] == f"{namespace}/a/{a['metadata']['uid']}"

    with pytest.raises(errors.Invalid) as exc:
        client.create("services", svc("b", "NodePort", ports=[{"port": 80,
                                                               "nodePort": 30080}]),
                      namespace)
    assert ("spec.ports[0].nodePort: Invalid value: 30080: provided port is already "
            "allocated") in invalid_message(exc)
    with pytest.raises(errors.Invalid) as exc:
        client.create("services", svc("c", "LoadBalancer", ports=[{"port": 80,
                                                                   "nodePort": auto}]),
                      namespace)
    assert "provided port is already allocated" in invalid_message(exc)

    # Back to ClusterIP: the nodePorts are dropped and released in the same write.
    back = client.patch("services", "a", {"spec": {"type": "ClusterIP"}}, namespace)
    assert all("nodePort" not in p for p in back["spec"]["ports"])
    assert {"30080", str(auto)}.isdisjoint(reservations(etcd, PORTS))
    b = client.create("services", svc("b", "NodePort", ports=[{"port": 80,
                                                               "nodePort": 30080}]),
                      namespace)
    assert b["spec"]["ports"][0]["nodePort"] == 30080
    for name in ("a", "b"):
        client.delete("services", name, namespace)
    assert "30080" not in reservations(etcd, PORTS)


def test_changing_a_node_port_moves_the_reservation(client: Client, etcd: Etcd,
                                                    namespace: str) -> None:
    client.create("services", svc("move", "NodePort", ports=[{"port": 80,
                                                              "nodePort": 30070}]), namespace)
    moved = client.patch("services", "move", {"spec": {"ports": [{"port": 80,
                                                                  "nodePort": 30071}]}},
                         namespace)
    assert moved["spec"]["ports"][0]["nodePort"] == 30071
    held = reservations(etcd, PORTS)
    assert "30071" in held and "30070" not in held
    client.delete("services", "move", namespace)


# -- several apiservers, many clients -----------------------------------------------


@pytest.fixture(scope="module")
def two_apiservers(tmp_path_factory: pytest.TempPathFactory,
                   ) -> Iterator[tuple[Etcd, list[Apiserver]]]:
    """A fresh etcd (an empty range) served by two apiserver processes."""
    base: Path = tmp_path_factory.mktemp("services")
    etcd = Etcd(base / "etcd").start()
    servers = [Apiserver(base / f"apiserver{i}", etcd.url) for i in range(2)]
    try:
        for server in servers:
            server.start()
        yield etcd, servers
    finally:
        for server in servers:
            server.stop()
        etcd.stop()


def _in_threads(count: int, work: Any) -> list[Any]:
    """Run work(i) for i < count in threads started together; results (or errors) by i."""
    results: list[Any] = [None] * count
    start = threading.Barrier(count)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def test_fifty_concurrent_creates_on_two_apiservers_get_distinct_values(
        two_apiservers: tuple[Etcd, list[Apiserver]]) -> None:
    etcd, servers = two_apiservers

    def create(i: int) -> dict[str, Any]:
        with servers[i % 2].client() as c:
            return c.create("services", svc(f"s{i}", "NodePort"), "default")

    results = _in_threads(50, create)
    failures = [r for r in results if isinstance(r, Exception)]
    assert not failures, failures[:3]
    ips = {r["spec"]["clusterIP"] for r in results}
    node_ports = {r["spec"]["ports"][0]["nodePort"] for r in results}
    assert len(ips) == 50 and len(node_ports) == 50
    assert not ips & {"172.28.255.1", "172.28.255.10"}
    held = reservations(etcd, IPS)
    assert set(held) == ips | {"172.28.255.1", "172.28.255.10"}  # plus kubernetes, kube-dns
    assert set(reservations(etcd, PORTS)) == {str(p) for p in node_ports}


def test_concurrent_requests_for_one_explicit_ip_have_one_winner(
        two_apiservers: tuple[Etcd, list[Apiserver]]) -> None:
    _, servers = two_apiservers

    def create(i: int) -> dict[str, Any]:
        with servers[i % 2].client() as c:
            return c.create("services", svc(f"same{i}", clusterIP="172.28.255.15"), "default")

    results = _in_threads(10, create)
    winners = [r for r in results if isinstance(r, dict)]
    losers = [r for r in results if isinstance(r, errors.Invalid)]
    assert len(winners) == 1 and len(losers) == 9, results
    assert all("provided IP is already allocated" in str(e) for e in losers)
