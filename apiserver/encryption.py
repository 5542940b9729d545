"""Encryption at rest: Kubernetes' EncryptionConfiguration (`--encryption-provider-config`).

The file names, per group of resources, an ordered list of providers. The first
encrypts every write; a read tries each in turn by the prefix the value carries,
exactly as kube-apiserver's prefix transformer does, so values Kubernetes would
write (`k8s:enc:aesgcm:v1:KEYNAME:` + 12-byte nonce + AES-GCM sealed bytes, the
etcd key as authenticated data) are what Schooner writes. `identity` stores clear
text and reads values with no prefix (what was stored before encryption was on).
A value read with anything but the first provider is *stale*: the next write
re-encrypts it, even one that changes nothing (storage.guaranteed_update), which
is how keys are rotated (`kubectl get secrets -A -o json | kubectl replace -f -`).

The secretbox provider needs XSalsa20-Poly1305, which `cryptography` lacks; it is
refused with that reason rather than accepted and ignored.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

API_VERSION = "apiserver.config.k8s.io/v1"
KIND = "EncryptionConfiguration"
_NONCE_BYTES = 12
_AESGCM_KEY_LENGTHS = (16, 24, 32)
_KNOWN_PROVIDERS = ("aesgcm", "aescbc", "secretbox", "identity", "kms")


class EncryptionConfigError(ValueError):
    """The file is not a valid EncryptionConfiguration; the message says which field."""


class TransformError(Exception):
    """A stored value no configured provider can read (wrong or missing key)."""


class Transformer(Protocol):
    """One provider: how a value goes to etcd and comes back."""

    @property
    def prefix(self) -> bytes: ...

    def seal(self, data: bytes, key: bytes) -> bytes: ...

    def open(self, data: bytes, key: bytes) -> bytes: ...


@dataclass(frozen=True)
class Identity:
    """Clear text, no prefix: reads what was stored before encryption was configured."""

    prefix: bytes = b""

    def seal(self, data: bytes, key: bytes) -> bytes:
        return data

    def open(self, data: bytes, key: bytes) -> bytes:
        if data.startswith(b"k8s:enc:"):
            raise TransformError("identity transformer tried to read encrypted data")
        return data


@dataclass(frozen=True)
class AESGCMKey:
    """One aesgcm key: a random nonce per write, the etcd key as authenticated data."""

    prefix: bytes
    secret: bytes

    def seal(self, data: bytes, key: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return self.prefix + nonce + AESGCM(self.secret).encrypt(nonce, data, key)

    def open(self, data: bytes, key: bytes) -> bytes:
        body = data[len(self.prefix):]
        try:
            return AESGCM(self.secret).decrypt(body[:_NONCE_BYTES], body[_NONCE_BYTES:], key)
        except Exception as exc:  # InvalidTag, or a value too short to hold a nonce
            raise TransformError(f"aesgcm key {self.prefix.decode()!r} could not decrypt: "
                                 f"{type(exc).__name__}") from None


@dataclass(frozen=True)
class Chain:
    """The providers of one group of resources, the first one writing."""

    transformers: tuple[Transformer, ...]

    def to_storage(self, key: bytes, data: bytes) -> bytes:
        return self.transformers[0].seal(data, key)

    def from_storage(self, key: bytes, data: bytes) -> tuple[bytes, bool]:
        """The clear value and whether it is stale (not written by the first provider)."""
        for index, transformer in enumerate(self.transformers):
            if transformer.prefix and data.startswith(transformer.prefix):
                return transformer.open(data, key), index != 0
        for index, transformer in enumerate(self.transformers):
            if not transformer.prefix:
                return transformer.open(data, key), index != 0
        raise TransformError("no matching prefix found")


class Encryption:
    """Which chain, if any, each etcd key's value goes through."""

    def __init__(self, chains: Mapping[str, Chain]) -> None:
        self._chains = dict(chains)  # "/registry/<resource>/" -> Chain

    @property
    def resources(self) -> list[str]:
        return sorted(p.split("/")[2] for p in self._chains)

    def _chain(self, key: bytes) -> Chain | None:
        parts = key.split(b"/", 3)
        if len(parts) < 3:
            return None
        return self._chains.get(f"/registry/{parts[2].decode()}/")

    def to_storage(self, key: bytes, data: bytes) -> bytes:
        chain = self._chain(key)
        return data if chain is None else chain.to_storage(key, data)

    def from_storage(self, key: bytes, data: bytes) -> tuple[bytes, bool]:
        chain = self._chain(key)
        if chain is None:
            return data, False
        try:
            return chain.from_storage(key, data)
        except TransformError as exc:
            raise TransformError(f"unable to transform key {key.decode()!r}: {exc}") from None


NO_ENCRYPTION = Encryption({})


def load(path: str | Path) -> Encryption:
    """The Encryption a config file describes; EncryptionConfigError naming the bad field."""
    try:
        document = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise EncryptionConfigError(f"error reading encryption provider configuration file "
                                    f"{str(path)!r}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise EncryptionConfigError(f"error decoding encryption provider configuration file "
                                    f"{str(path)!r}: {exc}") from None
    return parse(document)


