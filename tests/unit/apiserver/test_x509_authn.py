"""Client certificates to users: CN the user, O the groups (Kubernetes' x509 authenticator)."""

from __future__ import annotations

import asyncio

import pytest

from apimachinery import errors
from apimachinery.pki import make_ca
from apimachinery.tlspeer import peer_certificate
from apimachinery.usercert import make_client_cert
from apiserver.auth import ANONYMOUS, Authenticator, user_from_certificate

CA_CERT, CA_KEY = make_ca()


def _pem(user: str, groups: list[str]) -> str:
    return make_client_cert(CA_CERT, CA_KEY, user, groups)[0].decode()


def test_common_name_is_the_user_and_organizations_the_groups() -> None:
    user = user_from_certificate(_pem("system:node:n1", ["system:nodes", "extra"]))
    assert user.name == "system:node:n1"
    assert user.groups == ("system:nodes", "extra", "system:authenticated")


def test_a_certificate_without_groups_is_only_authenticated() -> None:
    assert user_from_certificate(_pem("alice", [])).groups == ("system:authenticated",)


def test_an_empty_user_cannot_be_issued() -> None:
    with pytest.raises(ValueError, match="CN"):
        make_client_cert(CA_CERT, CA_KEY, "")


def test_the_certificate_wins_over_a_token() -> None:
    auth = Authenticator(None, "ca.crt")
    user = asyncio.run(auth.authenticate("Bearer whatever", _pem("bob", ["team"])))
    assert user.name == "bob"


def test_without_a_certificate_and_no_token_file_it_is_401() -> None:
    auth = Authenticator(None, "ca.crt")
    with pytest.raises(errors.Unauthorized):
        asyncio.run(auth.authenticate("Bearer x", None))


def test_certificates_are_ignored_without_a_client_ca() -> None:
    """No --client-ca-file: nothing verified a certificate, so none is read."""
    assert asyncio.run(Authenticator(None, None).authenticate(None, _pem("bob", []))) \
        is ANONYMOUS


def test_peer_certificate_reads_the_asgi_tls_extension() -> None:
    pem = _pem("carol", [])
    assert peer_certificate({"extensions": {"tls": {"client_cert_chain": [pem]}}}) == pem
    assert peer_certificate({"extensions": {"tls": {"client_cert_chain": []}}}) is None
    assert peer_certificate({}) is None
