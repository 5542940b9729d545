"""Encryption at rest (apiserver/encryption.py): the config file, prefixes, rotation."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml

from apiserver import encryption
from apiserver.encryption import EncryptionConfigError, TransformError

KEY1 = base64.b64encode(b"1" * 32).decode()
KEY2 = base64.b64encode(b"2" * 32).decode()
SECRET_KEY = b"/registry/secrets/default/db"


def config(*providers: dict[str, Any], resources: tuple[str, ...] = ("secrets",)) -> Any:
    return {"apiVersion": "apiserver.config.k8s.io/v1", "kind": "EncryptionConfiguration",
            "resources": [{"resources": list(resources), "providers": list(providers)}]}


def aesgcm(*keys: tuple[str, str]) -> dict[str, Any]:
    return {"aesgcm": {"keys": [{"name": n, "secret": s} for n, s in keys]}}


def test_first_provider_writes_with_kubernetes_prefix_and_reads_back() -> None:
    enc = encryption.parse(config(aesgcm(("key1", KEY1)), {"identity": {}}))
    stored = enc.to_storage(SECRET_KEY, b'{"data":{"p":"aHVudGVyMg=="}}')
    assert stored.startswith(b"k8s:enc:aesgcm:v1:key1:")
    assert b"aHVudGVyMg" not in stored
    assert enc.from_storage(SECRET_KEY, stored) == (b'{"data":{"p":"aHVudGVyMg=="}}', False)
    # A fresh nonce per write: the same value never encrypts to the same bytes.
    assert enc.to_storage(SECRET_KEY, b"x") != enc.to_storage(SECRET_KEY, b"x")


def test_the_etcd_key_is_authenticated_data() -> None:
    """A value copied under another key does not decrypt (as Kubernetes' aesgcm)."""
    enc = encryption.parse(config(aesgcm(("key1", KEY1))))
    stored = enc.to_storage(SECRET_KEY, b"{}")
    with pytest.raises(TransformError, match="could not decrypt"):
        enc.from_storage(b"/registry/secrets/default/other", stored)


def test_identity_reads_clear_data_and_marks_it_stale() -> None:
    enc = encryption.parse(config(aesgcm(("key1", KEY1)), {"identity": {}}))
    assert enc.from_storage(SECRET_KEY, b'{"kind":"Secret"}') == (b'{"kind":"Secret"}', True)


def test_clear_data_without_identity_is_refused() -> None:
    enc = encryption.parse(config(aesgcm(("key1", KEY1))))
    with pytest.raises(TransformError, match="no matching prefix found"):
        enc.from_storage(SECRET_KEY, b'{"kind":"Secret"}')


def test_identity_first_writes_clear_and_still_reads_encrypted() -> None:
    """Kubernetes' procedure to decrypt: identity first, the old key after it."""
    old = encryption.parse(config(aesgcm(("key1", KEY1))))
    enc = encryption.parse(config({"identity": {}}, aesgcm(("key1", KEY1))))
    assert enc.to_storage(SECRET_KEY, b"{}") == b"{}"
    assert enc.from_storage(SECRET_KEY, old.to_storage(SECRET_KEY, b"{}")) == (b"{}", True)


def test_rotation_new_key_first_reads_old_as_stale() -> None:
    before = encryption.parse(config(aesgcm(("key1", KEY1))))
    after = encryption.parse(config(aesgcm(("key2", KEY2), ("key1", KEY1))))
    old = before.to_storage(SECRET_KEY, b"v")
    assert after.from_storage(SECRET_KEY, old) == (b"v", True)
    rewritten = after.to_storage(SECRET_KEY, b"v")
    assert rewritten.startswith(b"k8s:enc:aesgcm:v1:key2:")
    assert after.from_storage(SECRET_KEY, rewritten) == (b"v", False)
    with pytest.raises(TransformError, match="no matching prefix"):
        before.from_storage(SECRET_KEY, rewritten)


def test_other_resources_pass_through() -> None:
    enc = encryption.parse(config(aesgcm(("key1", KEY1))))
    key = b"/registry/configmaps/default/c"
    assert enc.to_storage(key, b"{}") == b"{}"
    assert enc.from_storage(key, b"{}") == (b"{}", False)
    both = encryption.parse(config(aesgcm(("key1", KEY1)),
                                   resources=("secrets", "configmaps")))
    assert both.to_storage(key, b"{}").startswith(b"k8s:enc:aesgcm:v1:key1:")
    assert both.resources == ["configmaps", "secrets"]


@pytest.mark.parametrize(("document", "message"), [
    ({"kind": "Secret"}, "must be kind EncryptionConfiguration"),
    ({**config(), "resources": []}, "resources: Required value"),
    (config(), "resources[0].providers: Required value: at least one provider is required"),
    (config(aesgcm(("key1", KEY1)), resources=()),
     "resources[0].resources: Required value: at least one resource is required"),
    (config({"aesgcm": {"keys": []}}), "resources[0].providers[0].aesgcm.keys: Required value"),
    (config(aesgcm(("key1", "not base64!"))),
     'resources[0].providers[0].aesgcm.keys[0].secret: Invalid value: "REDACTED": '
     "secrets must be base64 encoded"),
    (config(aesgcm(("key1", base64.b64encode(b"short").decode()))),
     "secret is not of the expected length, got 5, expected one of [16, 24, 32]"),
    (config(aesgcm(("", KEY1))), "keys[0].name: Required value: name is a required field"),
    (config(aesgcm(("k", KEY1), ("k", KEY2))), "keys[1].name: Duplicate value: 'k'"),
    (config({"aesgcm": {"keys": [{"name": "k", "secret": KEY1}]}, "identity": {}}),
     "more than one provider specified in a single element"),
    (config({"secretbox": {"keys": [{"name": "k", "secret": KEY1}]}}),
     "providers[0].secretbox: Unsupported value"),
    (config({"rot13": {}}), "providers[0]: Unsupported value: 'rot13'"),
])
def test_invalid_configs_name_the_field(document: Any, message: str) -> None:
    with pytest.raises(EncryptionConfigError) as info:
        encryption.parse(document)
    assert message in str(info.value)
    assert KEY1 not in str(info.value)


def test_new_config_is_a_valid_aesgcm_then_identity_file(tmp_path: Path) -> None:
    path = tmp_path / "encryption.yaml"
    path.write_text(encryption.new_config(["secrets"]))
    enc = encryption.load(path)
    assert enc.resources == ["secrets"]
    assert enc.to_storage(SECRET_KEY, b"{}").startswith(b"k8s:enc:aesgcm:v1:key1:")
    providers = yaml.safe_load(path.read_text())["resources"][0]["providers"]
    assert list(providers[1]) == ["identity"]


def test_unreadable_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(EncryptionConfigError, match="error reading encryption provider"):
        encryption.load(tmp_path / "missing.yaml")