def parse(document: Any) -> Encryption:
    if not isinstance(document, dict):
        raise EncryptionConfigError("encryption provider configuration must be an object")
    if document.get("kind") != KIND or document.get("apiVersion") != API_VERSION:
        raise EncryptionConfigError(
            f"encryption provider configuration must be kind {KIND} in {API_VERSION}, got "
            f"{document.get('kind')!r} in {document.get('apiVersion')!r}")
    groups = document.get("resources")
    if not isinstance(groups, list) or not groups:
        raise EncryptionConfigError("resources: Required value: resources is a required field")
    chains: dict[str, Chain] = {}
    for i, group in enumerate(groups):
        path = f"resources[{i}]"
        chain = _chain(group, path)
        for resource in _resources(group, path):
            prefix = f"/registry/{resource}/"
            if prefix in chains:
                raise EncryptionConfigError(
                    f"{path}.resources: Duplicate value: {resource!r}: resource is "
                    f"configured more than once")
            chains[prefix] = chain
    return Encryption(chains)


def _resources(group: Any, path: str) -> list[str]:
    """The resources a group names, as their etcd key segment (`secrets`, `configmaps`)."""
    names = group.get("resources") if isinstance(group, dict) else None
    if not isinstance(names, list) or not names:
        raise EncryptionConfigError(
            f"{path}.resources: Required value: at least one resource is required")
    out = []
    for j, name in enumerate(names):
        if not isinstance(name, str) or not name or "*" in name:
            raise EncryptionConfigError(
                f"{path}.resources[{j}]: Invalid value: {name!r}: a resource name "
                f"(wildcards are not supported here)")
        out.append(name.split(".", 1)[0].lower())
    return out


def _chain(group: dict[str, Any], path: str) -> Chain:
    providers = group.get("providers")
    if not isinstance(providers, list) or not providers:
        raise EncryptionConfigError(
            f"{path}.providers: Required value: at least one provider is required")
    transformers: list[Transformer] = []
    for j, provider in enumerate(providers):
        transformers.extend(_provider(provider, f"{path}.providers[{j}]"))
    return Chain(tuple(transformers))


def _provider(provider: Any, path: str) -> Iterable[Transformer]:
    if not isinstance(provider, dict) or len(provider) != 1:
        raise EncryptionConfigError(
            f"{path}: Invalid value: {sorted(provider)!r}: more than one provider specified in a "
            f"single element, should split into different list elements"
            if isinstance(provider, dict) and provider else
            f"{path}: Required value: provider does not contain any of the expected "
            f"providers: {', '.join(_KNOWN_PROVIDERS)}")
    (name, body), = provider.items()
    if name == "identity":
        return [Identity()]
    if name == "aesgcm":
        return _aesgcm(body, f"{path}.aesgcm")
    if name in _KNOWN_PROVIDERS:
        raise EncryptionConfigError(
            f"{path}.{name}: Unsupported value: {name!r}: Schooner implements only aesgcm "
            f"and identity (secretbox needs XSalsa20-Poly1305, which this build lacks)")
    raise EncryptionConfigError(
        f"{path}: Unsupported value: {name!r}: supported values: "
        f"{', '.join(repr(p) for p in _KNOWN_PROVIDERS)}")


def _aesgcm(body: Any, path: str) -> list[Transformer]:
    keys = body.get("keys") if isinstance(body, dict) else None
    if not isinstance(keys, list) or not keys:
        raise EncryptionConfigError(f"{path}.keys: Required value: keys is a required field")
    out: list[Transformer] = []
    seen: set[str] = set()
    for k, entry in enumerate(keys):
        where = f"{path}.keys[{k}]"
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name:
            raise EncryptionConfigError(f"{where}.name: Required value: name is a required field")
        if name in seen:
            raise EncryptionConfigError(f"{where}.name: Duplicate value: {name!r}")
        seen.add(name)
        secret = _secret(entry.get("secret"), f"{where}.secret")
        out.append(AESGCMKey(f"k8s:enc:aesgcm:v1:{name}:".encode(), secret))
    return out


def _secret(value: Any, path: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise EncryptionConfigError(f"{path}: Required value: secret is a required field")
    try:
        secret = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise EncryptionConfigError(
            f'{path}: Invalid value: "REDACTED": secrets must be base64 encoded') from None
    if len(secret) not in _AESGCM_KEY_LENGTHS:
        raise EncryptionConfigError(
            f'{path}: Invalid value: "REDACTED": secret is not of the expected length, got '
            f"{len(secret)}, expected one of {list(_AESGCM_KEY_LENGTHS)}")
    return secret


def new_config(resources: list[str], key_name: str = "key1") -> str:
    """A fresh EncryptionConfiguration for `resources`: one new 32-byte aesgcm key, then
    identity (so values stored before it still read, and are encrypted on their next write)."""
    secret = base64.b64encode(os.urandom(32)).decode()
    return yaml.safe_dump({
        "apiVersion": API_VERSION, "kind": KIND,
        "resources": [{"resources": resources, "providers": [
            {"aesgcm": {"keys": [{"name": key_name, "secret": secret}]}},
            {"identity": {}},
        ]}],
    }, sort_keys=False)
