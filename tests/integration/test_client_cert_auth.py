"""X.509 client certificates on a real apiserver (`--client-ca-file`) over real TLS."""

from __future__ import annotations

import ssl
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from apimachinery.client import Client
from apimachinery.kubeconfig import write_kubeconfig
from apimachinery.pki import make_ca, make_serving_cert
from apimachinery.usercert import make_client_cert
from cli.cluster.processes import Apiserver

pytestmark = pytest.mark.integration


def _client(server: Apiserver, tmp_path: Path, cert: bytes, key: bytes) -> httpx.Client:
    """An HTTPS client that presents `cert` and sends no token."""
    (tmp_path / "c.crt").write_bytes(cert)
    (tmp_path / "c.key").write_bytes(key)
    context = ssl.create_default_context(cadata=server.ca_pem.decode())
    context.load_cert_chain(str(tmp_path / "c.crt"), str(tmp_path / "c.key"))
    return httpx.Client(base_url=server.url, verify=context, timeout=10, trust_env=False)


def test_a_certificate_from_the_cluster_ca_authenticates(apiserver: Apiserver,
                                                         tmp_path: Path) -> None:
    cert, key = make_client_cert(apiserver.ca_pem, apiserver.ca_key_pem, "alice", ["dev"])
    with _client(apiserver, tmp_path, cert, key) as http:
        # discovery: any authenticated user may read it (system:discovery), no one else
        assert http.get("/api").status_code == 200
        # a second request on the same connection carries the certificate too
        assert http.get("/apis").status_code == 200
        # alice holds no role: RBAC refuses her by name (authenticated, not authorized)
        refused = http.get("/api/v1/namespaces")
        assert refused.status_code == 403
        assert 'User "alice" cannot list' in refused.json()["message"]


def test_neither_certificate_nor_token_is_401(apiserver: Apiserver) -> None:
    with apiserver.http(token=None) as http:
        response = http.get("/api/v1/namespaces")
    assert response.status_code == 401
    assert response.json()["reason"] == "Unauthorized"


def test_tokens_still_authenticate_beside_certificates(apiserver: Apiserver) -> None:
    with apiserver.http() as http:
        assert http.get("/api/v1/namespaces").status_code == 200
    with apiserver.http(token="not-a-token") as http:
        assert http.get("/api/v1/namespaces").status_code == 401


def _refused(server: Apiserver, tmp_path: Path, cert: bytes, key: bytes) -> None:
    """The handshake fails: the server never answers a request with that certificate."""
    with _client(server, tmp_path, cert, key) as http, pytest.raises(
            (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
        http.get("/api/v1/namespaces")


def test_a_certificate_of_another_ca_is_refused(apiserver: Apiserver, tmp_path: Path) -> None:
    other_cert, other_key = make_ca("not-the-cluster-ca")
    cert, key = make_client_cert(other_cert, other_key, "mallory", ["system:masters"])
    _refused(apiserver, tmp_path, cert, key)


def test_an_expired_certificate_is_refused(apiserver: Apiserver, tmp_path: Path) -> None:
    cert, key = make_client_cert(apiserver.ca_pem, apiserver.ca_key_pem, "old",
                                 validity=timedelta(minutes=-1))
    _refused(apiserver, tmp_path, cert, key)


def test_a_serving_certificate_is_no_client_certificate(apiserver: Apiserver,
                                                        tmp_path: Path) -> None:
    """The cluster CA signed it, but for serverAuth only: no client identity."""
    cert, key = make_serving_cert(apiserver.ca_pem, apiserver.ca_key_pem, hosts=["x"],
                                  common_name="system:masters-impostor")
    _refused(apiserver, tmp_path, cert, key)


REVIEW = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
BODY = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}


def test_self_subject_review_names_the_certificate_user(apiserver: Apiserver,
                                                        tmp_path: Path) -> None:
    cert, key = make_client_cert(apiserver.ca_pem, apiserver.ca_key_pem, "system:node:n1",
                                 ["system:nodes"])
    with _client(apiserver, tmp_path, cert, key) as http:
        response = http.post(REVIEW, json=BODY)
    assert response.status_code == 201, response.text
    review = response.json()
    assert review["kind"] == "SelfSubjectReview"
    assert review["metadata"]["creationTimestamp"]
    assert review["status"]["userInfo"] == {
        "username": "system:node:n1", "groups": ["system:nodes", "system:authenticated"]}


def test_self_subject_review_names_the_token_user(apiserver: Apiserver) -> None:
    with apiserver.http() as http:
        review = http.post(REVIEW, json=BODY).json()
        assert review["status"]["userInfo"] == {
            "username": "admin", "uid": "admin",
            "groups": ["system:masters", "system:authenticated"]}
        # computed, never stored: nothing to list, get or delete
        for response in (http.get(REVIEW), http.get(f"{REVIEW}/x"), http.delete(f"{REVIEW}/x")):
            assert response.status_code == 405, response.text
            assert response.json()["reason"] == "MethodNotAllowed"


def test_schooners_client_presents_a_kubeconfig_certificate(apiserver: Apiserver,
                                                            tmp_path: Path) -> None:
    cert, key = make_client_cert(apiserver.ca_pem, apiserver.ca_key_pem,
                                 "system:kube-scheduler")
    path = tmp_path / "scheduler.kubeconfig"
    write_kubeconfig(str(path), apiserver.url, apiserver.ca_pem, None,
                     client_cert=cert, client_key=key)
    with Client.from_kubeconfig(str(path)) as client:
        review = client.create("selfsubjectreviews", BODY)
    assert review["status"]["userInfo"]["username"] == "system:kube-scheduler"
