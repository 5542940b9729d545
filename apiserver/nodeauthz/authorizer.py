"""`--authorization-mode Node`: a node reads only what the pods bound to it reference.

Kubernetes' NodeAuthorizer (plugin/pkg/auth/authorizer/node/node_authorizer.go),
for users `system:node:<name>` in the group `system:nodes`:

- Secrets and ConfigMaps: get, list and watch of one named object that a pod bound
  to the node references (a list or watch names it with `metadata.name=`);
- ServiceAccounts: get of one, and create of its `token` subresource, when a pod
  bound to the node runs as it;
- Leases: get, create, update, patch and delete in `kube-node-lease`, of the
  node's own name (create is checked by NodeRestriction, which sees the body);
- anything else: the static node rules (the `system:node` ClusterRole,
  kinds/rbac/bootstrappolicy.py), with NodeRestriction keeping writes to the
  node's own objects.

A refusal is "no opinion" with Kubernetes' reason, so the next mode (RBAC) may
still allow it and the 403 carries the reason: `no relationship found between
node 'n1' and this object`. Other users get no opinion and no reason.
"""

from __future__ import annotations

from apiserver.auth import UserInfo
from apiserver.authorizer import Attributes, Decision, Rules
from apiserver.kinds.rbac.bootstrappolicy import node_rules
from apiserver.kinds.rbac.rbacauthorizer import Rule, rule_allows

from .graph import CONFIGMAPS, SECRETS, SERVICEACCOUNTS, NodeGraph

NODE_USER_PREFIX = "system:node:"
NODES_GROUP = "system:nodes"
NODE_LEASE_NAMESPACE = "kube-node-lease"
_LEASES = ("coordination.k8s.io", "leases")
_LEASE_VERBS = ("get", "create", "update", "patch", "delete")


def node_identity(user: UserInfo) -> tuple[str, bool]:
    """(node name, is a node): a `system:node:` user in `system:nodes`, as Kubernetes'
    NodeIdentifier reads it; ("", True) for a node whose name is empty."""
    if not user.name.startswith(NODE_USER_PREFIX) or NODES_GROUP not in user.groups:
        return "", False
    return user.name.removeprefix(NODE_USER_PREFIX), True


def _no(reason: str) -> Decision:
    return Decision(False, reason)


class NodeAuthorizer:
    """The Node mode, over the graph the populator keeps (nodeauthz/populator.py)."""

    def __init__(self, graph: NodeGraph, rules: list[Rule] | None = None) -> None:
        self.graph = graph
        self.rules = node_rules() if rules is None else rules

    async def authorize(self, attrs: Attributes) -> Decision:
        node, is_node = node_identity(attrs.user)
        if not is_node:
            return Decision(False)
        if not node:
            return _no(f'unknown node for user "{attrs.user.name}"')
        if attrs.resource_request and not attrs.api_group:
            if attrs.resource in (SECRETS, CONFIGMAPS):
                return self._read_namespaced(node, attrs)
            if attrs.resource == SERVICEACCOUNTS:
                if attrs.verb == "get" and not attrs.subresource:
                    return self._read_namespaced(node, attrs)
                return self._create_token(node, attrs)
        if attrs.resource_request and (attrs.api_group, attrs.resource) == _LEASES:
            return _lease(node, attrs)
        if any(rule_allows(rule, attrs) for rule in self.rules):
            return Decision(True)
        return Decision(False)

    def _read_namespaced(self, node: str, attrs: Attributes) -> Decision:
        """authorizeReadNamespacedObject: one named object of a namespace, read only."""
        if attrs.verb not in ("get", "list", "watch"):
            return _no("can only read resources of this type")
        if attrs.subresource:
            return _no("cannot read subresource")
        if not attrs.namespace:
            return _no("can only read namespaced object of this type")
        return self._related(node, attrs)

    def _create_token(self, node: str, attrs: Attributes) -> Decision:
        """authorizeCreateToken: `serviceaccounts/<name>/token` create only."""
        if attrs.verb != "create" or not attrs.name:
            return _no("can only create tokens for individual service accounts")
        if attrs.subresource != "token":
            return _no("can only create token subresource of serviceaccount")
        return self._related(node, attrs)

    def _related(self, node: str, attrs: Attributes) -> Decision:
        if not attrs.name:
            return _no("No Object name found")
        if self.graph.related(node, (attrs.resource, attrs.namespace, attrs.name)):
            return Decision(True)
        return _no(f"no relationship found between node '{node}' and this object")

    async def rules_for(self, user: UserInfo, namespace: str) -> Rules:
        """As Kubernetes: a node's rights cannot be listed (they depend on its pods)."""
        if node_identity(user)[1]:
            return Rules(incomplete=True, evaluation_error=(
                "node authorizer does not support user rule resolution"))
        return Rules()


def _lease(node: str, attrs: Attributes) -> Decision:
    """authorizeLease: the node's own Lease in kube-node-lease (any name on create)."""
    if attrs.verb not in _LEASE_VERBS:
        return _no("can only get, create, update, patch, or delete a node lease")
    if attrs.namespace != NODE_LEASE_NAMESPACE:
        return _no(f'can only access leases in the "{NODE_LEASE_NAMESPACE}" system namespace')
    if attrs.verb != "create" and attrs.name != node:
        return _no("can only access node lease with the same name as the requesting node")
    return Decision(True)
