"""Compact JWS (RFC 7515) signing and verification, ES256 and RS256, as Kubernetes signs
service-account tokens: the signing key's type picks the algorithm (an EC P-256 key
ES256, an RSA key RS256), and the header's `kid` is the key's id.

Written on `cryptography` alone; only these two algorithms are accepted, so a token
naming `none` or an HMAC algorithm is refused rather than verified with a public key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


class JWSError(ValueError):
    """Not a well-formed token, or its signature does not verify with any known key."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise JWSError("malformed token") from exc


def key_id(public: PublicKey) -> str:
    """The key's id: base64url of the SHA-256 of its DER public key (Kubernetes'
    keyIDFromPublicKey), so a verifier with several keys can tell which signed."""
    der = public.public_bytes(serialization.Encoding.DER,
                              serialization.PublicFormat.SubjectPublicKeyInfo)
    return b64url(hashlib.sha256(der).digest())


def algorithm(key: PrivateKey | PublicKey) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if key.curve.name != "secp256r1":
            raise ValueError("EC service-account keys must be P-256 (ES256)")
        return "ES256"
    return "RS256"


def sign(claims: dict[str, Any], key: PrivateKey) -> str:
    """The compact serialization of `claims` signed with `key`."""
    header = {"alg": algorithm(key), "kid": key_id(key.public_key())}
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64url(json.dumps(claims, separators=(",", ":")).encode()))
    data = signing_input.encode("ascii")
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        signature = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64url(signature)


def verify(token: str, keys: list[PublicKey]) -> dict[str, Any]:
    """The claims of a token whose signature one of `keys` verifies; JWSError otherwise."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JWSError("malformed token")
    try:
        header = json.loads(unb64url(parts[0]))
        claims = json.loads(unb64url(parts[1]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise JWSError("malformed token") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JWSError("malformed token")
    alg, data, signature = header.get("alg"), f"{parts[0]}.{parts[1]}".encode(), unb64url(parts[2])
    for key in keys:
        if algorithm(key) == alg and _verifies(key, data, signature):
            return claims
    raise JWSError("invalid signature")


def _verifies(key: PublicKey, data: bytes, signature: bytes) -> bool:
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            if len(signature) != 64:
                return False
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                       int.from_bytes(signature[32:], "big"))
            key.verify(der, data, ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def load_private_key(pem: bytes) -> PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, PrivateKey):
        raise ValueError("a service-account signing key must be an EC P-256 or RSA key")
    algorithm(key)
    return key


_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.S)


def load_public_keys(pem: bytes) -> list[PublicKey]:
    """Every key a --service-account-key-file holds: public keys, or private keys' public
    halves (kube-apiserver takes either)."""
    keys: list[PublicKey] = []
    for block in _PEM_BLOCK.finditer(pem):
        text = block.group(0) + b"\n"
        if block.group(1).endswith(b"PRIVATE KEY"):
            keys.append(load_private_key(text).public_key())
            continue
        public = serialization.load_pem_public_key(text)
        if not isinstance(public, PublicKey):
            raise ValueError("a service-account key must be an EC P-256 or RSA key")
        algorithm(public)
        keys.append(public)
    if not keys:
        raise ValueError("no PEM key found")
    return keys
