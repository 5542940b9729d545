"""What a node may ask of the cluster's CA: pure checks over a parsed request.

Kubernetes' rules (pkg/apis/certificates/helpers.go `IsKubeletClientCSR`,
`IsKubeletServingCSR`; pkg/controller/certificates/approver/sarapprove.go):
a kubelet client request names `system:node:NAME` in `system:nodes`, no
subjectAltNames, and client usages; a serving request the same subject, DNS
or IP subjectAltNames only, and serving usages. Each check returns the reason
it fails, or None.
"""

from __future__ import annotations

from collections.abc import Iterable

from apimachinery import csr
from apimachinery.meta import Object

CLIENT_ALLOWED = frozenset({"key encipherment", "digital signature", "client auth"})
SERVING_ALLOWED = frozenset({"key encipherment", "digital signature", "server auth"})
# Node address types whose values a serving certificate may name.
ADDRESS_TYPES = ("InternalIP", "ExternalIP", "Hostname", "InternalDNS", "ExternalDNS")


def _node_subject(subject: csr.Subject) -> str | None:
    if subject.organizations != (csr.NODES_GROUP,):
        return f"subject organization is not {csr.NODES_GROUP}"
    if not subject.common_name.startswith(csr.NODE_USER_PREFIX) or \
            subject.common_name == csr.NODE_USER_PREFIX:
        return f'subject common name does not begin with "{csr.NODE_USER_PREFIX}"'
    return None


def _usages(usages: Iterable[str], allowed: frozenset[str], needed: str) -> str | None:
    given = set(usages)
    if not given <= allowed:
        return f"usages did not match {sorted(allowed)}"
    if needed not in given:
        return f"usages must include {needed!r}"
    return None


def kubelet_client_problem(subject: csr.Subject, usages: Iterable[str]) -> str | None:
    """Why this is not a kubelet client request (None: it is one)."""
    problem = _node_subject(subject)
    if problem:
        return problem
    if subject.dns_names or subject.ip_addresses or subject.has_emails_or_uris:
        return "subjectAltNames are not allowed"
    return _usages(usages, CLIENT_ALLOWED, "client auth")


def kubelet_serving_problem(subject: csr.Subject, usages: Iterable[str]) -> str | None:
    """Why this is not a kubelet serving request (None: it is one)."""
    problem = _node_subject(subject)
    if problem:
        return problem
    if subject.has_emails_or_uris:
        return "email and URI subjectAltNames are not allowed"
    if not subject.dns_names and not subject.ip_addresses:
        return "at least one DNS or IP subjectAltName is required"
    return _usages(usages, SERVING_ALLOWED, "server auth")


def node_names(node: Object) -> set[str]:
    """The names and addresses a Node is known by: its name and its status.addresses."""
    names = {str((node.get("metadata") or {}).get("name") or "")}
    for address in (node.get("status") or {}).get("addresses") or []:
        if isinstance(address, dict) and address.get("type") in ADDRESS_TYPES:
            names.add(str(address.get("address") or ""))
    return names - {""}


def serving_for_own_node_problem(spec: Object, subject: csr.Subject,
                                 node: Object | None) -> str | None:
    """Schooner's kubelet-serving auto-approval (Kubernetes approves none): the requester
    is the node itself, the certificate names it, and every subjectAltName is that Node's
    name or one of its addresses."""
    user = str(spec.get("username") or "")
    if user != subject.common_name:
        return "the requester is not the node the certificate names"
    if csr.NODES_GROUP not in (spec.get("groups") or []):
        return f"the requester is not in {csr.NODES_GROUP}"
    if node is None:
        return "the node is not registered"
    unknown = sorted(set(subject.dns_names + subject.ip_addresses) - node_names(node))
    if unknown:
        return f"subjectAltNames not among the node's addresses: {', '.join(unknown)}"
    return None
