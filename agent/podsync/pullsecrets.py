"""`imagePullSecrets`: which registry credentials a pull uses (kubelet's docker keyring, purely).

The kubelet builds a keyring from the pod's `imagePullSecrets` — Secrets of type
`kubernetes.io/dockerconfigjson` (`.dockerconfigjson`: `{"auths": {REGISTRY: {...}}}`)
or the legacy `kubernetes.io/dockercfg` (`.dockercfg`: `{REGISTRY: {...}}`); other types
are skipped — and pulls with the credentials whose key matches the image. A key is a
registry host, optionally with a path (`registry:5000/team`), optionally as a URL
(`https://index.docker.io/v1/`); the longest key that matches the image's registry
and repository wins. An entry has `username`/`password`, or `auth`
(base64 `user:password`), as `docker login` writes it.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from apimachinery.meta import Object

DOCKER_HUB = "docker.io"
_HUB_ALIASES = {"index.docker.io", "registry-1.docker.io", "docker.io"}
TYPES = {"kubernetes.io/dockerconfigjson": (".dockerconfigjson", True),
         "kubernetes.io/dockercfg": (".dockercfg", False)}


def secret_names(pod: Object) -> list[str]:
    """The names of the pod's imagePullSecrets, in order, without duplicates."""
    refs = (pod.get("spec") or {}).get("imagePullSecrets") or []
    return list(dict.fromkeys(str(r.get("name")) for r in refs if r.get("name")))


def repository(image: str) -> tuple[str, str]:
    """(registry host, repository path) of an image reference, Docker's rules: the first
    component is a registry when it has a `.` or `:` or is `localhost`; else Docker Hub."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name[: len(name) - len(last[-1]) + last[-1].index(":")]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        host = DOCKER_HUB if first in _HUB_ALIASES else first
        return host, rest
    return DOCKER_HUB, name if "/" in name else f"library/{name}"


def _normalize(key: str) -> tuple[str, str]:
    """A keyring key as (host, path prefix): no scheme, no `/v1/` of the old Hub URL."""
    key = key.split("://", 1)[-1].rstrip("/")
    host, _, path = key.partition("/")
    if host in _HUB_ALIASES:
        host, path = DOCKER_HUB, "" if path in ("v1", "v2") else path
    return host, path


def entries(secret: Object) -> dict[str, dict[str, Any]]:
    """The registry entries of one Secret, empty for another type or a malformed one."""
    kind = TYPES.get(str(secret.get("type") or ""))
    if kind is None:
        return {}
    key, nested = kind
    raw = (secret.get("data") or {}).get(key)
    try:
        doc = json.loads(base64.b64decode(raw or "", validate=True))
    except (binascii.Error, ValueError, TypeError):
        return {}
    auths = doc.get("auths") if nested and isinstance(doc, dict) else doc
    return {str(k): v for k, v in (auths or {}).items() if isinstance(v, dict)} \
        if isinstance(auths, dict) else {}


def _credentials(entry: dict[str, Any]) -> dict[str, str] | None:
    user, password = entry.get("username"), entry.get("password")
    if not (user and password) and entry.get("auth"):
        try:
            user, _, password = base64.b64decode(str(entry["auth"])).decode().partition(":")
        except (binascii.Error, ValueError):
            return None
    return {"username": str(user), "password": str(password)} if user else None


def auth_for(image: str, secrets: list[Object]) -> dict[str, str] | None:
    """The credentials for pulling `image`, from the first best-matching entry, or None."""
    host, path = repository(image)
    best: tuple[int, dict[str, str]] | None = None
    for secret in secrets:
        for key, entry in entries(secret).items():
            key_host, key_path = _normalize(key)
            if key_host != host or not (not key_path or path == key_path
                                        or path.startswith(key_path + "/")):
                continue
            creds = _credentials(entry)
            if creds is not None and (best is None or len(key_path) > best[0]):
                best = (len(key_path), {**creds, "serveraddress": key})
    return best[1] if best else None


__all__ = ["auth_for", "entries", "repository", "secret_names"]
