"""Edits of a kubeconfig document, as `kubectl config` makes them: pure functions on dicts.

Each takes the document of one file and returns what changed, so the commands
(cli/configcmd.py) only decide which file to read and write. Field names and the
way files are referred to follow kubectl v1.32: `--embed-certs` puts a file's bytes
in `*-data` (and drops the path), otherwise the path is kept, relative to the
kubeconfig's directory when it lies under it (clientcmd's RelativizePathWithNoBacksteps)
and absolute otherwise.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apimachinery.kubeconfigfiles import KubeconfigError

Doc = dict[str, Any]


@dataclass(frozen=True)
class FileRef:
    """A file named on the command line for a `*` / `*-data` field pair."""

    field: str  # `certificate-authority`, `client-certificate`, `client-key`
    path: str


def entry(doc: Doc, section: str, name: str) -> dict[str, Any] | None:
    """The named entry of `clusters`, `users` or `contexts`, or None."""
    for item in doc.get(section) or []:
        if isinstance(item, dict) and item.get("name") == name:
            return item
    return None


def _body(doc: Doc, section: str, what: str, name: str) -> tuple[dict[str, Any], bool]:
    """The body of the named entry, made when missing: (body, created)."""
    found = entry(doc, section, name)
    if found is not None:
        if not isinstance(found.get(what), dict):
            found[what] = {}
        return found[what], False
    body: dict[str, Any] = {}
    doc[section] = [*(doc.get(section) or []), {"name": name, what: body}]
    return body, True


def _put(body: dict[str, Any], key: str, value: Any) -> None:
    """Set `key`, or remove it when given empty (`--token=""`, `--insecure-skip-tls-verify=
    false`, `--namespace=""`): kubectl clears a field set to its zero value."""
    if value:
        body[key] = value
    else:
        body.pop(key, None)


def relativize(path: str, kubeconfig: str) -> str:
    """`path` made absolute, then relative to the kubeconfig's directory if it lies under it."""
    absolute = os.path.abspath(os.path.expanduser(path))
    base = os.path.dirname(os.path.abspath(kubeconfig))
    rel = os.path.relpath(absolute, base)
    return absolute if rel.startswith("..") else rel


def _set_file(body: dict[str, Any], ref: FileRef, embed: bool, kubeconfig: str) -> None:
    """Point `ref.field` at the file, or with `embed` put its bytes in `ref.field-data`."""
    if embed:
        try:
            data = Path(ref.path).expanduser().read_bytes()
        except OSError as exc:
            raise KubeconfigError(f"could not stat {ref.field} file {ref.path}: "
                                  f"{(exc.strerror or str(exc)).lower()}") from None
        body[f"{ref.field}-data"] = base64.b64encode(data).decode("ascii")
        body.pop(ref.field, None)
    else:
        body[ref.field] = relativize(ref.path, kubeconfig)
        body.pop(f"{ref.field}-data", None)


def set_cluster(doc: Doc, name: str, kubeconfig: str, *, server: str | None = None,
                certificate_authority: str | None = None, embed: bool = False,
                insecure: bool | None = None) -> None:
    """`kubectl config set-cluster NAME [--server] [--certificate-authority [--embed-certs]]`."""
    if embed and not certificate_authority:
        raise KubeconfigError("you must specify a --certificate-authority to embed")
    body, _ = _body(doc, "clusters", "cluster", name)
    if server is not None:
        body["server"] = server
    if certificate_authority:
        _set_file(body, FileRef("certificate-authority", certificate_authority), embed,
                  kubeconfig)
    if insecure is not None:
        _put(body, "insecure-skip-tls-verify", insecure)


def set_credentials(doc: Doc, name: str, kubeconfig: str, *, client_certificate: str | None
                    = None, client_key: str | None = None, token: str | None = None,
                    embed: bool = False) -> None:
    """`kubectl config set-credentials NAME [--client-certificate --client-key
    [--embed-certs]] [--token]`; fields not given are kept."""
    if embed and not (client_certificate or client_key):
        raise KubeconfigError("you must specify a --client-certificate or --client-key "
                              "to embed")
    body, _ = _body(doc, "users", "user", name)
    for field, path in (("client-certificate", client_certificate),
                        ("client-key", client_key)):
        if path:
            _set_file(body, FileRef(field, path), embed, kubeconfig)
    if token is not None:
        _put(body, "token", token)


