"""etcd is private: TLS with client certificates of its own CA, and only the apiserver has one.

Real etcd (Debian's 3.4) started as `schooner up` and the lab start it (`--client-cert-auth`,
`--trusted-ca-file` of the etcd CA), and a real apiserver given Kubernetes' `--etcd-cafile`,
`--etcd-certfile`, `--etcd-keyfile`. The apiserver creates, lists and watches over TLS;
etcd refuses plain HTTP, a client with no certificate, and a certificate of the CLUSTER CA
such as a user or a node holds, both on its gRPC API and its JSON gateway; a cluster of
three replicates over TLS peer links and its peer port refuses a cluster-CA certificate.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from apimachinery.client import WatchEvent
from apimachinery.etcdpki import EtcdClientTLS
from apimachinery.pki import make_ca, make_cert
from apiserver.etcdtls import TLSClient, channel_credentials
from cli.cluster.processes import Apiserver, Etcd, EtcdCluster, wait_for

NS = "default"
# What gRPC says when etcd ends the handshake (aetcd maps UNAVAILABLE to
# ConnectionFailedError), and what Python's ssl says: etcd's bad_certificate alert, or an
# EOF or a reset when its close wins the race (the tests then check etcd's log for
# the reason).
REFUSED = r"UNAVAILABLE"
BAD_CERTIFICATE = r"(?i)bad certificate|EOF occurred in violation of protocol|connection reset"


@pytest.fixture(scope="module")
def private(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Etcd, Apiserver]]:
    work = tmp_path_factory.mktemp("etcd-tls")
    etcd = Etcd(work / "etcd", tls=True).start()
    server = Apiserver(work / "apiserver", etcd.url, etcd_tls=etcd.client_tls)
    try:
        server.start()
        yield etcd, server
    finally:
        server.stop()
        etcd.stop()


@pytest.fixture(scope="module")
def cluster_ca_node_cert(tmp_path_factory: pytest.TempPathFactory) -> EtcdClientTLS:
    """What a node holds: a client certificate of the cluster CA (`system:node:node1`)."""
    work = tmp_path_factory.mktemp("cluster-ca")
    ca, ca_key = make_ca("schooner-ca")
    cert, key = make_cert(ca, ca_key, common_name="system:node:node1",
                          organization="system:nodes", client=True)
    for name, data in (("ca.crt", ca), ("node.crt", cert), ("node.key", key)):
        (work / name).write_bytes(data)
    return EtcdClientTLS(work / "ca.crt", work / "node.crt", work / "node.key")


def _tls(etcd: Etcd, cert: EtcdClientTLS | None) -> ssl.SSLContext:
    """A TLS context that trusts the etcd CA and presents `cert` (none when None)."""
    assert etcd.client_tls is not None
    context = ssl.create_default_context(cafile=str(etcd.client_tls.ca))
    if cert is not None:
        context.load_cert_chain(str(cert.cert), str(cert.key))
    return context


def _gateway_status(etcd: Etcd, cert: EtcdClientTLS | None) -> int:
    with httpx.Client(verify=_tls(etcd, cert), timeout=5, trust_env=False) as http:
        return http.post(f"{etcd.url}/v3/maintenance/status", json={}).status_code


def _grpc_put_get(etcd: Etcd, cert: EtcdClientTLS | None) -> bytes | None:
    """A put and a get on etcd's gRPC API with the apiserver's client class."""
    assert etcd.client_tls is not None
    credentials = channel_credentials(str(etcd.client_tls.ca),
                                      str(cert.cert) if cert else None,
                                      str(cert.key) if cert else None)

    async def run() -> bytes | None:
        client = TLSClient(credentials=credentials, host="127.0.0.1", port=etcd.client_port,
                           timeout=3)
        try:
            await client.put(b"/tls-probe", b"ok")
            got = await client.get(b"/tls-probe")
            return bytes(got.value) if got else None
        finally:
            await client.close()
    return asyncio.run(asyncio.wait_for(run(), 10))


def test_the_apiserver_creates_lists_and_watches_over_tls(
        private: tuple[Etcd, Apiserver]) -> None:
    _, server = private
    seen: list[WatchEvent] = []
    with server.client() as client:
        rv = client.list("configmaps", NS)["metadata"]["resourceVersion"]

        def watch() -> None:
            for event in client.watch("configmaps", NS, resource_version=rv,
                                      timeout_seconds=10):
                seen.append(event)
                if event.object["metadata"].get("name") == "over-tls":
                    return
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        client.create("configmaps", {"metadata": {"name": "over-tls"}, "data": {"a": "b"}}, NS)
        names = [c["metadata"]["name"] for c in client.list("configmaps", NS)["items"]]
        watcher.join(15)
    assert "over-tls" in names
    assert [(e.type, e.object["metadata"]["name"]) for e in seen] == [
        ("ADDED", "over-tls")]


def test_the_etcd_client_certificate_opens_etcd(private: tuple[Etcd, Apiserver]) -> None:
    etcd, _ = private
    assert _grpc_put_get(etcd, etcd.client_tls) == b"ok"
    assert _gateway_status(etcd, etcd.client_tls) == 200


def test_a_client_with_no_certificate_is_refused(private: tuple[Etcd, Apiserver]) -> None:
    etcd, _ = private
    with pytest.raises(Exception, match=REFUSED):
        _grpc_put_get(etcd, None)
    with pytest.raises(httpx.TransportError, match=BAD_CERTIFICATE):
        _gateway_status(etcd, None)
    assert "client didn't provide a certificate" in etcd.process.log_tail(200)


def test_a_certificate_of_the_cluster_ca_is_refused(
        private: tuple[Etcd, Apiserver], cluster_ca_node_cert: EtcdClientTLS) -> None:
    """A user's or a node's certificate opens the apiserver, never etcd."""
    etcd, _ = private
    with pytest.raises(Exception, match=REFUSED):
        _grpc_put_get(etcd, cluster_ca_node_cert)
    with pytest.raises(httpx.TransportError, match=BAD_CERTIFICATE):
        _gateway_status(etcd, cluster_ca_node_cert)
    assert "certificate signed by unknown authority" in etcd.process.log_tail(200)


def test_plain_http_gets_nothing(private: tuple[Etcd, Apiserver]) -> None:
    """etcd 3.4 closes a plain HTTP connection to its TLS port without an answer (the
    client sees the close, or a reset or nothing when the close races its request)."""
    etcd, _ = private
    with httpx.Client(timeout=5, trust_env=False) as http, pytest.raises(
            httpx.TransportError):
        http.post(f"http://127.0.0.1:{etcd.client_port}/v3/kv/range", json={"key": "AA=="})


def test_a_cluster_talks_to_its_peers_over_tls_only(
        tmp_path: Path, cluster_ca_node_cert: EtcdClientTLS) -> None:
    cluster = EtcdCluster(tmp_path, 3, tls=True).start()
    try:
        # formed and healthy over TLS peer links (an apiserver on such a cluster, losing
        # members: tests/chaos/test_etcd_failover.py); a write replicates to every member
        assert all(m.url.startswith("https://") for m in cluster.members)
        with cluster.members[0].http() as http:
            http.post("/v3/kv/put", json={"key": "cGVlcnM=", "value": "b2s="}).raise_for_status()
        for other in cluster.members[1:]:
            wait_for(lambda m=other: _read_peers(m) == "b2s=", 10, f"the write on {other.name}")
        member, pki = cluster.members[0], tmp_path / "member2" / "pki"
        peer = EtcdClientTLS(pki / "ca.crt", pki / "peer.crt", pki / "peer.key")
        assert _peer_handshake(member, peer).startswith(b"HTTP/1.1 ")  # a peer's opens it
        for cert in (None, cluster_ca_node_cert):
            # etcd's peer listener ends the handshake, with an alert or without one
            with pytest.raises(ssl.SSLError, match=BAD_CERTIFICATE):
                _peer_handshake(member, cert)
    finally:
        cluster.stop()


def _read_peers(member: Etcd) -> str | None:
    with member.http() as http:
        kvs = http.post("/v3/kv/range", json={"key": "cGVlcnM=", "serializable": True}
                        ).json().get("kvs") or []
    return str(kvs[0]["value"]) if kvs else None


def _peer_handshake(member: Etcd, cert: EtcdClientTLS | None) -> bytes:
    """Open the peer port with `cert` and read what etcd answers a request for its
    members; it ends the handshake when it refuses the certificate."""
    context = _tls(member, cert)
    with socket.create_connection(("127.0.0.1", member.peer_port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        tls.sendall(b"GET /members HTTP/1.1\r\nHost: x\r\n\r\n")
        return tls.recv(1024)
