"""The lab's agents serve TLS with the certificate their node's kubelet-serving CSR got
when it joined, and authorize every caller;
its apiservers (not on loopback) dial no node that names a loopback address."""

from __future__ import annotations

import base64
import contextlib
import ssl
import uuid
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from apimachinery import errors
from apimachinery.client import Client
from apimachinery.pki import cert_names, write_private
from apimachinery.usercert import make_client_cert
from cli.cluster.processes import wait_for
from lab.testing import SchoonerCluster

AGENT_PORT = 10250


def _trusting(cluster: SchoonerCluster, cert: tuple[str, str] | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(cluster.files.ca_cert))
    if cert is not None:
        context.load_cert_chain(*cert)
    return context


def _issued_serving_certificates(client: Client, node: str) -> list[x509.Certificate]:
    """The certificates csrsigning issued to `node`'s kubelet-serving requests."""
    return [x509.load_pem_x509_certificate(base64.b64decode(csr["status"]["certificate"]))
            for csr in client.list("certificatesigningrequests")["items"]
            if csr["spec"]["signerName"] == "kubernetes.io/kubelet-serving"
            and csr["spec"]["username"] == f"system:node:{node}"
            and csr.get("status", {}).get("certificate")]


def test_an_agent_proves_its_node_and_refuses_callers_without_nodes_proxy(
        cluster: SchoonerCluster, client: Client, tmp_path: Path) -> None:
    address = cluster.config.node_address(0)
    # the certificate it serves (checked against the lab CA and its address) is the one
    # its node's CSR got: no host-signed one is mounted into it
    # (the first test of a new lab may come before the agent's port is open: the Node
    # can report Ready a moment before its server listens)
    pem: list[str] = []

    def fetched() -> bool:
        with contextlib.suppress(OSError):
            pem.append(ssl.get_server_certificate(
                (address, AGENT_PORT), ca_certs=str(cluster.files.ca_cert), timeout=10))
        return bool(pem)
    wait_for(fetched, 30, f"the agent's TLS port on {address}", 0.5)
    served = x509.load_pem_x509_certificate(pem[0].encode())
    assert cert_names(served) == {"node1", address}
    assert served in _issued_serving_certificates(client, "node1")
    cert, key = make_client_cert(cluster.files.ca_cert.read_bytes(),
                                 cluster.files.ca_key.read_bytes(), "mallory")
    (tmp_path / "m.crt").write_bytes(cert)
    write_private(tmp_path / "m.key", key)
    url = f"https://{address}:{AGENT_PORT}/containerLogs/kube-system/x/y"
    # the agent's certificate verifies for the address the apiservers dial
    with httpx.Client(verify=_trusting(cluster), timeout=10, trust_env=False) as anonymous:
        assert anonymous.get(url).status_code == 401
    with httpx.Client(verify=_trusting(cluster, (str(tmp_path / "m.crt"),
                                                 str(tmp_path / "m.key"))),
                      timeout=10, trust_env=False) as mallory:
        refused = mallory.get(url)
    assert (refused.status_code, refused.text.strip()) == (
        403, "Forbidden (user=mallory, verb=get, resource=nodes, subresource=proxy)")
    with pytest.raises(httpx.HTTPError):  # TLS only
        httpx.get(f"http://{address}:{AGENT_PORT}/healthz", timeout=10, trust_env=False)


def test_the_apiservers_dial_no_node_at_a_loopback_address(client: Client,
                                                           namespace: str) -> None:
    name = f"fake-{uuid.uuid4().hex[:6]}"
    client.create("nodes", {"metadata": {"name": name}, "status": {
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 2379}}}})
    try:
        client.create("pods", {"metadata": {"name": "p"}, "spec": {
            "nodeName": name, "containers": [{"name": "c", "image": "busybox"}]}}, namespace)
        with pytest.raises(errors.APIError) as refused:
            client.request("GET", f"/api/v1/namespaces/{namespace}/pods/p/log")
        assert refused.value.code == 503
        assert refused.value.message == (
            f"node {name}: address 127.0.0.1 is not allowed: may not be in the loopback "
            "range (127.0.0.0/8, ::1/128)")
    finally:
        with contextlib.suppress(errors.NotFound):  # no agent will ever stop it
            client.delete("pods", "p", namespace, grace_period_seconds=0)
        client.delete("nodes", name)