def set_context(doc: Doc, name: str, *, cluster: str | None = None, user: str | None = None,
                namespace: str | None = None) -> bool:
    """`kubectl config set-context NAME [--cluster] [--user] [--namespace]`: True if created."""
    body, created = _body(doc, "contexts", "context", name)
    if created:
        body.update({"cluster": "", "user": ""})
    for key, value in (("cluster", cluster), ("user", user), ("namespace", namespace)):
        if value is not None:
            _put(body, key, value)
    return created


def delete_entry(doc: Doc, section: str, name: str) -> bool:
    """Remove the named entry; False when the document has none by that name."""
    items = doc.get(section) or []
    kept = [i for i in items if not (isinstance(i, dict) and i.get("name") == name)]
    doc[section] = kept
    return len(kept) != len(items)


def context_rows(doc: Doc, names: list[str] | None = None) -> list[list[str]]:
    """`kubectl config get-contexts` rows (CURRENT, NAME, CLUSTER, AUTHINFO, NAMESPACE),
    by name; `names` keeps only those (missing ones are the caller's error)."""
    current = doc.get("current-context") or ""
    rows = []
    for item in sorted(doc.get("contexts") or [], key=lambda i: str(i.get("name"))):
        name = str(item.get("name"))
        if names is not None and name not in names:
            continue
        body = item.get("context") or {}
        rows.append(["*" if name == current else "", name, str(body.get("cluster") or ""),
                     str(body.get("user") or ""), str(body.get("namespace") or "")])
    return rows


def by_name(doc: Doc) -> Doc:
    """Entries sorted by name, as `kubectl config view` prints them (its maps are sorted)."""
    out = dict(doc)
    for section in ("clusters", "users", "contexts"):
        out[section] = sorted(doc.get(section) or [], key=lambda i: str(i.get("name")))
    return out


def redact(doc: Doc) -> Doc:
    """Hide secrets as `kubectl config view` does: `DATA+OMITTED` for bytes, `REDACTED` else."""
    out = dict(doc)
    out["clusters"] = [_masked(item, "cluster", {"certificate-authority-data": "DATA+OMITTED"})
                       for item in doc.get("clusters") or []]
    out["users"] = [_masked(item, "user", {"client-certificate-data": "DATA+OMITTED",
                                           "client-key-data": "DATA+OMITTED",
                                           "token": "REDACTED", "password": "REDACTED"})
                    for item in doc.get("users") or []]
    return out


def _masked(item: Any, what: str, masks: dict[str, str]) -> Any:
    if not isinstance(item, dict) or not isinstance(item.get(what), dict):
        return item
    body = {k: (masks[k] if k in masks and v else v) for k, v in item[what].items()}
    return {**item, what: body}


def minify(doc: Doc, context: str | None) -> Doc:
    """Only the context in use, its cluster and its user (`kubectl config view --minify`)."""
    name = context or doc.get("current-context")
    ctx = entry(doc, "contexts", name) if name else None
    if not name or ctx is None:
        raise KubeconfigError(f"cannot locate context {name or ''}".rstrip())
    body = ctx.get("context") or {}
    return {**doc, "current-context": name, "contexts": [ctx],
            "clusters": [c for c in doc.get("clusters") or []
                         if c.get("name") == body.get("cluster")],
            "users": [u for u in doc.get("users") or [] if u.get("name") == body.get("user")]}


def flatten(doc: Doc) -> Doc:
    """Files referred to become `*-data` (`kubectl config view --flatten`)."""
    out = dict(doc)
    for section, what, fields in (("clusters", "cluster", ("certificate-authority",)),
                                  ("users", "user", ("client-certificate", "client-key"))):
        items = []
        for item in doc.get(section) or []:
            body = dict(item.get(what) or {})
            for field in fields:
                if body.get(field):
                    _set_file(body, FileRef(field, str(body[field])), True, "")
            items.append({**item, what: body})
        out[section] = items
    return out
