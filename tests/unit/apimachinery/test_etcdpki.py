"""etcd's own PKI: a CA apart from the cluster's, members' and the apiserver's certificates."""

from __future__ import annotations

import ipaddress
import itertools
from pathlib import Path, PurePosixPath

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from apimachinery.etcdpki import (
    APISERVER_ETCD_CLIENT,
    ETCD_CA_NAME,
    EtcdClientTLS,
    EtcdServerTLS,
    ensure_client,
    ensure_etcd_ca,
    ensure_member,
)
from apimachinery.pki import ensure_ca, make_ca, make_cert

SERVER, CLIENT = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH


def load(path: object) -> x509.Certificate:
    return x509.load_pem_x509_certificate(Path(str(path)).read_bytes())


def usages(cert: x509.Certificate) -> set[x509.ObjectIdentifier]:
    return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


@pytest.fixture
def pki(tmp_path: Path) -> tuple[Path, EtcdServerTLS, EtcdClientTLS]:
    ca_dir = tmp_path / "etcd-ca"
    ensure_etcd_ca(ca_dir)
    member = EtcdServerTLS.in_dir(tmp_path / "etcd1")
    ensure_member(ca_dir, member, "etcd1", ["etcd1", "127.0.0.1", "localhost"])
    client = EtcdClientTLS.in_dir(tmp_path / "apiserver")
    ensure_client(ca_dir, client)
    return ca_dir, member, client


def test_member_certificates_serve_and_dial_with_its_names(
        pki: tuple[Path, EtcdServerTLS, EtcdClientTLS]) -> None:
    ca_dir, member, _ = pki
    ca = load(ca_dir / "ca.crt")
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == ETCD_CA_NAME
    for path in (member.cert, member.peer_cert):
        cert = load(path)
        assert cert.issuer == ca.subject
        assert usages(cert) == {SERVER, CLIENT}  # kubeadm's etcd/server and etcd/peer
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert san.get_values_for_type(x509.DNSName) == ["etcd1", "localhost"]
        assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    # the member's own directory holds the CA's certificate, never its key
    assert Path(member.ca).read_bytes() == (ca_dir / "ca.crt").read_bytes()
    assert not (Path(member.cert).parent / "ca.key").exists()


def test_the_apiserver_client_certificate_is_a_client_one_only(
        pki: tuple[Path, EtcdServerTLS, EtcdClientTLS]) -> None:
    ca_dir, _, client = pki
    cert = load(client.cert)
    assert usages(cert) == {CLIENT}
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == \
        APISERVER_ETCD_CLIENT
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert Path(client.ca).read_bytes() == (ca_dir / "ca.crt").read_bytes()
    assert Path(client.key).stat().st_mode & 0o077 == 0


def test_a_cluster_ca_certificate_does_not_verify_against_the_etcd_ca(
        tmp_path: Path, pki: tuple[Path, EtcdServerTLS, EtcdClientTLS]) -> None:
    """What etcd's --trusted-ca-file does with a user's or a node's certificate."""
    ca_dir, _, client = pki
    cluster_ca, cluster_key = ensure_ca(tmp_path / "ca.crt", tmp_path / "ca.key"), (
        tmp_path / "ca.key").read_bytes()
    node_cert, _ = make_cert(cluster_ca, cluster_key, common_name="system:node:node1",
                             organization="system:nodes", client=True)
    etcd_ca = load(ca_dir / "ca.crt")
    load(client.cert).verify_directly_issued_by(etcd_ca)  # the apiserver's passes
    with pytest.raises((ValueError, InvalidSignature)):
        x509.load_pem_x509_certificate(node_cert).verify_directly_issued_by(etcd_ca)
    # nor when the cluster CA is given the etcd CA's name: the signature decides
    impostor_ca, impostor_key = make_ca(ETCD_CA_NAME)
    impostor, _ = make_cert(impostor_ca, impostor_key, common_name=APISERVER_ETCD_CLIENT,
                            client=True)
    with pytest.raises(InvalidSignature):
        x509.load_pem_x509_certificate(impostor).verify_directly_issued_by(etcd_ca)


def test_certificates_are_kept_and_remade_when_the_usage_changes(
        pki: tuple[Path, EtcdServerTLS, EtcdClientTLS]) -> None:
    ca_dir, member, client = pki
    before = {p: Path(p).read_bytes() for p in (member.cert, member.peer_cert, client.cert)}
    ensure_member(ca_dir, member, "etcd1", ["etcd1", "127.0.0.1"])
    ensure_client(ca_dir, client)
    assert {p: Path(p).read_bytes() for p in before} == before
    # a client certificate in the member's serving place lacks serverAuth: remade
    Path(member.cert).write_bytes(Path(client.cert).read_bytes())
    ensure_member(ca_dir, member, "etcd1", ["etcd1", "127.0.0.1"])
    assert usages(load(member.cert)) == {SERVER, CLIENT}
    # a new name is a new certificate
    ensure_member(ca_dir, member, "etcd1", ["etcd1", "127.0.0.1", "etcd1.lab"])
    assert Path(member.cert).read_bytes() != before[member.cert]


def test_flags_are_etcds_and_kube_apiservers() -> None:
    member = EtcdServerTLS.in_dir(PurePosixPath("/etc/etcd"))
    flags = member.flags()
    pairs = dict(itertools.pairwise(flags))
    assert pairs["--cert-file"] == "/etc/etcd/server.crt"
    assert pairs["--key-file"] == "/etc/etcd/server.key"
    assert pairs["--trusted-ca-file"] == pairs["--peer-trusted-ca-file"] == "/etc/etcd/ca.crt"
    assert pairs["--peer-cert-file"] == "/etc/etcd/peer.crt"
    assert pairs["--peer-key-file"] == "/etc/etcd/peer.key"
    assert {"--client-cert-auth=true", "--peer-client-cert-auth=true"} <= set(flags)
    client = EtcdClientTLS.in_dir(PurePosixPath("/etc/x"))
    assert client.apiserver_flags() == [
        "--etcd-cafile", "/etc/x/ca.crt", "--etcd-certfile", "/etc/x/apiserver-etcd-client.crt",
        "--etcd-keyfile", "/etc/x/apiserver-etcd-client.key"]


def test_a_certificate_needs_a_usage(tmp_path: Path) -> None:
    ca = ensure_ca(tmp_path / "ca.crt", tmp_path / "ca.key")
    with pytest.raises(ValueError, match="usage"):
        make_cert(ca, (tmp_path / "ca.key").read_bytes(), common_name="x")
