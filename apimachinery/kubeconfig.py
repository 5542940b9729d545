"""Read and write kubeconfig files, the way `kubectl` and client-go's clientcmd do.

Only what Schooner needs is understood: a cluster's `server`, its CA
(`certificate-authority-data` or a `certificate-authority` file) or
`insecure-skip-tls-verify`, a user's bearer `token` or `tokenFile`, and a
context's default `namespace`. The file written by `write_kubeconfig` is a
standard kubeconfig, so `kubectl --kubeconfig` and the official Python client
read it too.

Path resolution is clientcmd's loading rules (apimachinery/kubeconfigfiles.py): an
explicit path, else every file of `$KUBECONFIG` merged (first file wins), else
`$SCHOONER_HOME/kubeconfig`, else `~/.schooner/kubeconfig`. As in clientcmd,
relative `certificate-authority`, `client-certificate`, `client-key` and `tokenFile`
paths are relative to the directory of the kubeconfig that holds them.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apimachinery.kubeconfigfiles import KubeconfigError, display, merge, write_config

__all__ = ["ClusterConfig", "KubeconfigError", "default_kubeconfig_path", "load_kubeconfig",
           "write_kubeconfig"]


@dataclass
class ClusterConfig:
    """Everything a client needs to talk to one cluster as one user."""

    server: str
    token: str | None = None
    ca_data: bytes | None = None
    insecure: bool = False
    namespace: str = "default"
    path: str | None = None
    # A client certificate and its key (PEM), kube-apiserver's x509 authentication.
    client_cert: bytes | None = None
    client_key: bytes | None = None


def default_kubeconfig_path() -> str:
    """`$KUBECONFIG` (its first entry), else `$SCHOONER_HOME/kubeconfig`, else `~/.schooner/`."""
    env = os.environ.get("KUBECONFIG", "")
    first = next((p for p in env.split(os.pathsep) if p), "")
    if first:
        return os.path.expanduser(first)
    home = os.environ.get("SCHOONER_HOME")
    if home:
        return os.path.join(os.path.expanduser(home), "kubeconfig")
    return os.path.expanduser(os.path.join("~", ".schooner", "kubeconfig"))


_display = display


def _named(entries: Any, name: str, what: str, path: str) -> dict[str, Any]:
    """The `cluster`/`user`/`context` body of the entry called `name` in a named list."""
    for entry in entries or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            body = entry.get(what)
            return body if isinstance(body, dict) else {}
    raise KubeconfigError(f"{what} {name!r} not found in kubeconfig {_display(path)}")


def _relative_to(base: Path, value: str) -> Path:
    p = Path(os.path.expanduser(value))
    return p if p.is_absolute() else base / p


def _read_ca(cluster: dict[str, Any], base: Path, path: str) -> bytes | None:
    data = cluster.get("certificate-authority-data")
    if data:
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise KubeconfigError(
                f"certificate-authority-data in {_display(path)} is not valid base64"
            ) from None
    ca_file = cluster.get("certificate-authority")
    if ca_file:
        try:
            return _relative_to(base, str(ca_file)).read_bytes()
        except OSError as exc:
            raise KubeconfigError(f"cannot read certificate-authority {ca_file}: "
                                  f"{exc.strerror}") from None
    return None


def _read_pem(user: dict[str, Any], key: str, base: Path, path: str) -> bytes | None:
    """`client-certificate(-data)` or `client-key(-data)`: inline base64, or a file."""
    data = user.get(f"{key}-data")
    if data:
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise KubeconfigError(f"{key}-data in {_display(path)} is not valid base64") from None
    name = user.get(key)
    if name:
        try:
            return _relative_to(base, str(name)).read_bytes()
        except OSError as exc:
            raise KubeconfigError(f"cannot read {key} {name}: {exc.strerror}") from None
    return None


def _read_token(user: dict[str, Any], base: Path) -> str | None:
    token = user.get("token")
    if token:
        return str(token)
    token_file = user.get("tokenFile")
    if token_file:
        try:
            return _relative_to(base, str(token_file)).read_text().strip() or None
        except OSError as exc:
            raise KubeconfigError(f"cannot read tokenFile {token_file}: "
                                  f"{exc.strerror}") from None
    return None


def load_kubeconfig(path: str | None = None, context: str | None = None) -> ClusterConfig:
    """Load the cluster, user and namespace of `context` (default: `current-context`)."""
    if path and not os.path.exists(os.path.expanduser(path)):
        raise KubeconfigError(f"no kubeconfig at {_display(os.path.expanduser(path))}: "
                              "run 'make up' or pass --kubeconfig")
    merged = merge(path)
    resolved = next((f for f in merged.files if os.path.exists(f)), merged.files[0])
    if not merged.found:
        raise KubeconfigError(
            f"no kubeconfig at {_display(resolved)}: run 'make up' or pass --kubeconfig")
    doc = merged.doc

    ctx_name = context or doc.get("current-context")
    if not ctx_name:
        raise KubeconfigError(f"kubeconfig {_display(resolved)} has no current-context; "
                              "pass --context")
    ctx = _named(doc.get("contexts"), ctx_name, "context", resolved)
    cluster = _named(doc.get("clusters"), ctx.get("cluster", ""), "cluster", resolved)
    user = _named(doc.get("users"), ctx["user"], "user", resolved) if ctx.get("user") else {}
    server = cluster.get("server")
    if not server:
        raise KubeconfigError(f"cluster {ctx.get('cluster')!r} in {_display(resolved)} "
                              "has no server")
    base = Path(resolved).parent
    cert = _read_pem(user, "client-certificate", base, resolved)
    key = _read_pem(user, "client-key", base, resolved)
    if bool(cert) != bool(key):
        raise KubeconfigError(f"user {ctx['user']!r} in {_display(resolved)} needs both "
                              "client-certificate and client-key")
    return ClusterConfig(
        server=str(server),
        token=_read_token(user, base),
        ca_data=_read_ca(cluster, base, resolved),
        insecure=bool(cluster.get("insecure-skip-tls-verify", False)),
        namespace=str(ctx.get("namespace") or "default"),
        path=resolved,
        client_cert=cert,
        client_key=key,
    )


def write_kubeconfig(path: str, server: str, ca_pem: bytes, token: str | None, *,
                     cluster: str = "schooner", user: str = "admin",
                     context: str = "schooner", namespace: str = "default",
                     client_cert: bytes | None = None, client_key: bytes | None = None) -> None:
    """Write a one-cluster kubeconfig, mode 0600, atomically (temp file then rename).

    Its user is a bearer token, or a client certificate and key (inline, as kubeadm
    writes them); it holds a secret either way, so like `kind` and `kubeadm` it is
    never world-readable.
    """
    credentials: dict[str, str] = {"token": token} if token else {}
    if client_cert and client_key:
        credentials["client-certificate-data"] = base64.b64encode(client_cert).decode("ascii")
        credentials["client-key-data"] = base64.b64encode(client_key).decode("ascii")
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": cluster, "cluster": {
            "server": server,
            "certificate-authority-data": base64.b64encode(ca_pem).decode("ascii"),
        }}],
        "users": [{"name": user, "user": credentials}],
        "contexts": [{"name": context, "context": {
            "cluster": cluster, "user": user, "namespace": namespace,
        }}],
        "current-context": context,
    }
    write_config(path, doc)
