"""What clients know of the built-in resources without asking the server.

The CLI resolves `kubectl`-style names (`po`, `deploy`, `deployments.apps`)
through this table and the components build their request paths from it, as
client-go's typed clients and kubectl's built-in shortcuts know the built-in
kinds. The server's truth is each kind's module in `apiserver/kinds/`; a unit
test (tests/unit/apiserver/test_kinds.py) keeps every row here equal to the
served resource. A kind the server serves and this table lacks is still
reachable: the CLI looks it up in the server's discovery.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ResourceInfo:
    """One REST resource: where it lives, what it is called, what it offers."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    # Fields usable in a fieldSelector besides metadata.name/metadata.namespace.
    selectable_fields: tuple[str, ...] = ()
    verbs: tuple[str, ...] = (
        "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch",
    )

    @property
    def api_version(self) -> str:
        """`v1` for the core group, `apps/v1` otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def group_resource(self) -> str:
        """`deployments.apps`, or `pods` for the core group: kubectl's spelling in messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def path_prefix(self) -> str:
        """`/api/v1` or `/apis/{group}/{version}`."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def collection_path(self, namespace: str | None = None) -> str:
        """The URL of the collection, in a namespace or across all of them."""
        if self.namespaced and namespace:
            return f"{self.path_prefix}/namespaces/{namespace}/{self.plural}"
        return f"{self.path_prefix}/{self.plural}"

    def object_path(self, name: str, namespace: str | None = None) -> str:
        return f"{self.collection_path(namespace)}/{name}"


_CORE, _APPS, _COORD, _DISCOVERY = "", "apps", "coordination.k8s.io", "discovery.k8s.io"
_RBAC, _AUTHZ = "rbac.authorization.k8s.io", "authorization.k8s.io"

RESOURCES: tuple[ResourceInfo, ...] = (
    ResourceInfo(_CORE, "v1", "Namespace", "namespaces", False, ("ns",),
                 subresources=("status", "finalize"), selectable_fields=("status.phase",)),
    ResourceInfo(_CORE, "v1", "Node", "nodes", False, ("no",),
                 subresources=("status",), selectable_fields=("spec.unschedulable",)),
    ResourceInfo(_CORE, "v1", "Pod", "pods", True, ("po",), ("all",),
                 ("status", "binding", "log", "exec", "attach", "eviction", "portforward"),
                 ("spec.nodeName", "status.phase", "spec.schedulerName",
                  "spec.restartPolicy", "status.podIP")),
    ResourceInfo(_CORE, "v1", "Service", "services", True, ("svc",), ("all",),
                 ("status",), ("spec.clusterIP", "spec.type")),
    ResourceInfo(_CORE, "v1", "Endpoints", "endpoints", True, ("ep",)),
    ResourceInfo(_CORE, "v1", "ConfigMap", "configmaps", True, ("cm",)),
    ResourceInfo(_CORE, "v1", "Secret", "secrets", True, (), selectable_fields=("type",)),
    ResourceInfo(_CORE, "v1", "ServiceAccount", "serviceaccounts", True, ("sa",),
                 subresources=("token",)),
    ResourceInfo(_CORE, "v1", "Event", "events", True, ("ev",),
                 selectable_fields=("involvedObject.kind", "involvedObject.namespace",
                                    "involvedObject.name", "involvedObject.uid",
                                    "involvedObject.apiVersion",
                                    "involvedObject.resourceVersion",
                                    "involvedObject.fieldPath", "reason", "type", "source")),
    ResourceInfo(_APPS, "v1", "Deployment", "deployments", True, ("deploy",), ("all",),
                 ("status", "scale")),
    ResourceInfo(_APPS, "v1", "ReplicaSet", "replicasets", True, ("rs",), ("all",),
                 ("status", "scale")),
    ResourceInfo(_APPS, "v1", "StatefulSet", "statefulsets", True, ("sts",), ("all",),
                 ("status", "scale")),
    ResourceInfo(_COORD, "v1", "Lease", "leases", True),
    ResourceInfo(_DISCOVERY, "v1", "EndpointSlice", "endpointslices", True),
    ResourceInfo(_RBAC, "v1", "Role", "roles", True),
    ResourceInfo(_RBAC, "v1", "ClusterRole", "clusterroles", False),
    ResourceInfo(_RBAC, "v1", "RoleBinding", "rolebindings", True),
    ResourceInfo(_RBAC, "v1", "ClusterRoleBinding", "clusterrolebindings", False),
    ResourceInfo(_AUTHZ, "v1", "SubjectAccessReview", "subjectaccessreviews", False,
                 verbs=("create",)),
    ResourceInfo(_AUTHZ, "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", False,
                 verbs=("create",)),
    ResourceInfo(_AUTHZ, "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", False,
                 verbs=("create",)),
    ResourceInfo("certificates.k8s.io", "v1", "CertificateSigningRequest",
                 "certificatesigningrequests", False, ("csr",),
                 subresources=("status", "approval"), selectable_fields=("spec.signerName",)),
)

_BY_PLURAL = {r.plural: r for r in RESOURCES}
_BY_KIND = {(r.api_version, r.kind): r for r in RESOURCES}


class UnknownResourceError(LookupError):
    """A name that matches no resource in the table."""


def by_plural(plural: str) -> ResourceInfo:
    """The resource served under `plural` (plurals are unique across groups here)."""
    try:
        return _BY_PLURAL[plural]
    except KeyError:
        raise UnknownResourceError(plural) from None


def by_kind(api_version: str, kind: str) -> ResourceInfo:
    """The resource for an object's `apiVersion` and `kind`."""
    try:
        return _BY_KIND[(api_version, kind)]
    except KeyError:
        raise UnknownResourceError(f"{kind} in {api_version or '(no apiVersion)'}") from None


def resolve(name: str, resources: Iterable[ResourceInfo] = RESOURCES) -> ResourceInfo:
    """Resolve what a user types: `po`, `pod`, `pods`, `Pod`, `deployments.apps`, `deploy`."""
    wanted = name.strip().lower()
    base, _, group = wanted.partition(".")
    for r in resources:
        if group and r.group != group:
            continue
        if base in (r.plural, r.singular, *r.short_names):
            return r
    raise UnknownResourceError(name)


def group_versions() -> list[str]:
    """Every group/version served, core first."""
    seen: dict[str, None] = {}
    for r in RESOURCES:
        seen.setdefault(r.api_version, None)
    return list(seen)


def from_discovery(resource_list: dict[str, Any]) -> list[ResourceInfo]:
    """The resources of one APIResourceList (`/api/v1`, `/apis/GROUP/VERSION`), as kubectl's
    RESTMapper learns them: subresources (`pods/log`) become their parent's."""
    group, _, version = str(resource_list.get("groupVersion") or "").rpartition("/")
    entries = [e for e in resource_list.get("resources") or [] if isinstance(e, dict)]
    subresources: dict[str, list[str]] = {}
    for entry in entries:
        parent, _, sub = str(entry.get("name") or "").partition("/")
        if sub:
            subresources.setdefault(parent, []).append(sub)
    return [ResourceInfo(group, version, str(e.get("kind")), str(e["name"]),
                         bool(e.get("namespaced")), tuple(e.get("shortNames") or ()),
                         tuple(e.get("categories") or ()),
                         tuple(subresources.get(str(e["name"]), ())),
                         verbs=tuple(e.get("verbs") or ()))
            for e in entries if "/" not in str(e.get("name") or "/")]

