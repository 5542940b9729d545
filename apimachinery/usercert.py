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
from cryptography.x509.oid import NameOID

from apimachinery.pki import make_cert

CLIENT_VALIDITY = timedelta(days=365)
# The user of the apiserver's client certificate towards node agents (kubeadm's CN for
# apiserver-kubelet-client); the bootstrap policy binds it to system:kubelet-api-admin.
KUBELET_CLIENT_USER = "kube-apiserver-kubelet-client"


def make_client_cert(ca_cert_pem: bytes, ca_key_pem: bytes, user: str,
                     groups: Sequence[str] = (), *,
                     validity: timedelta = CLIENT_VALIDITY) -> tuple[bytes, bytes]:
    """A clientAuth certificate for `user` in `groups`, signed by the CA: (cert PEM, key PEM)."""
    if not user:
        raise ValueError("a client certificate needs a user (its CN)")
    return make_cert(ca_cert_pem, ca_key_pem, common_name=user, client=True,
                     organizations=groups, validity=validity)


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
