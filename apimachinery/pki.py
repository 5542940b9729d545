"""The small PKI a local cluster needs: a CA, a serving certificate, bearer tokens.

kubectl only sends a bearer token over HTTPS (it drops `Authorization` on plain
HTTP), so the apiserver must serve TLS with a certificate the clients can check.
`schooner up` makes a CA once, signs the apiserver's serving certificate with it,
and puts the CA into the kubeconfig, as kubeadm does with `/etc/kubernetes/pki`.

Tokens live in Kubernetes' static token file format (`--token-auth-file`): one
`token,user,uid,"group1,group2"` line per identity, so the same file works for
Schooner's apiserver and is recognisable to anyone who ran a kube-apiserver.

Used by the launcher (`cli.cluster`) and by test fixtures; keys are returned and
written as PEM, and files holding secrets are created with mode 0600.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import os
import secrets
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_VALIDITY = timedelta(days=3650)
SERVING_VALIDITY = timedelta(days=365)
# Certificates start a little in the past so a client whose clock is slightly
# behind does not reject a certificate made a second ago.
CLOCK_SKEW = timedelta(minutes=5)


def make_ca(common_name: str = "schooner-ca") -> tuple[bytes, bytes]:
    """A self-signed CA valid for 10 years: (certificate PEM, private key PEM).

    EC P-256 keeps key generation instant; the CA may sign leaf certificates
    only (path length 0), like kubeadm's cluster CA.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def make_serving_cert(
    ca_cert_pem: bytes,
    ca_key_pem: bytes,
    *,
    hosts: list[str],
    common_name: str = "schooner-apiserver",
) -> tuple[bytes, bytes]:
    """A TLS server certificate signed by the CA, valid for 1 year: (cert PEM, key PEM).

    Each host becomes a subjectAltName: an IPAddress entry when it parses as an
    IP (clients match IPs only against IPAddress SANs), a DNSName otherwise.
    """
    if not hosts:
        raise ValueError("a serving certificate needs at least one host")
    return make_cert(ca_cert_pem, ca_key_pem, common_name=common_name, hosts=hosts,
                     server=True)


def make_cert(
    ca_cert_pem: bytes,
    ca_key_pem: bytes,
    *,
    common_name: str,
    hosts: Iterable[str] = (),
    server: bool = False,
    client: bool = False,
    organization: str | None = None,
    organizations: Sequence[str] = (),
    validity: timedelta = SERVING_VALIDITY,
) -> tuple[bytes, bytes]:
    """A leaf certificate signed by the CA, valid for 1 year: (cert PEM, key PEM).

    `server` and `client` are its extended key usages (serverAuth, clientAuth), as
    kubeadm's certificate specs set them: an etcd member's certificates carry both
    (a member dials its peers, and etcd's gateway dials the member itself), a
    client's only clientAuth. `hosts` become subjectAltNames, `organization` and
    `organizations` the subject's O (Kubernetes reads each as a group of the user).
    """
    if not (server or client):
        raise ValueError("a certificate needs a usage: server, client or both")
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError("the CA key must be an EC or RSA private key")
    key = ec.generate_private_key(ec.SECP256R1())
    subject = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    groups = [*([organization] if organization else []), *organizations]
    subject[:0] = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
    usages = [oid for oid, on in ((ExtendedKeyUsageOID.SERVER_AUTH, server),
                                  (ExtendedKeyUsageOID.CLIENT_AUTH, client)) if on]
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(subject))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    )
    if entries := san_entries(hosts):
        builder = builder.add_extension(x509.SubjectAlternativeName(entries), critical=False)
    cert = (
        builder
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def san_entries(hosts: Iterable[str]) -> list[x509.GeneralName]:
    """subjectAltName entries for hosts, duplicates dropped, order kept."""
    entries: list[x509.GeneralName] = []
    for host in dict.fromkeys(hosts):
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            entries.append(x509.DNSName(host))
    return entries


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_private(path: Path | str, data: bytes) -> None:
    """Write a secret (key, token file) readable by its owner only.

    The temporary file is created 0600 before any byte is written, so the secret
    is never briefly world-readable, and it replaces the target by a rename, so a
    reader never sees half a file.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)  # created 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def ensure_ca(cert_path: Path, key_path: Path, common_name: str = "schooner-ca") -> bytes:
    """Make a CA at the paths unless both files exist; returns the CA cert PEM.

    A CA is made once and kept, so every kubeconfig that embeds it stays valid.
    """
    if not (cert_path.exists() and key_path.exists()):
        cert_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        cert, key = make_ca(common_name)
        write_private(key_path, key)
        cert_path.write_bytes(cert)
    return cert_path.read_bytes()


def ensure_serving_cert(cert_path: Path, key_path: Path, ca_cert_path: Path,
                        ca_key_path: Path, hosts: list[str]) -> bool:
    """Keep the serving cert if it is from this CA, names every host and has 30+ days
    left; else sign a new one. Returns whether a new one was made."""
    return ensure_cert(cert_path, key_path, ca_cert_path, ca_key_path,
                       common_name="schooner-apiserver", hosts=hosts, server=True)


def ensure_cert(cert_path: Path, key_path: Path, ca_cert_path: Path, ca_key_path: Path, *,
                common_name: str, hosts: list[str] | tuple[str, ...] = (),
                server: bool = False, client: bool = False) -> bool:
    """Keep the certificate if this CA signed it, it names every host, has the usages
    asked and 30+ days left; else sign a new one. Returns whether a new one was made."""
    ca_pem = ca_cert_path.read_bytes()
    if not (key_path.exists() and _still_good(cert_path, ca_pem, hosts, server, client)):
        cert_pem, key_pem = make_cert(ca_pem, ca_key_path.read_bytes(), common_name=common_name,
                                      hosts=hosts, server=server, client=client)
        cert_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_private(key_path, key_pem)
        cert_path.write_bytes(cert_pem)
        return True
    return False


def _still_good(cert_path: Path, ca_pem: bytes, hosts: Iterable[str], server: bool,
                client: bool) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        names = cert_names(cert)
        usages = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    wanted = {oid for oid, on in ((ExtendedKeyUsageOID.SERVER_AUTH, server),
                                  (ExtendedKeyUsageOID.CLIENT_AUTH, client)) if on}
    fresh = cert.not_valid_after_utc > datetime.now(UTC) + timedelta(days=30)
    return fresh and _signed_by(cert, ca_pem) and set(hosts) <= names and wanted == usages


def _signed_by(cert: x509.Certificate, ca_pem: bytes) -> bool:
    """Whether this CA signed `cert`: its signature checked, not only the issuer's name,
    since every etcd CA is named `etcd-ca` (a restored backup's CA replaces the home's,
    and the certificates the old one signed must be signed again)."""
    try:
        cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_pem))
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def cert_names(cert: x509.Certificate) -> set[str]:
    """The IP and DNS subjectAltNames of a certificate, as strings; none without the extension."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return {str(v) for v in san.get_values_for_type(x509.IPAddress)} | set(
        san.get_values_for_type(x509.DNSName))


