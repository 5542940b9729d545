"""Bootstrap tokens on a real apiserver (`--enable-bootstrap-token-auth`, `--anonymous-auth`,
RBAC), etcd and controller-manager (bootstrapsigner, tokencleaner, csrapproving, csrsigning):
a token authenticates as system:bootstrap:ID and gets a node certificate through a CSR;
cluster-info is signed with each signing token; expired tokens are deleted; an anonymous
request reads cluster-info and nothing else."""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509

from apimachinery import bootstraptoken as bt
from apimachinery import csr
from apimachinery.client import Client
from apimachinery.pki import TokenEntry, make_ca, new_token
from cli.cluster.processes import Apiserver, Etcd, Process, wait_for
from cli.join import tlsbootstrap
from cli.join.discovery import discover
from cli.join.tlsbootstrap import NodeFiles
from tests.integration.signing_manager import signing_manager
from tests.integration.test_cli import SCHOONER

pytestmark = pytest.mark.integration

MANAGER = new_token()
SECRETS = f"/api/v1/namespaces/{bt.NAMESPACE}/secrets"
CLUSTER_INFO = f"/api/v1/namespaces/{bt.CLUSTER_INFO_NAMESPACE}/configmaps/{bt.CLUSTER_INFO}"
CSRS = "/apis/certificates.k8s.io/v1/certificatesigningrequests"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apiserver]:
    etcd = Etcd(tmp_path_factory.mktemp("bt-etcd")).start()
    apiserver = Apiserver(tmp_path_factory.mktemp("bt"), etcd.url, extra_args=[
        "--authorization-mode", "Node,RBAC", "--enable-bootstrap-token-auth", "--anonymous-auth"],
        users=[TokenEntry(MANAGER, "system:kube-controller-manager", "kcm", ())]).start()
    yield apiserver
    apiserver.stop()
    etcd.stop()


