"""Bootstrap tokens and the signed `cluster-info`, as Kubernetes and kubeadm define them.

A bootstrap token `abcdef.0123456789abcdef` is a Secret of type
`bootstrap.kubernetes.io/token` named `bootstrap-token-abcdef` in kube-system
(k8s.io/cluster-bootstrap/token/api). The apiserver authenticates it as
`system:bootstrap:abcdef` (`usage-bootstrap-authentication`), the bootstrapsigner
signs `kube-public/cluster-info` with it (`usage-bootstrap-signing`), and the
tokencleaner deletes it once past its `expiration`.

`cluster-info`'s `kubeconfig` names the apiserver and its CA; for each signing
token it carries `jws-kubeconfig-<id>`, a detached JWS (HS256, keyed by the token
secret, `kid` the token id) of that kubeconfig. A joining host that knows the
token checks it, then checks the CA against the hash it was given: the SHA-256 of
the CA's SubjectPublicKeyInfo (`--discovery-token-ca-cert-hash sha256:...`).
Shared by the apiserver, the controller-manager and the CLI.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from apimachinery.meta import Object

SECRET_TYPE = "bootstrap.kubernetes.io/token"
NAMESPACE = "kube-system"
SECRET_PREFIX = "bootstrap-token-"
USER_PREFIX = "system:bootstrap:"
GROUP = "system:bootstrappers"
# kubeadm's default group for the tokens it makes (and the one its bindings name).
DEFAULT_GROUP = "system:bootstrappers:kubeadm:default-node-token"
USAGES = ("authentication", "signing")
CLUSTER_INFO_NAMESPACE = "kube-public"
CLUSTER_INFO = "cluster-info"
JWS_PREFIX = "jws-kubeconfig-"
DEFAULT_TTL = timedelta(hours=24)
TOKEN_PATTERN = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
_ID_PATTERN = re.compile(r"^[a-z0-9]{6}$")
_GROUP_PATTERN = re.compile(r"^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$")
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


class InvalidToken(ValueError):
    """Not of the form `[a-z0-9]{6}.[a-z0-9]{16}`."""


def new_token() -> str:
    """A fresh random token, `id.secret` (kubeadm token generate)."""
    return f"{_random(6)}.{_random(16)}"


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def parse(token: str) -> tuple[str, str]:
    """(id, secret) of a token, InvalidToken if it is not one."""
    match = TOKEN_PATTERN.match(token)
    if match is None:
        raise InvalidToken("the bootstrap token must be of the form "
                           '"[a-z0-9]{6}.[a-z0-9]{16}"')
    return match.group(1), match.group(2)


def secret_name(token_id: str) -> str:
    return SECRET_PREFIX + token_id


@dataclass(frozen=True)
class BootstrapToken:
    """What a bootstrap-token Secret says."""

    id: str
    secret: str
    expiration: datetime | None = None
    usages: frozenset[str] = frozenset()
    groups: tuple[str, ...] = ()
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def expired(self, now: datetime) -> bool:
        return self.expiration is not None and now >= self.expiration

    @property
    def token(self) -> str:
        return f"{self.id}.{self.secret}"


def to_secret(token: BootstrapToken) -> Object:
    """The Secret kubeadm writes for a token."""
    data = {"token-id": token.id, "token-secret": token.secret}
    if token.expiration is not None:
        data["expiration"] = token.expiration.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for usage in sorted(token.usages):
        data[f"usage-bootstrap-{usage}"] = "true"
    if token.groups:
        data["auth-extra-groups"] = ",".join(token.groups)
    if token.description:
        data["description"] = token.description
    return {"apiVersion": "v1", "kind": "Secret", "type": SECRET_TYPE,
            "metadata": {"name": secret_name(token.id), "namespace": NAMESPACE},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


def _decoded(secret: Object) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (secret.get("data") or {}).items():
        try:
            out[str(key)] = base64.b64decode(str(value), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            continue
    return out


def from_secret(secret: Object) -> BootstrapToken | None:
    """The token a Secret holds; None when it is not a well-formed bootstrap token Secret
    (wrong type or name, id or secret missing or malformed, a bad expiration or group:
    Kubernetes' authenticator refuses those too)."""
    meta = secret.get("metadata") or {}
    if secret.get("type") != SECRET_TYPE or meta.get("namespace", NAMESPACE) != NAMESPACE:
        return None
    data = _decoded(secret)
    token_id, token_secret = data.get("token-id", ""), data.get("token-secret", "")
    if meta.get("name") != secret_name(token_id) or \
            TOKEN_PATTERN.match(f"{token_id}.{token_secret}") is None:
        return None
    expiration: datetime | None = None
    if data.get("expiration"):
        try:
            expiration = datetime.fromisoformat(data["expiration"].replace("Z", "+00:00"))
        except ValueError:
            return None
        if expiration.tzinfo is None:
            return None
    groups = tuple(g for g in data.get("auth-extra-groups", "").split(",") if g)
    if any(_GROUP_PATTERN.match(g) is None for g in groups):
        return None
    usages = frozenset(u for u in USAGES if data.get(f"usage-bootstrap-{u}") == "true")
    return BootstrapToken(token_id, token_secret, expiration, usages, groups,
                          data.get("description", ""))


def valid_groups(groups: Iterable[str]) -> list[str]:
    """The groups not allowed in `auth-extra-groups` (they must be system:bootstrappers:*)."""
    return [g for g in groups if _GROUP_PATTERN.match(g) is None]


# -- the signed cluster-info ---------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(content: str, token_id: str, token_secret: str) -> str:
    """A detached JWS (`header..signature`) of `content`, HS256 keyed by the token secret,
    as kubeadm's ComputeDetachedSignature."""
    header = _b64url(json.dumps({"alg": "HS256", "kid": token_id},
                                separators=(",", ":")).encode())
    signed = f"{header}.{_b64url(content.encode())}"
    mac = hmac.new(token_secret.encode(), signed.encode(), hashlib.sha256).digest()
    return f"{header}..{_b64url(mac)}"


def verify(content: str, detached: str, token_id: str, token_secret: str) -> bool:
    """Whether `detached` signs `content` with this token (HS256, its kid)."""
    header, empty, signature = [*detached.split("."), "", "", ""][:3]
    if empty or detached.count(".") != 2:
        return False
    try:
        claims = json.loads(_unb64url(header))
        mac = _unb64url(signature)
    except ValueError:
        return False
    if not isinstance(claims, dict) or claims.get("alg") != "HS256" or \
            claims.get("kid") != token_id:
        return False
    signed = f"{header}.{_b64url(content.encode())}"
    expected = hmac.new(token_secret.encode(), signed.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(mac, expected)


def ca_cert_hash(ca_pem: bytes) -> str:
    """`sha256:<hex>` of the CA's SubjectPublicKeyInfo (kubeadm's pubkeypin)."""
    cert = x509.load_pem_x509_certificate(ca_pem)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(spki).hexdigest()


def cluster_info_kubeconfig(server: str, ca_pem: bytes) -> str:
    """The `kubeconfig` key of cluster-info: a cluster (server and CA) and nothing else."""
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": "", "cluster": {
            "server": server,
            "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
        "contexts": [], "current-context": "", "users": []}, sort_keys=False)


def cluster_info(server: str, ca_pem: bytes) -> Object:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": CLUSTER_INFO, "namespace": CLUSTER_INFO_NAMESPACE},
            "data": {"kubeconfig": cluster_info_kubeconfig(server, ca_pem)}}


def ttl_expiration(ttl: timedelta, now: datetime) -> datetime | None:
    """kubeadm's --ttl: 0 means the token never expires."""
    return None if ttl <= timedelta(0) else (now + ttl).replace(microsecond=0)
