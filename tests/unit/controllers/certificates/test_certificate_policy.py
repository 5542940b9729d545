"""The approver's and signer's rules, as pure functions over parsed requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from apimachinery import csr
from apimachinery.pki import make_ca
from controllers.certificates import policy
from controllers.certificates.approver import client_sar_subresources
from controllers.certificates.signer import SigningCA, issue, lifetime_for


def _subject(pem: bytes) -> csr.Subject:
    return csr.subject_of(csr.parse_pem(pem))


def test_kubelet_client_request_recognised_and_its_sar() -> None:
    subject = _subject(csr.node_client_request(csr.new_key(), "n1"))
    assert policy.kubelet_client_problem(subject, csr.CLIENT_USAGES) is None
    joining = {"username": "system:bootstrap:abcdef", "usages": list(csr.CLIENT_USAGES)}
    assert client_sar_subresources(joining, subject) == ["nodeclient"]
    renewing = {"username": "system:node:n1", "usages": list(csr.CLIENT_USAGES)}
    assert client_sar_subresources(renewing, subject) == ["selfnodeclient", "nodeclient"]


def test_client_requests_that_are_not_a_kubelets() -> None:
    key = csr.new_key()
    admin = _subject(csr.make_request(key, "system:node:n1", ("system:masters",)))
    assert "organization" in (policy.kubelet_client_problem(admin, csr.CLIENT_USAGES) or "")
    user = _subject(csr.make_request(key, "alice", (csr.NODES_GROUP,)))
    assert "common name" in (policy.kubelet_client_problem(user, csr.CLIENT_USAGES) or "")
    sans = _subject(csr.node_serving_request(key, "n1", ["10.0.0.1"]))
    assert "subjectAltNames" in (policy.kubelet_client_problem(sans, csr.CLIENT_USAGES) or "")
    plain = _subject(csr.node_client_request(key, "n1"))
    assert policy.kubelet_client_problem(plain, ["server auth"]) is not None
    assert client_sar_subresources({"usages": ["server auth"]}, plain) == []


def test_serving_approved_only_for_the_nodes_own_names() -> None:
    subject = _subject(csr.node_serving_request(csr.new_key(), "n1", ["n1", "10.0.0.1"]))
    assert policy.kubelet_serving_problem(subject, csr.SERVING_USAGES) is None
    node = {"metadata": {"name": "n1"},
            "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]}}
    own = {"username": "system:node:n1", "groups": ["system:nodes", "system:authenticated"]}
    assert policy.serving_for_own_node_problem(own, subject, node) is None
    other = {"username": "system:node:n2", "groups": ["system:nodes"]}
    assert policy.serving_for_own_node_problem(other, subject, node) is not None
    bootstrap = {"username": "system:node:n1", "groups": ["system:bootstrappers"]}
    assert policy.serving_for_own_node_problem(bootstrap, subject, node) is not None
    assert policy.serving_for_own_node_problem(own, subject, None) == \
        "the node is not registered"
    moved = {**node, "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.2"}]}}
    assert "10.0.0.1" in (policy.serving_for_own_node_problem(own, subject, moved) or "")
    bare = _subject(csr.node_client_request(csr.new_key(), "n1"))
    assert policy.kubelet_serving_problem(bare, csr.SERVING_USAGES) is not None


def test_issue_keeps_the_subject_and_sans_and_caps_the_lifetime() -> None:
    ca_pem, key_pem = make_ca()
    key = load_pem_private_key(key_pem, None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    ca = SigningCA(x509.load_pem_x509_certificate(ca_pem), key)
    request = csr.parse_pem(csr.node_serving_request(csr.new_key(), "n1", ["10.0.0.1"]))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    cert = x509.load_pem_x509_certificate(issue(
        ca, request, list(csr.SERVING_USAGES), timedelta(hours=1), now))
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:node:n1"
    assert cert.issuer == ca.cert.subject
    assert cert.not_valid_after_utc == now + timedelta(hours=1)
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.SERVER_AUTH]
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["10.0.0.1"]
    cert.verify_directly_issued_by(ca.cert)
    assert lifetime_for({"expirationSeconds": 3600}, 7200) == timedelta(hours=1)
    assert lifetime_for({"expirationSeconds": 99999}, 7200) == timedelta(hours=2)
    assert lifetime_for({}, 7200) == timedelta(hours=2)
