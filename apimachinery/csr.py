"""X.509 certificate signing requests as certificates.k8s.io/v1 carries them.

Shared by the apiserver (validating `spec.request`), the controller-manager
(judging and signing requests) and `schooner join` (making them): the signer
names and key usages Kubernetes defines, PEM parsing, and building a request
for a node's client or serving certificate as the kubelet does
(`k8s.io/client-go/util/certificate/csr`).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from apimachinery.pki import san_entries

GROUP = "certificates.k8s.io"
KUBE_APISERVER_CLIENT = "kubernetes.io/kube-apiserver-client"
KUBE_APISERVER_CLIENT_KUBELET = "kubernetes.io/kube-apiserver-client-kubelet"
KUBELET_SERVING = "kubernetes.io/kubelet-serving"
LEGACY_UNKNOWN = "kubernetes.io/legacy-unknown"
NODES_GROUP = "system:nodes"
NODE_USER_PREFIX = "system:node:"

# certificates/v1 KeyUsage: every value Kubernetes accepts.
KEY_USAGES = (
    "signing", "digital signature", "content commitment", "key encipherment",
    "key agreement", "data encipherment", "cert sign", "crl sign", "encipher only",
    "decipher only", "any", "server auth", "client auth", "code signing",
    "email protection", "s/mime", "ipsec end system", "ipsec tunnel", "ipsec user",
    "timestamping", "ocsp signing", "microsoft sgc", "netscape sgc")
# What the kubelet asks for: its client certificate, and its serving certificate.
CLIENT_USAGES = ("digital signature", "client auth")
SERVING_USAGES = ("digital signature", "server auth")
PEM_TYPE = "CERTIFICATE REQUEST"


class BadRequest(ValueError):
    """`spec.request` is not one PEM certificate request with a valid signature."""


@dataclass(frozen=True)
class Subject:
    """What a request asks to be named: CN, O's and subjectAltNames."""

    common_name: str
    organizations: tuple[str, ...]
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    has_emails_or_uris: bool


def parse_pem(pem: bytes) -> x509.CertificateSigningRequest:
    """The one `CERTIFICATE REQUEST` PEM block of `pem`, signature checked (Kubernetes'
    ParseCSR: anything else is refused)."""
    text = pem.decode("ascii", "replace")
    if text.count(f"-----BEGIN {PEM_TYPE}-----") != 1:
        raise BadRequest("PEM block type must be CERTIFICATE REQUEST")
    try:
        request = x509.load_pem_x509_csr(pem)
    except ValueError as exc:
        raise BadRequest(f"invalid certificate request: {exc}") from None
    if not request.is_signature_valid:
        raise BadRequest("invalid certificate request: signature does not verify")
    return request


def decode_request(encoded: str) -> x509.CertificateSigningRequest:
    """`spec.request` as the wire has it (base64 of the PEM)."""
    try:
        pem = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise BadRequest("not base64") from None
    return parse_pem(pem)


def subject_of(request: x509.CertificateSigningRequest) -> Subject:
    names = request.subject
    common = [str(a.value) for a in names.get_attributes_for_oid(NameOID.COMMON_NAME)]
    orgs = tuple(str(a.value) for a in names.get_attributes_for_oid(NameOID.ORGANIZATION_NAME))
    dns: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    others = False
    try:
        san = request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = None
    if san is not None:
        dns = tuple(san.get_values_for_type(x509.DNSName))
        ips = tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
        others = bool(san.get_values_for_type(x509.RFC822Name) or
                      san.get_values_for_type(x509.UniformResourceIdentifier))
    return Subject(common[0] if common else "", orgs, dns, ips, others)


def new_key() -> ec.EllipticCurvePrivateKey:
    """An EC P-256 key, as the kubelet generates for its certificates."""
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_request(key: ec.EllipticCurvePrivateKey, common_name: str,
                 organizations: Iterable[str] = (), hosts: Iterable[str] = ()) -> bytes:
    """A PEM certificate request signed by `key`; `hosts` become subjectAltNames."""
    subject = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
    subject.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(subject))
    entries = san_entries(hosts)
    if entries:
        builder = builder.add_extension(x509.SubjectAlternativeName(entries), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def node_client_request(key: ec.EllipticCurvePrivateKey, node: str) -> bytes:
    """The kubelet's client request: CN system:node:NAME, O system:nodes, no SANs."""
    return make_request(key, NODE_USER_PREFIX + node, (NODES_GROUP,))


def node_serving_request(key: ec.EllipticCurvePrivateKey, node: str,
                         hosts: Iterable[str]) -> bytes:
    """The kubelet's serving request: the same subject, the node's names as SANs."""
    return make_request(key, NODE_USER_PREFIX + node, (NODES_GROUP,), hosts)


def condition(csr: dict[str, object], kind: str) -> bool:
    """Whether the CSR carries condition `kind` (Approved, Denied, Failed) set to True."""
    status = csr.get("status")
    conditions = status.get("conditions") if isinstance(status, dict) else None
    return any(isinstance(c, dict) and c.get("type") == kind and
               c.get("status", "True") == "True" for c in conditions or [])
