"""Discovery documents, generated from the served kinds (`apiserver/kinds/`).

kubectl learns what a server offers from `/api` and `/apis`: in the aggregated
form (an `apidiscovery.k8s.io` APIGroupDiscoveryList holding every group,
version and resource), which it asks for first, or in the legacy form
(APIVersions / APIGroupList, then one APIResourceList per group version).
The OpenAPI documents are `openapi.py`'s.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from apimachinery.meta import Object

from . import __version__
from .kind import Kind
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


# -- aggregated discovery (apidiscovery.k8s.io) ---------------------------------------

AGGREGATED_GROUP, AGGREGATED_KIND = "apidiscovery.k8s.io", "APIGroupDiscoveryList"
AGGREGATED_VERSIONS = ("v2", "v2beta1")
# What Kubernetes' discovery endpoints can answer in; only JSON is spoken here.
_DISCOVERY_MEDIA = (("application", "json"), ("application", "yaml"),
                    ("application", "vnd.kubernetes.protobuf"))


def aggregated_content_type(version: str) -> str:
    """The exact Content-Type client-go looks for before it parses the aggregated form."""
    return f"application/json;g={AGGREGATED_GROUP};v={version};as={AGGREGATED_KIND}"


@dataclass(frozen=True)
class MediaRange:
    """One entry of an Accept header: `type/subtype;param=value;q=0.5`."""

    type: str
    subtype: str
    params: Mapping[str, str] = field(default_factory=dict)
    q: float = 1.0

    def matches(self, type_: str, subtype: str) -> bool:
        """Kubernetes' match: exact, `type/*`, or `*/*` (never `*/subtype`)."""
        if self.type == "*":
            return self.subtype == "*"
        return self.type == type_ and self.subtype in (subtype, "*")


def parse_accept(header: str) -> list[MediaRange]:
    """An Accept header's media ranges, most preferred first.

    Ordered as Kubernetes' negotiation orders them (goautoneg): higher q first,
    then a concrete type before a wildcard, otherwise as the client wrote them.
    Type, subtype and parameter names are case-insensitive; values may be
    quoted. Malformed entries are skipped, and so is q=0 ("not acceptable").
    """
    ranges: list[MediaRange] = []
    for part in _split_unquoted(header, ","):
        fields = _split_unquoted(part, ";")
        media = fields[0].strip().lower()
        type_, slash, subtype = media.partition("/")
        if not slash or not type_ or not subtype or (type_ == "*" and subtype != "*"):
            continue
        params: dict[str, str] = {}
        q, malformed = 1.0, False
        for param in fields[1:]:
            if not param.strip():
                continue
            key, eq, value = param.partition("=")
            key, value = key.strip().lower(), _unquote(value.strip())
            if not key or not eq:
                malformed = True  # the whole range is skipped, as Go's mime does
                break
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
            else:
                params[key] = value
        if not malformed and q > 0:
            ranges.append(MediaRange(type_, subtype, params, min(q, 1.0)))
    ranges.sort(key=lambda r: (-r.q, r.type == "*", r.subtype == "*"))  # stable
    return ranges


def _split_unquoted(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str:
    if len(value) < 2 or not value[0] == value[-1] == '"':
        return value
    out: list[str] = []
    escaped = False
    for ch in value[1:-1]:
        if ch == "\\" and not escaped:
            escaped = True
            continue
        out.append(ch)
        escaped = False
    return "".join(out)


def negotiate_discovery(accept: str | None) -> str | None:
    """The apidiscovery version (`v2`, `v2beta1`) to answer `/api` or `/apis` in, or None.

    None means the legacy APIVersions/APIGroupList. As Kubernetes' discovery
    handler does: the first acceptable media range wins. A range asking for a
    conversion (`g`, `v`, `as`) is acceptable only for the aggregated list;
    one without is the legacy form (in whatever encoding: Schooner answers it
    in JSON, as it always has, and so when nothing is acceptable at all).
    """
    if not accept:
        return None
    for media in parse_accept(accept):
        offered = [m for m in _DISCOVERY_MEDIA if media.matches(*m)]
        if not offered or media.params.get("stream"):
            continue
        convert = [media.params.get(k) for k in ("g", "v", "as")]
        if not any(convert):
            return None
        group, version, kind = convert
        if (group != AGGREGATED_GROUP or kind != AGGREGATED_KIND
                or version not in AGGREGATED_VERSIONS):
            continue
        if ("application", "json") in offered:
            return version
    return None


def aggregated_discovery(kinds: Kinds, *, core: bool, version: str = "v2") -> Object:
    """The APIGroupDiscoveryList of `/api` (core, the group named "") or `/apis`.

    One item per group, its versions in discovery order (the first is the
    preferred one), each with every resource and its subresources. As in
    Kubernetes, a responseKind in the resource's own group version leaves
    group and version empty; only a subresource that returns another group's
    kind names it (`deployments/scale` returns `autoscaling/v1 Scale`).
    """
    groups: dict[str, dict[str, list[Object]]] = {}
    for kind in kinds:
        r = kind.resource
        if (r.group == "") == core:
            groups.setdefault(r.group, {}).setdefault(r.version, []).append(
                _resource_discovery(kind))
    items: list[Object] = []
    for group, versions in groups.items():
        items.append({
            "metadata": {"name": group} if group else {},
            "versions": [{"version": v, "freshness": "Current",
                          "resources": sorted(resources, key=lambda e: str(e["resource"]))}
                         for v, resources in versions.items()],
        })
    return {"kind": AGGREGATED_KIND, "apiVersion": f"{AGGREGATED_GROUP}/{version}",
            "metadata": {}, "items": items}


def _resource_discovery(kind: Kind) -> Object:
    r = kind.resource
    entry: Object = {
        "resource": r.plural,
        "responseKind": {"group": "", "version": "", "kind": r.kind},
        "scope": "Namespaced" if r.namespaced else "Cluster",
        "singularResource": r.singular,
        "verbs": list(r.verbs),
    }
    if r.short_names:
        entry["shortNames"] = list(r.short_names)
    if r.categories:
        entry["categories"] = list(r.categories)
    subresources = [{
        "subresource": sub.name,
        "responseKind": {"group": sub.group or "", "version": sub.version or "",
                         "kind": sub.kind or r.kind},
        "verbs": list(sub.verbs),
    } for sub in sorted(kind.subresources, key=lambda s: s.name)]
    if subresources:
        entry["subresources"] = subresources
    return entry


# -- legacy discovery, per group version -------------------------------------------------

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
