"""Discovery and OpenAPI documents, generated from the resource table.

kubectl learns what a server offers from `/api`, `/apis` and one
APIResourceList per group version (the legacy discovery form, which kubectl
accepts), and needs a minimal OpenAPI v3 document per group version for its
default `--validate=strict`: one PATCH operation per kind carrying
`x-kubernetes-group-version-kind` and a `fieldValidation` parameter
(see shared KUBECTL.md).
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from apimachinery.resources import RESOURCES, ResourceInfo, group_versions

from . import __version__
from .eviction import EVICTION_GROUP, EVICTION_KIND, EVICTION_VERSION

Object = dict[str, Any]

KUBERNETES_MINOR = "32"  # the kubectl dispatcher picks its binary from this (KUBECTL.md)

_SUBRESOURCE_VERBS = {
    "status": ["get", "patch", "update"],
    "scale": ["get", "patch", "update"],
    "binding": ["create"],
    "log": ["get"],
    "exec": ["create", "get"],
    "eviction": ["create"],
}


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


def api_groups() -> Object:
    groups: dict[str, list[str]] = {}
    for gv in group_versions():
        if "/" in gv:
            group, version_ = gv.split("/")
            groups.setdefault(group, []).append(version_)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        _group(name, versions) for name, versions in groups.items()]}


def api_group(group: str) -> Object | None:
    versions = [r.version for r in RESOURCES if r.group == group]
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(group, sorted(set(versions)))}


def _group(name: str, versions: list[str]) -> Object:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def resource_list(group_version: str) -> Object | None:
    """The APIResourceList of one group version, subresources included, or None."""
    resources = [r for r in RESOURCES if r.api_version == group_version]
    if not resources:
        return None
    entries: list[Object] = []
    for r in resources:
        entries.append({
            "name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
            "kind": r.kind, "verbs": list(r.verbs), "shortNames": list(r.short_names),
            "categories": list(r.categories),
            "storageVersionHash": hashlib.sha256(r.kind.encode()).hexdigest()[:12],
        })
        for sub in r.subresources:
            entry: Object = {"name": f"{r.plural}/{sub}", "singularName": "",
                             "namespaced": r.namespaced, "kind": r.kind,
                             "verbs": _SUBRESOURCE_VERBS[sub]}
            if sub == "scale":
                entry.update(group="autoscaling", version="v1", kind="Scale")
            if sub == "binding":
                entry["kind"] = "Binding"
            if sub == "eviction":  # kubectl drain evicts only if discovery says so
                entry.update(group=EVICTION_GROUP, version=EVICTION_VERSION,
                             kind=EVICTION_KIND)
            entries.append(entry)
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": entries}


def _openapi_key(gv: str) -> str:
    return f"apis/{gv}" if "/" in gv else f"api/{gv}"


def openapi_index() -> Object:
    paths = {}
    for gv in group_versions():
        digest = hashlib.sha256(orjson.dumps(openapi_document(gv))).hexdigest()[:16].upper()
        paths[_openapi_key(gv)] = {"serverRelativeURL": f"/openapi/v3/{_openapi_key(gv)}"
                                                        f"?hash={digest}"}
    return {"paths": paths}


def openapi_document(group_version: str) -> Object:
    """A minimal OpenAPI v3 document: what kubectl's strict field validation looks for."""
    paths: Object = {}
    for r in RESOURCES:
        if r.api_version != group_version:
            continue
        paths[_object_path_template(r)] = {"patch": _patch_operation(r)}
    return {"openapi": "3.0.0",
            "info": {"title": "Schooner", "version": f"v1.{KUBERNETES_MINOR}.0"},
            "paths": paths}


def _object_path_template(r: ResourceInfo) -> str:
    scope = "/namespaces/{namespace}" if r.namespaced else ""
    return f"{r.path_prefix}{scope}/{r.plural}/{{name}}"


def _patch_operation(r: ResourceInfo) -> Object:
    return {
        "x-kubernetes-group-version-kind": {"group": r.group, "version": r.version,
                                            "kind": r.kind},
        "x-kubernetes-action": "patch",
        "parameters": [
            {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
            {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
        ],
        "responses": {"200": {"description": "OK"}},
    }


def openapi_key_to_group_version(key: str) -> str | None:
    """`apis/apps/v1` -> `apps/v1`; `api/v1` -> `v1`."""
    parts = key.strip("/").split("/")
    if parts[:1] == ["api"] and len(parts) == 2:
        return parts[1]
    if parts[:1] == ["apis"] and len(parts) == 3:
        return f"{parts[1]}/{parts[2]}"
    return None
