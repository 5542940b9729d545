"""Discovery documents, generated from the served kinds (`apiserver/kinds/`).

kubectl learns what a server offers from `/api`, `/apis` and one
APIResourceList per group version (the legacy discovery form, which kubectl
accepts). The OpenAPI documents are `openapi.py`'s.
"""

from __future__ import annotations

import hashlib

from apimachinery.meta import Object

from . import __version__
from .kinds import Kinds

KUBERNETES_MINOR = "32"  # the kubectl dispatcher picks its binary from this (KUBECTL.md)


def version() -> Object:
    return {
        "major": "1",
        "minor": KUBERNETES_MINOR,
        "gitVersion": f"v1.{KUBERNETES_MINOR}.0-schooner.{__version__}",
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "",
        "goVersion": "python",
        "compiler": "cpython",
        "platform": "linux/amd64",
    }


def api_versions(server_address: str) -> Object:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                            "serverAddress": server_address}]}


def api_groups(kinds: Kinds) -> Object:
    groups: dict[str, list[str]] = {}
    for gv in kinds.group_versions():
        if "/" in gv:
            group, version_ = gv.split("/")
            groups.setdefault(group, []).append(version_)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        _group(name, versions) for name, versions in groups.items()]}


def api_group(kinds: Kinds, group: str) -> Object | None:
    versions = [r.version for r in kinds.resources if r.group == group]
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(group, sorted(set(versions)))}


def _group(name: str, versions: list[str]) -> Object:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def resource_list(kinds: Kinds, group_version: str) -> Object | None:
    """The APIResourceList of one group version, subresources included, or None."""
    served = [k for k in kinds if k.resource.api_version == group_version]
    if not served:
        return None
    entries: list[Object] = []
    for kind in served:
        r = kind.resource
        entries.append({
            "name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
            "kind": r.kind, "verbs": list(r.verbs), "shortNames": list(r.short_names),
            "categories": list(r.categories),
            "storageVersionHash": hashlib.sha256(r.kind.encode()).hexdigest()[:12],
        })
        for sub in kind.subresources:
            # kubectl scale and drain look for the Scale and Eviction kinds here.
            entry: Object = {"name": f"{r.plural}/{sub.name}", "singularName": "",
                             "namespaced": r.namespaced, "kind": sub.kind or r.kind,
                             "verbs": list(sub.verbs)}
            if sub.group is not None:
                entry.update(group=sub.group, version=sub.version)
            entries.append(entry)
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": entries}
