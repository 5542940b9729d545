"""The service proxy as a real process: ClusterIPs on `lo`, forwarding to real backends.

Three tiny HTTP servers on 172.28.254.2-4 (put on `lo` for the test: Endpoints may not
name loopback addresses, and the proxy forwards to none) play the pods; each test
creates a Service
without a selector (so the endpoints controller leaves it alone) with a clusterIP
picked from 172.28.255.200-250, and writes its Endpoints by hand, which a real
controller-manager running only the endpointslicemirroring controller mirrors into
the EndpointSlices the proxy reads, or writes EndpointSlices by hand. Teardown removes
every 172.28.0.0/16 address that appeared on `lo` during the test, even if the
proxy crashed, and never touches any other address. The proxy's DNS server answers
on 127.0.0.1 on a free port, and NodePorts listen on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from dnslib import QTYPE, RCODE, DNSRecord

from apimachinery import errors
from apimachinery.client import Client
from cli.cluster.processes import (
    Apiserver,
    Process,
    free_port,
    start_controller_manager,
    wait_for,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None,
                       reason="needs root and `ip` to put ClusterIPs on lo"),
]

BACKEND_IPS = ("172.28.254.2", "172.28.254.3", "172.28.254.4")
SERVICE_PORT = 80


def lo_addresses() -> set[str]:
    """The IPv4 addresses on lo, as `ip -o -4 addr show dev lo` lists them (IP/prefix)."""
    out = subprocess.run(["ip", "-o", "-4", "addr", "show", "dev", "lo"], check=True,
                         capture_output=True, text=True, timeout=10).stdout
    return {line.split()[3] for line in out.splitlines() if " inet " in line}


def ours(address: str) -> bool:
    """Only /32s inside the cluster's 172.28.0.0/16 are ever added by these tests."""
    return address.startswith("172.28.") and address.endswith("/32")