@pytest.fixture(scope="module")
def manager(server: Apiserver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    """The CSR controllers and the token ones, with cluster-info there for bootstrapsigner."""
    with server.http() as admin:
        admin.post(f"/api/v1/namespaces/{bt.CLUSTER_INFO_NAMESPACE}/configmaps",
                   json=bt.cluster_info(server.url, server.ca_pem)).raise_for_status()
    with signing_manager(server, MANAGER, tmp_path_factory.mktemp("bt-kcm"),
                         "csrapproving,csrsigning,bootstrapsigner,tokencleaner") as kcm:
        yield kcm


def make_token(http: httpx.Client, *, usages: frozenset[str] = frozenset(bt.USAGES),
               expires_in: timedelta | None = timedelta(hours=1),
               groups: tuple[str, ...] = (bt.DEFAULT_GROUP,)) -> bt.BootstrapToken:
    token_id, secret = bt.parse(bt.new_token())
    expiration = (datetime.now(UTC) + expires_in).replace(microsecond=0) \
        if expires_in is not None else None
    token = bt.BootstrapToken(token_id, secret, expiration, usages, groups)
    http.post(SECRETS, json=bt.to_secret(token)).raise_for_status()
    return token


def _whoami(server: Apiserver, token: str) -> httpx.Response:
    with server.http(token) as http:
        return http.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", json={
            "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})


def test_a_token_authenticates_as_system_bootstrap(server: Apiserver) -> None:
    with server.http() as admin:
        token = make_token(admin)
        wrong_use = make_token(admin, usages=frozenset({"signing"}))
        expired = make_token(admin, expires_in=timedelta(seconds=-5))
    answer = _whoami(server, token.token)
    assert answer.status_code == 201, answer.text
    info = answer.json()["status"]["userInfo"]
    assert info["username"] == f"system:bootstrap:{token.id}"
    assert info["groups"] == [bt.GROUP, bt.DEFAULT_GROUP, "system:authenticated"]
    assert _whoami(server, f"{token.id}.{'x' * 16}").status_code == 401
    assert _whoami(server, wrong_use.token).status_code == 401
    assert _whoami(server, expired.token).status_code == 401
    assert _whoami(server, bt.new_token()).status_code == 401


def test_a_token_gets_a_node_client_certificate(server: Apiserver, manager: Process) -> None:
    with server.http() as admin:
        token = make_token(admin)
    name = f"node-csr-{token.id}"
    pem = csr.node_client_request(csr.new_key(), "tokened")
    body = {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
            "metadata": {"name": name},
            "spec": {"request": base64.b64encode(pem).decode(),
                     "signerName": csr.KUBE_APISERVER_CLIENT_KUBELET,
                     "usages": list(csr.CLIENT_USAGES)}}
    seen: dict[str, Any] = {}
    with server.http(token.token) as joiner:
        made = joiner.post(CSRS, json=body)
        assert made.status_code == 201, made.text
        assert made.json()["spec"]["username"] == f"system:bootstrap:{token.id}"

        def signed() -> bool:
            seen.update(joiner.get(f"{CSRS}/{name}").json())
            return bool((seen.get("status") or {}).get("certificate"))
        wait_for(signed, 20, f"the CSR signed (last seen {seen})")
        # the token may do nothing else
        assert joiner.get("/api/v1/namespaces/kube-system/secrets").status_code == 403


def test_cluster_info_is_signed_by_each_signing_token(server: Apiserver,
                                                      manager: Process) -> None:
    with server.http() as admin:
        signing = make_token(admin)
        not_signing = make_token(admin, usages=frozenset({"authentication"}))
        seen: dict[str, Any] = {}

        def has(key: str, present: bool = True) -> bool:
            seen.clear()
            seen.update(admin.get(CLUSTER_INFO).json()["data"])
            return (key in seen) == present
        wait_for(lambda: has(bt.JWS_PREFIX + signing.id), 20,
                 f"cluster-info signed by {signing.id} (last seen {sorted(seen)})")
        assert bt.JWS_PREFIX + not_signing.id not in seen
        assert bt.verify(seen["kubeconfig"], seen[bt.JWS_PREFIX + signing.id],
                         signing.id, signing.secret)
        assert not bt.verify(seen["kubeconfig"], seen[bt.JWS_PREFIX + signing.id],
                             signing.id, "x" * 16)
        admin.delete(f"{SECRETS}/{bt.secret_name(signing.id)}").raise_for_status()
        wait_for(lambda: has(bt.JWS_PREFIX + signing.id, present=False), 20,
                 f"the deleted token's signature removed (last seen {sorted(seen)})")


def test_expired_tokens_are_deleted(server: Apiserver, manager: Process) -> None:
    with server.http() as admin:
        soon = make_token(admin, expires_in=timedelta(seconds=2))
        lasting = make_token(admin, expires_in=None)
        wait_for(lambda: admin.get(f"{SECRETS}/{bt.secret_name(soon.id)}").status_code == 404,
                 20, "the expired token deleted")
        assert admin.get(f"{SECRETS}/{bt.secret_name(lasting.id)}").status_code == 200


def test_anonymous_reads_cluster_info_and_nothing_else(server: Apiserver,
                                                       manager: Process) -> None:
    with server.http() as admin:
        admin.post(f"/api/v1/namespaces/{bt.CLUSTER_INFO_NAMESPACE}/configmaps", json={
            "metadata": {"name": "other"}, "data": {"k": "v"}})
    with httpx.Client(base_url=server.url, verify=False, timeout=10) as anonymous:
        info = anonymous.get(CLUSTER_INFO)
        assert info.status_code == 200, info.text
        assert "certificate-authority-data" in info.json()["data"]["kubeconfig"]
        for path in ("/api", "/apis", "/api/v1/namespaces",
                     f"/api/v1/namespaces/{bt.CLUSTER_INFO_NAMESPACE}/configmaps",
                     f"/api/v1/namespaces/{bt.CLUSTER_INFO_NAMESPACE}/configmaps/other",
                     SECRETS, CSRS, "/metrics", "/openapi/v2"):
            refused = anonymous.get(path)
            assert refused.status_code == 403, (path, refused.text)
            assert 'User "system:anonymous"' in refused.json()["message"]
        assert anonymous.put(CLUSTER_INFO, json={"metadata": {"name": "cluster-info"}}
                             ).status_code == 403
        assert anonymous.get("/version").status_code == 200
    with httpx.Client(base_url=server.url, verify=False, timeout=10,
                      headers={"Authorization": "Bearer nope"}) as wrong:
        assert wrong.get(CLUSTER_INFO).status_code == 401


def _signed_cluster_info(server: Apiserver, token: bt.BootstrapToken) -> None:
    with server.http() as admin:
        wait_for(lambda: bt.JWS_PREFIX + token.id in admin.get(CLUSTER_INFO).json()["data"],
                 20, f"cluster-info signed by {token.id}")


def test_join_discovers_and_gets_both_certificates(server: Apiserver, manager: Process,
                                                   tmp_path: Path) -> None:
    with server.http() as admin:
        token = make_token(admin)
    _signed_cluster_info(server, token)
    cluster = discover(server.url.removeprefix("https://"), token.token,
                       bt.ca_cert_hash(server.ca_pem))
    assert (cluster.server, cluster.ca_pem) == (server.url, server.ca_pem)
    files = NodeFiles(tmp_path / "node")
    tlsbootstrap.bootstrap(cluster, token.token, "joined-n", "127.0.0.1", files)
    with Client.from_kubeconfig(str(files.kubeconfig)) as node:
        review = node.create("selfsubjectreviews", {
            "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
        assert review["status"]["userInfo"]["username"] == "system:node:joined-n"
        assert node.get("nodes", "joined-n")["status"]["addresses"][0]["address"] == \
            "127.0.0.1"
    serving = x509.load_pem_x509_certificate(files.serving_cert.read_bytes())
    sans = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["joined-n"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert files.client_key.stat().st_mode & 0o077 == 0
    # what the host keeps: its own keys and the CA certificate, never the token or CA key
    written = b"".join(p.read_bytes() for p in files.home.rglob("*") if p.is_file())
    assert token.secret.encode() not in written
    assert server.ca_key_pem.strip() not in written


@pytest.mark.parametrize("mistake", ["secret", "id", "hash"])
def test_join_refuses_a_wrong_token_or_ca_hash(server: Apiserver, manager: Process,
                                               tmp_path: Path, mistake: str) -> None:
    with server.http() as admin:
        token = make_token(admin)
    _signed_cluster_info(server, token)
    given, pinned = token.token, bt.ca_cert_hash(server.ca_pem)
    if mistake == "secret":
        given = f"{token.id}.{'0' * 16}"
    elif mistake == "id":
        given = bt.new_token()
    else:
        pinned = bt.ca_cert_hash(make_ca()[0])
    run = subprocess.run(
        [SCHOONER, "join", server.url.removeprefix("https://"), "--token", given,
         "--discovery-token-ca-cert-hash", pinned, "--home", str(tmp_path / "node")],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert run.returncode == 1, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    expected = {"secret": "failed to verify JWS signature",
                "id": "is invalid for this cluster or it has expired",
                "hash": "is not trusted: public key sha256:"}[mistake]
    assert expected in lines[0]
    assert not (tmp_path / "node" / "pki").exists()


def test_schooner_token_create_list_delete(server: Apiserver, tmp_path: Path) -> None:
    config = server.kubeconfig(tmp_path / "kubeconfig")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}

    def schooner(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([SCHOONER, "--kubeconfig", str(config), "token", *args],
                              capture_output=True, text=True, timeout=60, env=env)

    made = schooner("create", "--ttl", "2h", "--description", "for n9")
    assert made.returncode == 0, made.stderr
    token_id, _ = bt.parse(made.stdout.strip())
    listed = schooner("list")
    row = next(line for line in listed.stdout.splitlines() if line.startswith(token_id))
    assert "authentication,signing" in row and "for n9" in row and bt.DEFAULT_GROUP in row
    bad = schooner("create", "--groups", "system:masters")
    assert bad.returncode == 1 and bad.stderr.startswith("error: --groups: system:masters")
    deleted = schooner("delete", token_id)
    assert deleted.stdout.strip() == f'bootstrap token "{token_id}" deleted'
    assert token_id not in schooner("list").stdout
