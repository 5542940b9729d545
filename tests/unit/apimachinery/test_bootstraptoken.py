"""Bootstrap tokens, the detached JWS of cluster-info and the CA hash, as kubeadm has them."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from apimachinery import bootstraptoken as bt
from apimachinery.pki import make_ca

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_new_tokens_parse_and_bad_ones_do_not() -> None:
    token_id, secret = bt.parse(bt.new_token())
    assert len(token_id) == 6 and len(secret) == 16
    for bad in ("ABCDEF.0123456789abcdef", "abcdef0123456789abcdef", "abcde.0123456789abcdef",
                "abcdef.0123456789abcde", ""):
        with pytest.raises(bt.InvalidToken):
            bt.parse(bad)


def test_a_secret_round_trips_and_malformed_ones_are_refused() -> None:
    token = bt.BootstrapToken("abcdef", "0123456789abcdef", NOW + timedelta(hours=1),
                              frozenset({"authentication"}), (bt.DEFAULT_GROUP,), "for n1")
    secret = bt.to_secret(token)
    assert secret["metadata"]["name"] == "bootstrap-token-abcdef"
    assert base64.b64decode(secret["data"]["usage-bootstrap-authentication"]) == b"true"
    assert bt.from_secret(secret) == token
    assert not token.expired(NOW) and token.expired(NOW + timedelta(hours=2))
    renamed = {**secret, "metadata": {"name": "bootstrap-token-zzzzzz",
                                      "namespace": "kube-system"}}
    assert bt.from_secret(renamed) is None
    assert bt.from_secret({**secret, "type": "Opaque"}) is None
    bad_group = bt.to_secret(bt.BootstrapToken("abcdef", "0123456789abcdef",
                                               groups=("system:masters",)))
    assert bt.from_secret(bad_group) is None
    bad_time = dict(secret, data={**secret["data"],
                                  "expiration": base64.b64encode(b"tomorrow").decode()})
    assert bt.from_secret(bad_time) is None


def test_detached_jws_is_kubeadms_hs256_with_the_token_id() -> None:
    content = "apiVersion: v1\nkind: Config\n"
    detached = bt.sign(content, "abcdef", "0123456789abcdef")
    header, empty, signature = detached.split(".")
    assert empty == ""
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256",
                                                                   "kid": "abcdef"}
    assert bt.verify(content, detached, "abcdef", "0123456789abcdef")
    assert not bt.verify(content + " ", detached, "abcdef", "0123456789abcdef")
    assert not bt.verify(content, detached, "abcdef", "fedcba9876543210")
    assert not bt.verify(content, detached, "zzzzzz", "0123456789abcdef")
    assert not bt.verify(content, "garbage", "abcdef", "0123456789abcdef")
    none_alg = base64.urlsafe_b64encode(b'{"alg":"none","kid":"abcdef"}').decode().rstrip("=")
    assert not bt.verify(content, f"{none_alg}..", "abcdef", "0123456789abcdef")
    assert not bt.verify(content, f"{header}.{signature}.{signature}", "abcdef",
                         "0123456789abcdef")


def test_ca_hash_is_sha256_of_the_subject_public_key_info() -> None:
    ca_pem, _ = make_ca()
    spki = x509.load_pem_x509_certificate(ca_pem).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert bt.ca_cert_hash(ca_pem) == "sha256:" + hashlib.sha256(spki).hexdigest()
    assert bt.ca_cert_hash(make_ca()[0]) != bt.ca_cert_hash(ca_pem)


def test_cluster_info_holds_server_and_ca_only() -> None:
    ca_pem, _ = make_ca()
    info = bt.cluster_info("https://10.0.0.1:6443", ca_pem)
    assert (info["metadata"]["namespace"], info["metadata"]["name"]) == (
        "kube-public", "cluster-info")
    text = info["data"]["kubeconfig"]
    assert "https://10.0.0.1:6443" in text and "users: []" in text
    assert bt.ttl_expiration(timedelta(0), NOW) is None
