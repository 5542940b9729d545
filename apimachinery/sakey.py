"""The key that signs service-account tokens (kubeadm's `pki/sa.key`).

EC P-256, so the apiserver signs ES256 JWTs; made once and kept, since every token
issued dies with it. Only the apiserver reads it (mode 0600).
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from apimachinery.pki import write_private


def make_service_account_key() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def ensure_service_account_key(path: Path) -> Path:
    """Make the key at `path` unless it exists; returns the path."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_private(path, make_service_account_key())
    return path
