"""The local PKI: a CA, a serving certificate clients accept, the static token file."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store

from apimachinery.pki import (
    TokenEntry,
    ensure_ca,
    ensure_cert,
    make_ca,
    make_serving_cert,
    new_token,
    parse_token_file,
    read_token_file,
    write_token_file,
)

HOSTS = ["127.0.0.1", "::1", "localhost", "node-1.example"]


@pytest.fixture(scope="module")
def chain() -> tuple[bytes, bytes, bytes, bytes]:
    ca_cert, ca_key = make_ca()
    cert, key = make_serving_cert(ca_cert, ca_key, hosts=HOSTS)
    return ca_cert, ca_key, cert, key


def test_ca_is_a_ca_valid_for_ten_years(chain: tuple[bytes, bytes, bytes, bytes]) -> None:
    ca = x509.load_pem_x509_certificate(chain[0])
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    assert ca.subject == ca.issuer
    lifetime = ca.not_valid_after_utc - datetime.now(UTC)
    assert timedelta(days=3640) < lifetime <= timedelta(days=3650)


def test_serving_cert_has_ip_and_dns_sans_and_server_auth(
    chain: tuple[bytes, bytes, bytes, bytes],
) -> None:
    cert = x509.load_pem_x509_certificate(chain[2])
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    assert san.get_values_for_type(x509.DNSName) == ["localhost", "node-1.example"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    lifetime = cert.not_valid_after_utc - datetime.now(UTC)
    assert timedelta(days=360) < lifetime <= timedelta(days=365)


def test_chain_verifies_for_each_host(chain: tuple[bytes, bytes, bytes, bytes]) -> None:
    ca = x509.load_pem_x509_certificate(chain[0])
    leaf = x509.load_pem_x509_certificate(chain[2])
    store = Store([ca])
    for subject in (
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ):
        verifier = PolicyBuilder().store(store).build_server_verifier(subject)
        assert verifier.verify(leaf, [])[-1] == ca


def test_chain_does_not_verify_against_another_ca(
    chain: tuple[bytes, bytes, bytes, bytes],
) -> None:
    other_ca = x509.load_pem_x509_certificate(make_ca("other")[0])
    leaf = x509.load_pem_x509_certificate(chain[2])
    verifier = PolicyBuilder().store(Store([other_ca])).build_server_verifier(
        x509.DNSName("localhost")
    )
    with pytest.raises(x509.verification.VerificationError):
        verifier.verify(leaf, [])


def test_tls_handshake_on_loopback(
    chain: tuple[bytes, bytes, bytes, bytes], tmp_path: Path
) -> None:
    """A real ssl client that trusts only the CA accepts the server, by IP and by name."""
    ca_cert, _, cert, key = chain
    (tmp_path / "ca.crt").write_bytes(ca_cert)
    (tmp_path / "tls.crt").write_bytes(cert)
    (tmp_path / "tls.key").write_bytes(key)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(tmp_path / "tls.crt", tmp_path / "tls.key")
    client_ctx = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))

    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        listener.settimeout(10)
        errors: list[BaseException] = []

        def serve(count: int) -> None:
            try:
                for _ in range(count):
                    conn, _addr = listener.accept()
                    with server_ctx.wrap_socket(conn, server_side=True) as tls:
                        tls.sendall(tls.recv(16))
            except BaseException as exc:  # surfaced by the assertion below
                errors.append(exc)

        server = threading.Thread(target=serve, args=(2,))
        server.start()
        try:
            for name in ("127.0.0.1", "localhost"):
                with (
                    socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
                    client_ctx.wrap_socket(raw, server_hostname=name) as tls,
                ):
                    tls.sendall(b"ping")
                    assert tls.recv(16) == b"ping"
        finally:
            server.join(timeout=10)
        assert not errors


def test_serving_cert_needs_hosts() -> None:
    ca_cert, ca_key = make_ca()
    with pytest.raises(ValueError, match="host"):
        make_serving_cert(ca_cert, ca_key, hosts=[])


def test_new_token_is_random_and_url_safe() -> None:
    tokens = {new_token() for _ in range(10)}
    assert len(tokens) == 10
    assert all(len(t) >= 43 and t.replace("-", "").replace("_", "").isalnum() for t in tokens)


def test_token_file_round_trip(tmp_path: Path) -> None:
    entries = [
        TokenEntry(new_token(), "admin", "admin", ("system:masters",)),
        TokenEntry(new_token(), "system:node:vm", "node-vm", ("system:nodes", "team-a")),
        TokenEntry(new_token(), "system:kube-scheduler", "kube-scheduler"),
    ]
    path = tmp_path / "tokens.csv"
    write_token_file(path, entries)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_token_file(path) == {e.token: e for e in entries}
    line = path.read_text().splitlines()[1]
    assert line.endswith(',system:node:vm,node-vm,"system:nodes,team-a"')


def test_token_file_accepts_kubernetes_documentation_form() -> None:
    text = '\nt1,alice,1001,"group1,group2,group3"\nt2,bob,1002,ops\nt3,carol,1003\n\n'
    parsed = parse_token_file(text)
    assert parsed["t1"] == TokenEntry("t1", "alice", "1001", ("group1", "group2", "group3"))
    assert parsed["t2"].groups == ("ops",)
    assert parsed["t3"].groups == ()


def test_token_file_rejects_short_lines() -> None:
    with pytest.raises(ValueError, match="line 2"):
        parse_token_file("t1,alice,1\nt2,bob\n")


def test_token_file_refuses_fields_that_break_the_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_token_file(tmp_path / "t.csv", [TokenEntry("a,b", "u", "1")])


def test_a_certificate_of_another_ca_with_the_same_name_is_signed_again(
        tmp_path: Path) -> None:
    """Every etcd CA is named etcd-ca: the issuer's name alone would keep a restored
    home's old certificates, which the restored CA did not sign."""
    first, second = tmp_path / "first", tmp_path / "second"
    for ca in (first, second):
        ensure_ca(ca / "ca.crt", ca / "ca.key", "etcd-ca")
    cert, key = tmp_path / "client.crt", tmp_path / "client.key"
    assert ensure_cert(cert, key, first / "ca.crt", first / "ca.key", common_name="c",
                       client=True)
    assert not ensure_cert(cert, key, first / "ca.crt", first / "ca.key", common_name="c",
                           client=True)
    assert ensure_cert(cert, key, second / "ca.crt", second / "ca.key", common_name="c",
                       client=True)
    signed = x509.load_pem_x509_certificate(cert.read_bytes())
    signed.verify_directly_issued_by(x509.load_pem_x509_certificate(
        (second / "ca.crt").read_bytes()))