# --- static bearer tokens ---------------------------------------------------


@dataclass(frozen=True)
class TokenEntry:
    """One line of a static token file: who a bearer token authenticates as."""

    token: str
    user: str
    uid: str
    groups: tuple[str, ...] = ()


def new_token() -> str:
    """A fresh random bearer token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def format_token_file(entries: Iterable[TokenEntry]) -> str:
    """Render entries as `token,user,uid,"group1,group2"` lines.

    The groups column is always quoted, as in the Kubernetes documentation, and
    left out when an entry has no groups (the column is optional there too).
    """
    out = io.StringIO()
    for entry in entries:
        fields = [entry.token, entry.user, entry.uid]
        for value in (*fields, *entry.groups):
            if any(c in value for c in ',"\n\r'):
                raise ValueError(f"token file fields may not contain , \" or newlines: {value!r}")
        line = ",".join(fields)
        if entry.groups:
            line += ',"' + ",".join(entry.groups) + '"'
        out.write(line + "\n")
    return out.getvalue()


def parse_token_file(text: str) -> dict[str, TokenEntry]:
    """Parse a static token file into entries keyed by token.

    Mirrors the kube-apiserver's tokenfile authenticator: blank lines are
    skipped, a line needs at least token, user and uid, and the optional fourth
    column is a comma-separated group list.
    """
    entries: dict[str, TokenEntry] = {}
    for lineno, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or all(not field.strip() for field in row):
            continue
        if len(row) < 3:
            raise ValueError(f"token file line {lineno}: want token,user,uid[,groups]")
        token, user, uid = (field.strip() for field in row[:3])
        groups: tuple[str, ...] = ()
        if len(row) > 3 and row[3].strip():
            groups = tuple(g.strip() for g in row[3].split(",") if g.strip())
        if not token:
            raise ValueError(f"token file line {lineno}: empty token")
        entries[token] = TokenEntry(token=token, user=user, uid=uid, groups=groups)
    return entries


def write_token_file(path: Path | str, entries: list[TokenEntry]) -> None:
    """Write entries as a static token file, mode 0600 (it holds credentials)."""
    write_private(path, format_token_file(entries).encode())


def read_token_file(path: Path | str) -> dict[str, TokenEntry]:
    """Read a static token file into entries keyed by token."""
    return parse_token_file(Path(path).read_text())


def ensure_token(path: Path, user: str, *, uid: str | None = None,
                 groups: tuple[str, ...] = ()) -> str:
    """The token of `user` in the token file, appended (with a new token) when absent.

    Existing tokens are never rotated, so credentials handed out stay valid.
    """
    entries = read_token_file(path) if path.exists() else {}
    for entry in entries.values():
        if entry.user == user:
            return entry.token
    entry = TokenEntry(new_token(), user, uid or user, groups)
    write_token_file(path, [*entries.values(), entry])
    return entry.token
