"""NodeRestriction admission: a node writes only its own Node, Lease and pods.

Kubernetes' plugin/pkg/admission/noderestriction, for the parts Schooner serves.
The Node authorizer lets every node write nodes, pods/status and evictions; this
keeps each write to the caller's own objects, in Kubernetes' words:

- nodes: only its own (create, update, patch, delete, status); it may not change
  its taints, nor set labels under `node-restriction.kubernetes.io/` or other
  `kubernetes.io`/`k8s.io` labels that are not the kubelet's own;
- leases: only its own, in `kube-node-lease`;
- pods: delete only pods bound to it; update status only of those (and not their
  labels); evict only those; create only mirror pods bound to it that reference
  nothing (Schooner runs no static pods, so in practice none);
- anything else a node may write is not restricted here (events, reviews).

Two entry points: `admit_request` before the handler, for what the URL and the
stored object decide (deletes, status updates, evictions, names), and
`admit_object` as a registry admission, for what only the new object shows
(a create's name, labels, taints). The apiserver's own writes are never checked.
"""

from __future__ import annotations

from typing import Any

from apimachinery import errors
from apimachinery.meta import Object
from apimachinery.resources import ResourceInfo
from apiserver.auth import UserInfo
from apiserver.authorizer import REQUESTER
from apiserver.registry import Registry
from apiserver.requestinfo import RequestInfo

from .authorizer import NODE_LEASE_NAMESPACE, node_identity
from .graph import CONFIGMAPS, SECRETS, pod_references

WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
NODE_RESTRICTION_LABEL_DOMAIN = "node-restriction.kubernetes.io"
# The labels a kubelet sets on its own Node (k8s.io/kubelet/pkg/apis: IsKubeletLabel).
KUBELET_LABELS = frozenset({
    "kubernetes.io/hostname", "topology.kubernetes.io/zone", "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region",
    "beta.kubernetes.io/instance-type", "node.kubernetes.io/instance-type",
    "kubernetes.io/os", "kubernetes.io/arch", "beta.kubernetes.io/os",
    "beta.kubernetes.io/arch"})
KUBELET_LABEL_DOMAINS = ("kubelet.kubernetes.io", "node.kubernetes.io")
_OPERATIONS = {"create": "CREATE", "update": "UPDATE", "patch": "UPDATE", "delete": "DELETE",
               "deletecollection": "DELETE"}


def forbidden(resource: ResourceInfo, name: str, reason: str) -> errors.Forbidden:
    """admission.NewForbidden: `pods "web" is forbidden: <reason>`."""
    group_resource = resource.group_resource
    text = (f'{group_resource} "{name}" is forbidden: {reason}' if name
            else f"{group_resource} is forbidden: {reason}")
    details = {"name": name, "group": resource.group, "kind": resource.plural}
    return errors.Forbidden(text, details={k: v for k, v in details.items() if v})


# -- before the handler: the URL and the stored object -------------------------------------

async def admit_request(registry: Registry, user: UserInfo, info: RequestInfo) -> None:
    """Refuse a node's write that the URL or the stored object shows is not its own."""
    node, is_node = node_identity(user)
    if not is_node or info.verb not in WRITE_VERBS:
        return
    resource, name = info.resource, info.name or ""
    if not node:
        raise forbidden(resource, name, f'could not determine node from user "{user.name}"')
    key = (resource.group, resource.plural)
    if key == ("", "pods"):
        await _admit_pod_request(registry, node, info)
    elif key == ("", "nodes") and info.verb != "create":
        _admit_own_node(node, resource, name)
    elif key == ("coordination.k8s.io", "leases"):
        # a create's name is in its body: admit_object checks it
        _admit_lease(node, resource, info.namespace or "", name, info.verb != "create")


async def _admit_pod_request(registry: Registry, node: str, info: RequestInfo) -> None:
    resource, name, sub = info.resource, info.name or "", info.subresource or ""
    operation = _OPERATIONS[info.verb]
    if sub == "":
        if operation == "CREATE":
            return  # the body decides: admit_object
        if operation != "DELETE" or not name:
            raise forbidden(resource, name, f'unexpected operation "{operation}", node '
                                            f'"{node}" can only create and delete mirror pods')
        if await _pod_node(registry, info) != node:
            raise forbidden(resource, name, f'node "{node}" can only delete pods with '
                                            "spec.nodeName set to itself")
    elif sub == "status":
        await _admit_own_pod(registry, node, info, "UPDATE", f'node "{node}" can only update '
                             "pod status for pods with spec.nodeName set to itself")
    elif sub == "eviction":
        await _admit_own_pod(registry, node, info, "CREATE", f"node {node} can only evict "
                             "pods with spec.nodeName set to itself")
    else:
        raise forbidden(resource, name, f'unexpected subresource "{sub}"')


async def _admit_own_pod(registry: Registry, node: str, info: RequestInfo, allowed: str,
                         refusal: str) -> None:
    """A pod's subresource takes one operation from a node, and only on a pod bound to it
    (admitPodStatus, admitPodEviction); `refusal` is Kubernetes' message for another's."""
    operation = _OPERATIONS[info.verb]
    if operation != allowed:
        raise forbidden(info.resource, info.name or "", f'unexpected operation "{operation}"')
    if await _pod_node(registry, info) != node:
        raise forbidden(info.resource, info.name or "", refusal)


async def _pod_node(registry: Registry, info: RequestInfo) -> str:
    """The stored pod's spec.nodeName; its 404 when there is no such pod."""
    pod = await registry.get(info.resource, info.namespace, info.name or "")
    return str((pod.get("spec") or {}).get("nodeName") or "")


