"""CertificateSigningRequest: validation rules and what each write path may change."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from apimachinery import csr
from apimachinery.pki import make_ca, make_cert
from apiserver.auth import UserInfo
from apiserver.authorizer import REQUESTER, AlwaysAllow, Requester
from apiserver.kinds.certificates.certificatesigningrequest import (
    CertificateSigningRequestStrategy,
    validate_csr,
)

STRATEGY = CertificateSigningRequestStrategy()


def _csr(**spec: Any) -> dict[str, Any]:
    pem = csr.node_client_request(csr.new_key(), "n1")
    return {"metadata": {"name": "c", "resourceVersion": "1"},
            "spec": {"request": base64.b64encode(pem).decode(),
                     "signerName": csr.KUBE_APISERVER_CLIENT_KUBELET,
                     "usages": list(csr.CLIENT_USAGES), **spec}}


def _paths(obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[str]:
    return [e.path for e in validate_csr(obj, old)]


def test_a_kubelet_request_is_valid() -> None:
    assert _paths(_csr()) == []


@pytest.mark.parametrize(("spec", "path"), [
    ({"signerName": None}, "spec.signerName"),
    ({"signerName": "kubernetes.io/legacy-unknown"}, "spec.signerName"),
    ({"signerName": "x/y"}, "spec.signerName"),
    ({"usages": None}, "spec.usages"),
    ({"usages": ["client auth", "client auth"]}, "spec.usages[1]"),
    ({"usages": ["teleport"]}, "spec.usages[0]"),
    ({"request": base64.b64encode(b"-----BEGIN CERTIFICATE-----").decode()}, "spec.request"),
    ({"request": "!!"}, "spec.request"),
    ({"expirationSeconds": 599}, "spec.expirationSeconds"),
])
def test_each_rule_names_its_field(spec: dict[str, Any], path: str) -> None:
    assert path in _paths(_csr(**spec))


def test_conditions_only_true_exclusive_and_certificate_needs_approval() -> None:
    both = _csr()
    both["status"] = {"conditions": [{"type": "Approved", "status": "True"},
                                     {"type": "Denied", "status": "True"}]}
    assert "status.conditions" in _paths(both)
    false = _csr()
    false["status"] = {"conditions": [{"type": "Approved", "status": "False"}]}
    assert "status.conditions[0].status" in _paths(false)
    ca, key = make_ca()
    cert, _ = make_cert(ca, key, common_name="system:node:n1", client=True)
    encoded = base64.b64encode(cert).decode()
    unapproved = _csr()
    unapproved["status"] = {"certificate": encoded}
    assert "status.certificate" in _paths(unapproved)
    approved = _csr()
    approved["status"] = {"conditions": [{"type": "Approved", "status": "True"}],
                          "certificate": encoded}
    assert _paths(approved) == []
    garbage = _csr()
    garbage["status"] = {"conditions": [{"type": "Approved", "status": "True"}],
                         "certificate": base64.b64encode(b"nope").decode()}
    assert "status.certificate" in _paths(garbage)


def test_create_takes_the_requester_from_the_request_context() -> None:
    obj = _csr(username="system:admin", groups=["system:masters"], uid="x")
    token = REQUESTER.set(Requester(UserInfo("system:bootstrap:abcdef", groups=(
        "system:bootstrappers", "system:authenticated")), AlwaysAllow()))
    try:
        STRATEGY.prepare_for_create(obj)
    finally:
        REQUESTER.reset(token)
    assert obj["spec"]["username"] == "system:bootstrap:abcdef"
    assert obj["spec"]["groups"] == ["system:bootstrappers", "system:authenticated"]
    assert "uid" not in obj["spec"] and "status" not in obj


def test_status_keeps_decisions_and_approval_keeps_the_rest() -> None:
    old = _csr()
    old["status"] = {"conditions": [{"type": "Approved", "status": "True",
                                     "lastUpdateTime": "t", "lastTransitionTime": "t"}]}
    new = _csr()
    new["status"] = {"conditions": [{"type": "Failed", "status": "True"}],
                     "certificate": "Y2VydA=="}
    merged = STRATEGY.prepare_for_status_update(new, old)
    assert [c["type"] for c in merged["status"]["conditions"]] == ["Approved", "Failed"]
    assert merged["status"]["certificate"] == "Y2VydA=="
    assert merged["spec"] == old["spec"]
    approval = _csr()
    approval["status"] = {"conditions": [{"type": "Denied"}], "certificate": "eA=="}
    decided = STRATEGY.prepare_for_subresource_update("approval", approval, merged)
    assert [c["type"] for c in decided["status"]["conditions"]] == ["Denied", "Failed"]
    assert decided["status"]["certificate"] == "Y2VydA=="
    assert decided["status"]["conditions"][0]["lastTransitionTime"]
