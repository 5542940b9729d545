"""Kubeconfig users that are client certificates (kubeadm's `client-certificate-data`)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from apimachinery.kubeconfig import KubeconfigError, load_kubeconfig, write_kubeconfig
from apimachinery.pki import make_ca
from apimachinery.usercert import make_client_cert

CA_CERT, CA_KEY = make_ca()


def test_a_certificate_user_round_trips(tmp_path: Path) -> None:
    cert, key = make_client_cert(CA_CERT, CA_KEY, "system:kube-proxy")
    path = tmp_path / "k"
    write_kubeconfig(str(path), "https://127.0.0.1:1", CA_CERT, None,
                     client_cert=cert, client_key=key)
    user = yaml.safe_load(path.read_text())["users"][0]["user"]
    assert set(user) == {"client-certificate-data", "client-key-data"}  # no token
    cfg = load_kubeconfig(str(path))
    assert (cfg.client_cert, cfg.client_key, cfg.token) == (cert, key, None)


def test_certificate_files_are_read_relative_to_the_kubeconfig(tmp_path: Path) -> None:
    cert, key = make_client_cert(CA_CERT, CA_KEY, "bob")
    (tmp_path / "bob.crt").write_bytes(cert)
    (tmp_path / "bob.key").write_bytes(key)
    path = tmp_path / "k"
    path.write_text(yaml.safe_dump({
        "clusters": [{"name": "c", "cluster": {"server": "https://x"}}],
        "users": [{"name": "u", "user": {"client-certificate": "bob.crt",
                                         "client-key": "bob.key"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x"}))
    cfg = load_kubeconfig(str(path))
    assert (cfg.client_cert, cfg.client_key) == (cert, key)


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    cert, _ = make_client_cert(CA_CERT, CA_KEY, "bob")
    path = tmp_path / "k"
    write_kubeconfig(str(path), "https://x", CA_CERT, None)
    doc = yaml.safe_load(path.read_text())
    doc["users"][0]["user"] = {"client-certificate-data": base64.b64encode(cert).decode()}
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(KubeconfigError, match="needs both client-certificate and client-key"):
        load_kubeconfig(str(path))