def _admit_lease(node: str, resource: ResourceInfo, namespace: str, name: str,
                 check_name: bool) -> None:
    if namespace != NODE_LEASE_NAMESPACE:
        raise forbidden(resource, name, f'can only access leases in the '
                                        f'"{NODE_LEASE_NAMESPACE}" system namespace')
    if check_name and name != node:
        raise forbidden(resource, name, "can only access node lease with the same name as "
                                        "the requesting node")


# -- a registry admission: the new object ---------------------------------------------------

async def admit_object(registry: Registry, resource: ResourceInfo, namespace: str | None,
                       obj: Object, old: Object | None) -> None:
    """What only the object shows: a create's name, a Node's labels and taints."""
    requester = REQUESTER.get()
    if requester is None:
        return  # the apiserver's own write
    node, is_node = node_identity(requester.user)
    if not is_node or not node:
        return
    meta = obj.get("metadata") or {}
    name = str(meta.get("name") or "")
    key = (resource.group, resource.plural)
    if key == ("", "nodes"):
        _admit_node(node, resource, obj, old)
    elif key == ("coordination.k8s.io", "leases") and old is None:
        _admit_lease(node, resource, namespace or "", name, True)
    elif key == ("", "pods") and old is None:
        _admit_pod_create(node, resource, obj)


def _admit_node(node: str, resource: ResourceInfo, obj: Object, old: Object | None) -> None:
    name = str((obj.get("metadata") or {}).get("name") or "")
    _admit_own_node(node, resource, name)
    labels = _labels(obj)
    if old is None:
        bad = forbidden_labels(modified_labels(labels, {}))
        if bad:
            raise forbidden(resource, name, f'node "{node}" is not allowed to set the '
                                            f"following labels: {', '.join(bad)}")
        return
    if _taints(obj) != _taints(old):
        raise forbidden(resource, name, f'node "{node}" is not allowed to modify taints')
    bad = forbidden_labels(modified_labels(labels, _labels(old)))
    if bad:
        raise forbidden(resource, name, f"is not allowed to modify labels: {', '.join(bad)}")


def _admit_own_node(node: str, resource: ResourceInfo, name: str) -> None:
    """A node writes only its own Node: checked on the URL's name before the handler, and
    on the object's in admission (a create names it only in its body)."""
    if name != node:
        raise forbidden(resource, name, f'node "{node}" is not allowed to modify node "{name}"')


def _admit_pod_create(node: str, resource: ResourceInfo, pod: Object) -> None:
    """admitPodCreate: only a mirror pod, bound to the node, owned by it, referencing
    nothing else."""
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    name = str(meta.get("name") or "")
    if MIRROR_POD_ANNOTATION not in (meta.get("annotations") or {}):
        raise forbidden(resource, name, f'pod does not have "{MIRROR_POD_ANNOTATION}" '
                                        f'annotation, node "{node}" can only create mirror pods')
    if spec.get("nodeName") != node:
        raise forbidden(resource, name, f'node "{node}" can only create pods with '
                                        "spec.nodeName set to itself")
    owners = meta.get("ownerReferences") or []
    if len(owners) > 1:
        raise forbidden(resource, name, f'node "{node}" can only create pods with a single '
                                        "owner reference set to itself")
    owner = owners[0] if owners and isinstance(owners[0], dict) else {}
    if (owner.get("apiVersion"), owner.get("kind"), owner.get("name")) != ("v1", "Node", node):
        raise forbidden(resource, name, f'node "{node}" can only create pods with an owner '
                                        "reference set to itself")
    if spec.get("serviceAccountName"):
        raise forbidden(resource, name, f'node "{node}" can not create pods that reference '
                                        "a service account")
    kinds = {ref[0] for ref in pod_references(pod)}
    for plural in (SECRETS, CONFIGMAPS):
        if plural in kinds:
            raise forbidden(resource, name, f'node "{node}" can not create pods that '
                                            f"reference {plural}")


def _labels(obj: Object) -> dict[str, Any]:
    labels = (obj.get("metadata") or {}).get("labels")
    return labels if isinstance(labels, dict) else {}


def _taints(obj: Object) -> list[Any]:
    spec = obj.get("spec")
    return list(spec.get("taints") or []) if isinstance(spec, dict) else []


def modified_labels(new: dict[str, Any], old: dict[str, Any]) -> set[str]:
    """getModifiedLabels: the keys added, removed or changed."""
    return {k for k in new.keys() | old.keys() if new.get(k) != old.get(k) or
            (k in new) != (k in old)}


def _label_domain(key: str) -> str:
    domain, slash, _ = key.partition("/")
    return domain if slash else ""


def _in_domain(domain: str, parent: str) -> bool:
    return domain == parent or domain.endswith("." + parent)


def is_kubelet_label(key: str) -> bool:
    return key in KUBELET_LABELS or any(_in_domain(_label_domain(key), d)
                                        for d in KUBELET_LABEL_DOMAINS)


def forbidden_labels(keys: set[str]) -> list[str]:
    """getForbiddenLabels: node-restriction.kubernetes.io labels, and kubernetes.io or
    k8s.io labels that are not the kubelet's; sorted, as Kubernetes lists them."""
    bad = set()
    for key in keys:
        domain = _label_domain(key)
        if _in_domain(domain, NODE_RESTRICTION_LABEL_DOMAIN):
            bad.add(key)
        if (_in_domain(domain, "kubernetes.io") or _in_domain(domain, "k8s.io")) and \
                not is_kubelet_label(key):
            bad.add(key)
    return sorted(bad)
