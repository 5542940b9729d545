"""The Node authorizer's graph and decisions, and NodeRestriction's pure checks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from apimachinery import errors
from apimachinery.resources import resolve
from apiserver.auth import UserInfo
from apiserver.authorizer import Attributes, Privileged, Union
from apiserver.kinds.rbac.bootstrappolicy import (
    _merged,
    cluster_role_bindings,
    cluster_roles,
    node_rules,
)
from apiserver.nodeauthz.authorizer import NodeAuthorizer, node_identity
from apiserver.nodeauthz.graph import NodeGraph, pod_references
from apiserver.nodeauthz.restriction import _admit_node, forbidden_labels, modified_labels

N1 = UserInfo("system:node:n1", groups=("system:nodes", "system:authenticated"))


def _pod(name: str, node: str = "n1", ns: str = "ns", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": ns},
            "spec": {"nodeName": node, "serviceAccountName": "default",
                     "containers": [{"name": "c", "image": "busybox"}], **spec}}


WEB = _pod("web", volumes=[{"name": "s", "secret": {"secretName": "tls"}},
                           {"name": "p", "projected": {"sources": [
                               {"configMap": {"name": "proj-cm"}},
                               {"secret": {"name": "proj-secret"}}]}}],
           imagePullSecrets=[{"name": "pull"}],
           initContainers=[{"name": "i", "image": "x", "envFrom": [
               {"configMapRef": {"name": "env-cm"}}, {"secretRef": {"name": "env-secret"}}]}],
           containers=[{"name": "c", "image": "x", "env": [
               {"name": "A", "valueFrom": {"secretKeyRef": {"name": "key-secret", "key": "k"}}},
               {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "key-cm", "key": "k"}}},
               {"name": "C", "value": "plain"}]}])


def test_pod_references_walk_every_place_a_pod_names_an_object() -> None:
    assert pod_references(WEB) == {
        ("secrets", "ns", n) for n in ("tls", "proj-secret", "pull", "env-secret", "key-secret")
    } | {("configmaps", "ns", n) for n in ("proj-cm", "env-cm", "key-cm")} | {
        ("serviceaccounts", "ns", "default")}


def test_the_graph_follows_binding_moves_and_deletes() -> None:
    graph = NodeGraph()
    graph.set_pod(_pod("a", node="", volumes=[{"name": "s", "secret": {"secretName": "x"}}]))
    assert not graph.related("n1", ("secrets", "ns", "x"))  # unbound: nobody's
    graph.set_pod(_pod("a", volumes=[{"name": "s", "secret": {"secretName": "x"}}]))
    graph.set_pod(_pod("b", volumes=[{"name": "s", "secret": {"secretName": "x"}}]))
    assert graph.related("n1", ("secrets", "ns", "x"))
    assert not graph.related("n2", ("secrets", "ns", "x"))
    assert not graph.related("n1", ("secrets", "other", "x"))  # namespaces apart
    graph.delete_pod(("ns", "a"))
    assert graph.related("n1", ("secrets", "ns", "x"))  # b still references it
    graph.set_pod(_pod("b", node="n2", volumes=[{"name": "s", "secret": {"secretName": "x"}}]))
    assert not graph.related("n1", ("secrets", "ns", "x"))
    assert graph.related("n2", ("secrets", "ns", "x"))
    graph.delete_pod(("ns", "b"))
    assert len(graph) == 0 and not graph.related("n2", ("secrets", "ns", "x"))


def test_pods_that_reference_nothing_come_and_go() -> None:
    graph = NodeGraph()
    bare = {"metadata": {"name": "a", "namespace": "ns"}, "spec": {"nodeName": "n1"}}
    graph.set_pod(bare)
    graph.set_pod({**bare, "metadata": {"name": "b", "namespace": "ns"}})
    graph.set_pod(WEB)
    graph.delete_pod(("ns", "a"))
    graph.delete_pod(("ns", "b"))
    assert graph.related("n1", ("secrets", "ns", "tls"))
    graph.delete_pod(("ns", "web"))
    graph.delete_pod(("ns", "web"))  # twice: nothing to do
    assert len(graph) == 0


def _ask(authz: Any, user: UserInfo, verb: str, resource: str, name: str = "",
         namespace: str = "ns", subresource: str = "", group: str = "") -> tuple[bool, str]:
    decision = asyncio.run(authz.authorize(Attributes(
        user, verb, namespace, group, "v1", resource, subresource, name)))
    return decision.allowed, decision.reason


def test_a_node_reads_only_what_its_pods_reference() -> None:
    graph = NodeGraph()
    graph.set_pod(WEB)
    graph.set_pod(_pod("other", node="n2", volumes=[{"name": "s",
                                                      "secret": {"secretName": "theirs"}}]))
    authz = NodeAuthorizer(graph)
    assert _ask(authz, N1, "get", "secrets", "tls") == (True, "")
    assert _ask(authz, N1, "watch", "configmaps", "env-cm") == (True, "")
    assert _ask(authz, N1, "get", "secrets", "theirs") == (
        False, "no relationship found between node 'n1' and this object")
    assert _ask(authz, N1, "list", "secrets") == (False, "No Object name found")
    assert _ask(authz, N1, "update", "secrets", "tls") == (
        False, "can only read resources of this type")
    assert _ask(authz, N1, "get", "secrets", "tls", namespace="") == (
        False, "can only read namespaced object of this type")
    assert _ask(authz, N1, "get", "serviceaccounts", "default") == (True, "")
    assert _ask(authz, N1, "create", "serviceaccounts", "default", subresource="token") == (
        True, "")
    assert _ask(authz, N1, "create", "serviceaccounts", "builder", subresource="token") == (
        False, "no relationship found between node 'n1' and this object")
    assert _ask(authz, N1, "delete", "serviceaccounts", "default") == (
        False, "can only create tokens for individual service accounts")


def test_leases_static_rules_and_other_users() -> None:
    authz = NodeAuthorizer(NodeGraph())
    lease = {"group": "coordination.k8s.io", "namespace": "kube-node-lease"}
    assert _ask(authz, N1, "update", "leases", "n1", **lease) == (True, "")
    assert _ask(authz, N1, "create", "leases", **lease) == (True, "")
    assert _ask(authz, N1, "update", "leases", "n2", **lease) == (
        False, "can only access node lease with the same name as the requesting node")
    assert _ask(authz, N1, "get", "leases", "n1", "kube-system", group="coordination.k8s.io") \
        == (False, 'can only access leases in the "kube-node-lease" system namespace')
    assert _ask(authz, N1, "list", "leases", **lease)[0] is False
    assert _ask(authz, N1, "list", "pods")[0]
    assert _ask(authz, N1, "patch", "pods", "web", subresource="status")[0]
    assert _ask(authz, N1, "create", "nodes", namespace="")[0]
    assert not _ask(authz, N1, "delete", "namespaces", "ns", namespace="")[0]
    alice = UserInfo("alice", groups=("system:nodes",))
    assert _ask(authz, alice, "list", "pods") == (False, "")
    assert node_identity(UserInfo("system:node:n1")) == ("", False)  # not in system:nodes
    assert _ask(authz, UserInfo("system:node:", groups=("system:nodes",)), "get", "pods",
                "x") == (False, 'unknown node for user "system:node:"')


def test_a_nodes_rules_cannot_be_listed() -> None:
    rules = asyncio.run(NodeAuthorizer(NodeGraph()).rules_for(N1, "ns"))
    assert rules.incomplete
    assert rules.evaluation_error == "node authorizer does not support user rule resolution"


def test_node_mode_then_the_next_decides_in_order() -> None:
    class Everything:
        async def authorize(self, attrs: Attributes) -> Any:
            from apiserver.authorizer import Decision
            return Decision(attrs.user.name == "root")

        async def rules_for(self, user: UserInfo, namespace: str) -> Any:
            raise NotImplementedError

    authz = Privileged(Union([NodeAuthorizer(NodeGraph()), Everything()]))
    assert _ask(authz, N1, "get", "secrets", "x") == (
        False, "no relationship found between node 'n1' and this object")
    assert _ask(authz, UserInfo("root"), "get", "secrets", "x")[0]


def test_the_bootstrap_policy_binds_system_node_to_no_one() -> None:
    bindings = {b["metadata"]["name"]: b for b in cluster_role_bindings()}
    assert bindings["system:node"]["subjects"] == []
    role = next(r for r in cluster_roles() if r["metadata"]["name"] == "system:node")
    assert role["rules"] == node_rules()
    assert not any(set(r["resources"]) & {"secrets", "configmaps", "serviceaccounts/token",
                                          "leases"} for r in node_rules())
    # an earlier Schooner's binding of system:nodes is taken out on reconcile
    old = {**bindings["system:node"], "subjects": [
        {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:nodes"},
        {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "kept"}]}
    assert _merged(bindings["system:node"], old, "subjects")["subjects"] == [
        {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "kept"}]
    # and the role's rules the Node authorizer now decides per object
    own = {"verbs": ["get"], "apiGroups": [""], "resources": ["nodes"], "resourceNames": ["x"]}
    earlier = {**role, "rules": [*node_rules(), {"verbs": ["get", "list", "watch"],
                                                 "apiGroups": [""],
                                                 "resources": ["secrets", "configmaps"]}, own]}
    assert _merged(role, earlier, "rules")["rules"] == [*node_rules(), own]


NODES = resolve("nodes")


def _node(name: str = "n1", labels: dict[str, str] | None = None,
          taints: list[Any] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels or {}},
            "spec": {"taints": taints} if taints else {}}


def _refusal(node: dict[str, Any], old: dict[str, Any] | None) -> str:
    with pytest.raises(errors.Forbidden) as caught:
        _admit_node("n1", NODES, node, old)
    return str(caught.value)


def test_node_restriction_labels_taints_and_names() -> None:
    _admit_node("n1", NODES, _node(labels={"kubernetes.io/hostname": "n1",
                                           "node.kubernetes.io/pool": "a", "team": "x"}), None)
    assert _refusal(_node("n2"), None) == (
        'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"')
    assert _refusal(_node(labels={"node-restriction.kubernetes.io/x": "1"}), None) == (
        'nodes "n1" is forbidden: node "n1" is not allowed to set the following labels: '
        "node-restriction.kubernetes.io/x")
    old = _node(taints=[{"key": "k", "effect": "NoSchedule"}])
    assert _refusal(_node(), old) == (
        'nodes "n1" is forbidden: node "n1" is not allowed to modify taints')
    assert _refusal(_node(labels={"kubernetes.io/role": "x"}, taints=old["spec"]["taints"]),
                    old) == 'nodes "n1" is forbidden: is not allowed to modify labels: ' \
                            "kubernetes.io/role"
    _admit_node("n1", NODES, _node(labels={"team": "y"}, taints=old["spec"]["taints"]), old)
    assert modified_labels({"a": "1", "b": "2"}, {"a": "1", "b": "3", "c": ""}) == {"b", "c"}
    assert forbidden_labels({"example.k8s.io/x", "kubelet.kubernetes.io/y", "x.io/z",
                             "a.node-restriction.kubernetes.io/w"}) == [
        "a.node-restriction.kubernetes.io/w", "example.k8s.io/x"]


def test_a_failing_graph_update_ends_the_feed_not_the_watch_cache() -> None:
    from apiserver.etcdcodec import RawEvent
    from apiserver.nodeauthz.populator import GraphFeed

    class Broken(NodeGraph):
        def set_pod(self, pod: dict[str, Any]) -> None:
            raise KeyError("boom")

    async def run() -> GraphFeed:
        feed = GraphFeed(Broken(), 0)
        feed.offer(RawEvent("ADDED", "/registry/pods/ns/a", 5, _pod("a"), None))
        return feed
    feed = asyncio.run(run())
    assert feed.terminated and feed.ended.is_set()  # the populator lists again
    good = asyncio.run(_fed())
    assert good.related("n1", ("serviceaccounts", "ns", "default"))


async def _fed() -> NodeGraph:
    from apiserver.etcdcodec import RawEvent
    from apiserver.nodeauthz.populator import GraphFeed
    graph = NodeGraph()
    feed = GraphFeed(graph, 3)
    feed.offer(RawEvent("ADDED", "/registry/pods/ns/old", 2, _pod("old", node="n9"), None))
    feed.offer(RawEvent("ADDED", "/registry/pods/ns/a", 5, _pod("a"), None))
    feed.offer(RawEvent("DELETED", "/registry/pods/ns/b", 6, _pod("b", node="n2"), None))
    assert len(graph) == 1  # the event at or before the listed revision is not applied
    return graph