class Backend:
    """An HTTP server answering its own name, counting the requests it got."""

    def __init__(self, ip: str, port: int) -> None:
        self.ip, self.hits = ip, 0
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                backend.hits += 1
                body = backend.ip.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((ip, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def backends() -> Iterator[tuple[int, list[Backend]]]:
    """The three pods, on addresses this fixture puts on lo and removes (only those it put)."""
    added = [f"{ip}/32" for ip in BACKEND_IPS if f"{ip}/32" not in lo_addresses()]
    for address in added:
        subprocess.run(["ip", "addr", "add", address, "dev", "lo"], check=True,
                       capture_output=True, timeout=10)
    port = free_port()
    servers: list[Backend] = []
    try:
        servers = [Backend(ip, port) for ip in BACKEND_IPS]
        yield port, servers
    finally:
        for server in servers:
            server.stop()
        for address in added:
            subprocess.run(["ip", "addr", "del", address, "dev", "lo"], check=False,
                           capture_output=True, timeout=10)


def free_udp_and_tcp_port() -> int:
    """A port of 127.0.0.1 free for both UDP and TCP, for the proxy's DNS server."""
    for _ in range(50):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no port of 127.0.0.1 free for both UDP and TCP")


class ProxyProcess(Process):
    dns_port: int


@contextlib.contextmanager
def running_proxy(apiserver: Apiserver, tmp_path: Path,
                  cluster_dns: str = "127.0.0.1") -> Iterator[ProxyProcess]:
    """`python -m proxy` with a kubeconfig; on exit it is stopped and whatever it left
    on lo is removed."""
    before = lo_addresses()
    health, dns_port = free_port(), free_udp_and_tcp_port()
    process = ProxyProcess("proxy", [
        sys.executable, "-m", "proxy", "--kubeconfig",
        str(apiserver.component_kubeconfig(tmp_path / "kubeconfig", "proxy")),
        "--healthz-port", str(health),
        # Only the test's own addresses (.200-.250): a cluster started by `make up` on this
        # host may hold others of 172.28.255.0/24, such as default/kubernetes on .1 and
        # kube-dns on .10 (whose DNS server has port 53 there).
        "--service-cluster-ip-range", "172.28.255.192/26",
        "--cluster-dns", cluster_dns, "--dns-port", str(dns_port),
        "--nodeport-addresses", "127.0.0.1", "-v", "2"], tmp_path / "proxy.log")
    process.dns_port = dns_port
    process.start()
    try:
        wait_for(lambda: httpx.get(f"http://127.0.0.1:{health}/healthz", timeout=1)
                 .status_code == 200, 20, f"proxy healthz\n{process.log_tail()}")
        yield process
    finally:
        process.stop()
        for address in sorted(lo_addresses() - before):
            if ours(address):
                subprocess.run(["ip", "addr", "del", address, "dev", "lo"], check=False,
                               capture_output=True, timeout=10)


@pytest.fixture(scope="module")
def mirroring(apiserver: Apiserver, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[Process]:
    """A controller-manager running only the endpointslicemirroring controller, so the
    Endpoints these tests write by hand reach the proxy as EndpointSlices."""
    workdir = tmp_path_factory.mktemp("mirroring")
    manager = start_controller_manager(
        apiserver.component_kubeconfig(workdir / "kubeconfig", "controller-manager"),
        workdir / "controller-manager.log",
        "--controllers", "endpointslicemirroring")
    try:
        yield manager
    finally:
        manager.stop()


@pytest.fixture
def proxy(apiserver: Apiserver, tmp_path: Path, mirroring: Process) -> Iterator[ProxyProcess]:
    with running_proxy(apiserver, tmp_path) as process:
        yield process


def create_service(client: Client, namespace: str, target_port: int,
                   **spec: Any) -> str:
    """A selector-less Service on a free clusterIP from .200-.250; returns the IP."""
    taken = {a.split("/")[0] for a in lo_addresses()}
    for last in random.sample(range(200, 251), 51):
        ip = f"172.28.255.{last}"
        if ip in taken:
            continue
        try:
            client.create("services", {
                "metadata": {"name": "web"},
                "spec": {"clusterIP": ip, "ports": [
                    {"name": "http", "port": SERVICE_PORT, "targetPort": target_port}],
                    **spec}}, namespace)
            return ip
        except (errors.AlreadyExists, errors.Invalid, errors.Conflict):
            continue  # another test's Service holds this address
    raise AssertionError("no free clusterIP in 172.28.255.200-250")


def set_endpoints(client: Client, namespace: str, port: int, ips: list[str]) -> None:
    subsets = [{"addresses": [{"ip": ip} for ip in ips],
                "ports": [{"name": "http", "port": port, "protocol": "TCP"}]}] if ips else []
    try:
        current = client.get("endpoints", "web", namespace)
    except errors.NotFound:
        client.create("endpoints", {"metadata": {"name": "web"}, "subsets": subsets},
                      namespace)
        return
    current["subsets"] = subsets
    client.update("endpoints", current)


def get(ip: str) -> str:
    """One HTTP request through the proxy; the body names the backend that answered."""
    conn = http.client.HTTPConnection(ip, SERVICE_PORT, timeout=5)
    try:
        conn.request("GET", "/")
        return conn.getresponse().read().decode()
    finally:
        conn.close()


def test_round_robin_follows_endpoints_and_half_close(
        client: Client, namespace: str, proxy: Process,
        backends: tuple[int, list[Backend]]) -> None:
    port, servers = backends
    ip = create_service(client, namespace, port)
    set_endpoints(client, namespace, port, list(BACKEND_IPS))
    wait_for(lambda: get(ip), 20, f"first request via {ip}\n{proxy.log_tail()}")
    for server in servers:
        server.hits = 0

    answered = Counter(get(ip) for _ in range(60))
    assert answered == {b: 20 for b in BACKEND_IPS}, proxy.log_tail()

    # the client half-closes after its request and still gets the whole response
    with socket.create_connection((ip, SERVICE_PORT), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)
        reply = b"".join(iter(lambda: sock.recv(4096), b""))
    assert reply.startswith(b"HTTP/1.0 200") and reply.split(b"\r\n\r\n")[1] in (
        b.encode() for b in BACKEND_IPS)

    set_endpoints(client, namespace, port, list(BACKEND_IPS[:2]))
    wait_for(lambda: BACKEND_IPS[2] not in {get(ip) for _ in range(6)}, 20,
             f"{BACKEND_IPS[2]} to leave the rotation\n{proxy.log_tail()}")
    servers[2].hits = 0
    answered = Counter(get(ip) for _ in range(60))
    assert answered == {BACKEND_IPS[0]: 30, BACKEND_IPS[1]: 30}
    assert servers[2].hits == 0


def refused(ip: str, port: int = SERVICE_PORT) -> float | None:
    """Seconds until a connect to ip:port was refused; None if it connected.

    A connect that hangs raises TimeoutError after 1 s: "refused at once" is the point.
    """
    started = time.monotonic()
    try:
        socket.create_connection((ip, port), timeout=1).close()
    except ConnectionRefusedError:
        return time.monotonic() - started
    return None


def test_no_ready_endpoints_means_refused_at_once_then_served_again(
        client: Client, namespace: str, proxy: Process,
        backends: tuple[int, list[Backend]]) -> None:
    port, _ = backends
    ip = create_service(client, namespace, port)
    set_endpoints(client, namespace, port, [BACKEND_IPS[0]])
    wait_for(lambda: get(ip) == BACKEND_IPS[0], 20, f"request via {ip}\n{proxy.log_tail()}")

    set_endpoints(client, namespace, port, [])
    wait_for(lambda: refused(ip) is not None, 20, f"{ip}:80 refused\n{proxy.log_tail()}")
    assert f"{ip}/32" in lo_addresses()  # the address stays: the kernel does the refusing
    seconds = refused(ip)
    assert seconds is not None and seconds < 0.5

    set_endpoints(client, namespace, port, [BACKEND_IPS[1]])
    wait_for(lambda: get(ip) == BACKEND_IPS[1], 20, f"served again\n{proxy.log_tail()}")


def test_session_affinity_keeps_a_client_on_one_backend(
        client: Client, namespace: str, proxy: Process,
        backends: tuple[int, list[Backend]]) -> None:
    port, _ = backends
    ip = create_service(client, namespace, port, sessionAffinity="ClientIP")
    set_endpoints(client, namespace, port, list(BACKEND_IPS))
    first = wait_for(lambda: get(ip), 20, f"request via {ip}\n{proxy.log_tail()}")
    assert {get(ip) for _ in range(20)} == {first}


def test_deleting_the_service_removes_its_address(
        client: Client, namespace: str, proxy: Process,
        backends: tuple[int, list[Backend]]) -> None:
    port, _ = backends
    ip = create_service(client, namespace, port)
    set_endpoints(client, namespace, port, [BACKEND_IPS[0]])
    wait_for(lambda: f"{ip}/32" in lo_addresses(), 20, f"{ip} on lo\n{proxy.log_tail()}")

    client.delete("services", "web", namespace)
    wait_for(lambda: f"{ip}/32" not in lo_addresses(), 20,
             f"{ip} gone from lo\n{proxy.log_tail()}")


def test_sigterm_removes_every_address_and_exits_0(
        client: Client, namespace: str, proxy: Process,
        backends: tuple[int, list[Backend]]) -> None:
    port, _ = backends
    ip = create_service(client, namespace, port)
    set_endpoints(client, namespace, port, [BACKEND_IPS[0]])
    wait_for(lambda: get(ip) == BACKEND_IPS[0], 20, f"request via {ip}\n{proxy.log_tail()}")
    held = socket.create_connection((ip, SERVICE_PORT), timeout=5)  # an open connection
    try:
        proxy.stop()
        assert proxy.popen is not None and proxy.popen.returncode == 0, proxy.log_tail()
        left = lo_addresses()
        assert f"{ip}/32" not in left, proxy.log_tail()
    finally:
        held.close()


def dns(proxy: ProxyProcess, qname: str, qtype: str = "A", tcp: bool = False,
        server: str = "127.0.0.1") -> tuple[str, list[str]]:
    """(rcode, answer data) from the proxy's DNS server."""
    raw = DNSRecord.question(qname, qtype).send(server, proxy.dns_port, tcp=tcp, timeout=2)
    reply = DNSRecord.parse(raw)
    return RCODE[reply.header.rcode], [str(rr.rdata) for rr in reply.rr]


def test_dns_answers_from_real_services_and_endpoints(
        client: Client, namespace: str, proxy: ProxyProcess) -> None:
    name = f"web.{namespace}.svc.cluster.local"
    # asked before the Service exists, so a cached negative reply must not outlive it
    first = wait_for(lambda: (answer := dns(proxy, name))[0] != "SERVFAIL" and answer, 20,
                     f"DNS synced\n{proxy.log_tail()}")
    assert first == ("NXDOMAIN", [])
    ip = create_service(client, namespace, 8080)
    wait_for(lambda: dns(proxy, name) == ("NOERROR", [ip]), 20,
             f"{name} -> {ip}\n{proxy.log_tail()}")
    assert dns(proxy, name.upper() + ".", tcp=True) == ("NOERROR", [ip])
    assert dns(proxy, name, "AAAA") == ("NOERROR", [])

    # a headless Service: its ready endpoints, and a StatefulSet pod's hostname
    client.create("services", {"metadata": {"name": "db"}, "spec": {
        "clusterIP": "None", "ports": [{"name": "pg", "port": 5432}]}}, namespace)
    client.create("endpoints", {"metadata": {"name": "db"}, "subsets": [{
        "addresses": [{"ip": "10.64.0.2", "hostname": "db-0"},
                      {"ip": "10.64.0.3", "hostname": "db-1"}],
        "ports": [{"name": "pg", "port": 5432, "protocol": "TCP"}]}]}, namespace)
    headless = f"db.{namespace}.svc.cluster.local"
    wait_for(lambda: dns(proxy, headless) == ("NOERROR", ["10.64.0.2", "10.64.0.3"]), 20,
             f"{headless}\n{proxy.log_tail()}")
    assert dns(proxy, f"db-1.{headless}") == ("NOERROR", ["10.64.0.3"])

    assert dns(proxy, f"nothere.{namespace}.svc.cluster.local")[0] == "NXDOMAIN"
    assert dns(proxy, "example.com") == ("REFUSED", [])

    client.delete("services", "web", namespace)
    wait_for(lambda: dns(proxy, name) == ("NXDOMAIN", []), 20,
             f"{name} gone\n{proxy.log_tail()}")


def test_srv_records_name_the_service_port(
        client: Client, namespace: str, proxy: ProxyProcess) -> None:
    create_service(client, namespace, 8080)
    qname = f"_http._tcp.web.{namespace}.svc.cluster.local"
    raw = wait_for(lambda: DNSRecord.parse(DNSRecord.question(qname, "SRV").send(
        "127.0.0.1", proxy.dns_port, timeout=2)).rr, 20, f"SRV {qname}\n{proxy.log_tail()}")
    assert [(rr.rtype, rr.rdata.port, str(rr.rdata.target)) for rr in raw] == [
        (QTYPE.SRV, SERVICE_PORT, f"web.{namespace}.svc.cluster.local.")]


def http_get(host: str, port: int) -> str:
    """One HTTP request over a plain TCP connection; the body names the backend."""
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        reply = b"".join(iter(lambda: sock.recv(4096), b""))
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200"), reply
    return body.decode()


def test_a_node_port_is_served_on_the_node_address_like_its_cluster_ip(
        client: Client, namespace: str, proxy: ProxyProcess,
        backends: tuple[int, list[Backend]]) -> None:
    port, _ = backends
    ip = create_service(client, namespace, port, type="NodePort")
    node_port = client.get("services", "web", namespace)["spec"]["ports"][0]["nodePort"]
    set_endpoints(client, namespace, port, list(BACKEND_IPS[:2]))
    wait_for(lambda: http_get("127.0.0.1", node_port), 20,
             f"127.0.0.1:{node_port}\n{proxy.log_tail()}")

    # one balancer for the service port: alternating between the NodePort and the
    # ClusterIP, each always meets the same backend, as the two share one turn
    via_node, via_cluster = set(), set()
    for _ in range(10):
        via_node.add(http_get("127.0.0.1", node_port))
        via_cluster.add(get(ip))
    assert len(via_node) == len(via_cluster) == 1 and via_node | via_cluster == set(
        BACKEND_IPS[:2]), proxy.log_tail()

    set_endpoints(client, namespace, port, [])
    wait_for(lambda: refused("127.0.0.1", node_port) is not None, 20,
             f"127.0.0.1:{node_port} refused\n{proxy.log_tail()}")
    seconds = refused("127.0.0.1", node_port)
    assert seconds is not None and seconds < 0.5


def test_the_dns_address_is_put_on_lo_kept_across_syncs_and_removed_at_exit(
        apiserver: Apiserver, client: Client, namespace: str, tmp_path: Path,
        backends: tuple[int, list[Backend]], mirroring: Process) -> None:
    taken = {a.split("/")[0] for a in lo_addresses()}
    dns_ip = next(f"172.28.255.{n}" for n in range(250, 199, -1)
                  if f"172.28.255.{n}" not in taken)
    port, _ = backends
    with running_proxy(apiserver, tmp_path, cluster_dns=dns_ip) as proxy:
        name = f"web.{namespace}.svc.cluster.local"
        wait_for(lambda: dns(proxy, name, server=dns_ip)[0] == "NXDOMAIN", 20,
                 f"DNS on {dns_ip}\n{proxy.log_tail()}")
        assert f"{dns_ip}/32" in lo_addresses()
        ip = create_service(client, namespace, port)  # syncs that add, then remove, an IP
        set_endpoints(client, namespace, port, [BACKEND_IPS[0]])
        wait_for(lambda: get(ip) == BACKEND_IPS[0], 20, f"request via {ip}\n{proxy.log_tail()}")
        client.delete("services", "web", namespace)
        wait_for(lambda: f"{ip}/32" not in lo_addresses(), 20,
                 f"{ip} gone from lo\n{proxy.log_tail()}")
        assert f"{dns_ip}/32" in lo_addresses()
        assert dns(proxy, name, server=dns_ip, tcp=True) == ("NXDOMAIN", [])
        proxy.stop()
        assert proxy.popen is not None and proxy.popen.returncode == 0, proxy.log_tail()
        assert f"{dns_ip}/32" not in lo_addresses(), proxy.log_tail()


ES = "endpointslices.discovery.k8s.io"


def hand_slice(name: str, service: str, port: int, *endpoints: dict[str, Any],
               manager: str = "test.schooner.example") -> dict[str, Any]:
    """An EndpointSlice made by hand for `service`: managed by someone other than the
    endpointslice controller, as a user or another controller would make it."""
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": name, "labels": {
                "kubernetes.io/service-name": service,
                "endpointslice.kubernetes.io/managed-by": manager}},
            "addressType": "IPv4", "endpoints": list(endpoints),
            "ports": [{"name": "http", "port": port, "protocol": "TCP"}]}


