"""Client certificates that name a user: CN the user, one O per group (Kubernetes' x509 authn).

kube-apiserver's `--client-ca-file` authenticator reads a verified client
certificate's subject as the user: CommonName the user name, each Organization a
group (`system:masters`, `system:nodes`). kubeadm issues the admin's and the
components' credentials this way; `schooner up` and tests do the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CLIENT_VALIDITY = timedelta(days=365)
CLOCK_SKEW = timedelta(minutes=5)


def make_client_cert(ca_cert_pem: bytes, ca_key_pem: bytes, user: str,
                     groups: Sequence[str] = (), *,
                     validity: timedelta = CLIENT_VALIDITY) -> tuple[bytes, bytes]:
    """A clientAuth certificate for `user` in `groups`, signed by the CA: (cert PEM, key PEM)."""
    if not user:
        raise ValueError("a client certificate needs a user (its CN)")
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError("the CA key must be an EC or RSA private key")
    key = ec.generate_private_key(ec.SECP256R1())
    subject = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
    subject.append(x509.NameAttribute(NameOID.COMMON_NAME, user))
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(subject))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def certificate_names(cert_pem: bytes) -> tuple[str, tuple[str, ...]]:
    """The (user, groups) a client certificate names: its CN and its O values."""
    subject = x509.load_pem_x509_certificate(cert_pem).subject
    cn = [str(a.value) for a in subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    orgs = tuple(str(a.value) for a in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME))
    return (cn[0] if cn else ""), orgs


def still_good(cert_pem: bytes, ca_cert_pem: bytes, margin: timedelta = timedelta(days=30)
               ) -> bool:
    """Whether the CA signed the certificate and it stays valid for `margin` more."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    try:
        cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_cert_pem))
    except (ValueError, TypeError, InvalidSignature):
        return False
    return cert.not_valid_after_utc > datetime.now(UTC) + margin