def endpoint(ip: str, ready: bool = True, **extra: Any) -> dict[str, Any]:
    return {"addresses": [ip], "conditions": {"ready": ready}, **extra}


def test_hand_made_slices_are_merged_and_follow_their_service_label(
        client: Client, namespace: str, proxy: ProxyProcess,
        backends: tuple[int, list[Backend]]) -> None:
    """Two slices of one Service (one address in both, one not ready) serve the union of
    their ready addresses; relabelling a slice moves its addresses off the Service."""
    port, _ = backends
    ip = create_service(client, namespace, port)
    client.create(ES, hand_slice("web-a", "web", port, endpoint(BACKEND_IPS[0]),
                                 endpoint(BACKEND_IPS[1])), namespace)
    client.create(ES, hand_slice("web-b", "web", port, endpoint(BACKEND_IPS[1]),
                                 endpoint(BACKEND_IPS[2], ready=False)), namespace)
    wait_for(lambda: {get(ip) for _ in range(6)} == set(BACKEND_IPS[:2]), 20,
             f"both ready backends via {ip}\n{proxy.log_tail()}")
    answered = Counter(get(ip) for _ in range(40))
    assert answered == {BACKEND_IPS[0]: 20, BACKEND_IPS[1]: 20}, proxy.log_tail()

    moved = client.get(ES, "web-a", namespace)
    moved["metadata"]["labels"]["kubernetes.io/service-name"] = "other"
    client.update(ES, moved)
    wait_for(lambda: {get(ip) for _ in range(6)} == {BACKEND_IPS[1]}, 20,
             f"{BACKEND_IPS[0]} to leave with its slice\n{proxy.log_tail()}")

    # a headless Service's DNS records come from its slices, hostnames included
    client.create("services", {"metadata": {"name": "db"}, "spec": {
        "clusterIP": "None", "ports": [{"name": "http", "port": 5432}]}}, namespace)
    client.create(ES, hand_slice("db-a", "db", 5432, endpoint("10.64.0.2", hostname="db-0"),
                                 endpoint("10.64.0.4", ready=False, hostname="db-2")),
                  namespace)
    headless = f"db.{namespace}.svc.cluster.local"
    wait_for(lambda: dns(proxy, headless) == ("NOERROR", ["10.64.0.2"]), 20,
             f"{headless}\n{proxy.log_tail()}")
    assert dns(proxy, f"db-0.{headless}") == ("NOERROR", ["10.64.0.2"])
    assert dns(proxy, f"db-2.{headless}")[0] == "NXDOMAIN"


def test_hand_made_endpoints_are_mirrored_into_slices_and_removed_with_them(
        client: Client, namespace: str, proxy: ProxyProcess,
        backends: tuple[int, list[Backend]]) -> None:
    port, _ = backends
    ip = create_service(client, namespace, port)
    set_endpoints(client, namespace, port, [BACKEND_IPS[0]])
    wait_for(lambda: get(ip) == BACKEND_IPS[0], 20, f"request via {ip}\n{proxy.log_tail()}")
    (mirrored,) = client.list(ES, namespace)["items"]
    labels = mirrored["metadata"]["labels"]
    assert (labels["kubernetes.io/service-name"],
            labels["endpointslice.kubernetes.io/managed-by"]) == (
        "web", "endpointslicemirroring-controller.k8s.io")
    assert mirrored["metadata"]["ownerReferences"][0]["kind"] == "Endpoints"

    client.delete("endpoints", "web", namespace)
    wait_for(lambda: not client.list(ES, namespace)["items"], 20, "mirrored slice gone")
    wait_for(lambda: refused(ip) is not None, 20, f"{ip}:80 refused\n{proxy.log_tail()}")
