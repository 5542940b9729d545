"""RBAC rule matching, subjects, aggregation and the 403 wording (no server)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from apimachinery.rbacaggregation import aggregated_rules
from apiserver.auth import UserInfo
from apiserver.authorizer import (
    AlwaysAllow,
    Attributes,
    Decision,
    Privileged,
    forbidden,
    parse_modes,
)
from apiserver.kinds.rbac.bootstrappolicy import cluster_role_bindings, cluster_roles, node_rules
from apiserver.kinds.rbac.escalation import covers
from apiserver.kinds.rbac.rbacauthorizer import Policy, rule_allows, subject_matches

ALICE = UserInfo("alice", groups=("devs", "system:authenticated"))


def _res(verb: str, resource: str, *, group: str = "", sub: str = "", name: str = "",
         namespace: str = "dev") -> Attributes:
    return Attributes(ALICE, verb, namespace, group, "v1", resource, sub, name)


def _rule(**fields: Any) -> dict[str, Any]:
    return {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"], **fields}


@pytest.mark.parametrize(("rule", "attrs", "allowed"), [
    (_rule(), _res("get", "pods"), True),
    (_rule(), _res("list", "pods"), False),  # list is not get
    (_rule(verbs=["*"]), _res("deletecollection", "pods"), True),
    (_rule(), _res("get", "pods", group="apps"), False),
    (_rule(apiGroups=["*"]), _res("get", "pods", group="apps"), True),
    (_rule(), _res("get", "pods", sub="log"), False),  # a subresource is named on its own
    (_rule(resources=["pods/log"]), _res("get", "pods", sub="log"), True),
    (_rule(resources=["pods/log"]), _res("get", "pods"), False),
    (_rule(resources=["*/scale"], apiGroups=["apps"]),
     _res("get", "deployments", group="apps", sub="scale"), True),
    (_rule(resources=["*"]), _res("get", "secrets", sub="x"), True),
    (_rule(resourceNames=["web"]), _res("get", "pods", name="web"), True),
    (_rule(resourceNames=["web"]), _res("get", "pods", name="db"), False),
    (_rule(resourceNames=["web"], verbs=["list"]), _res("list", "pods"), False),
])
def test_rule_matching(rule: dict[str, Any], attrs: Attributes, allowed: bool) -> None:
    assert rule_allows(rule, attrs) is allowed


@pytest.mark.parametrize(("urls", "path", "allowed"), [
    (["/healthz"], "/healthz", True),
    (["/healthz"], "/healthz/etcd", False),
    (["/apis/*"], "/apis/apps/v1", True),
    (["/apis/*"], "/apis", False),
    (["*"], "/anything", True),
])
def test_non_resource_urls(urls: list[str], path: str, allowed: bool) -> None:
    rule = {"verbs": ["get"], "nonResourceURLs": urls}
    assert rule_allows(rule, Attributes(ALICE, "get", path=path)) is allowed
    assert not rule_allows(rule, Attributes(ALICE, "post", path=path))


def test_subjects() -> None:
    sa = UserInfo("system:serviceaccount:dev:ci")
    assert subject_matches({"kind": "User", "name": "alice"}, ALICE, "")
    assert subject_matches({"kind": "Group", "name": "devs"}, ALICE, "")
    assert not subject_matches({"kind": "Group", "name": "alice"}, ALICE, "")
    assert subject_matches({"kind": "ServiceAccount", "name": "ci"}, sa, "dev")
    assert subject_matches({"kind": "ServiceAccount", "name": "ci", "namespace": "dev"}, sa, "")
    assert not subject_matches({"kind": "ServiceAccount", "name": "ci"}, sa, "prod")


def _meta(name: str, namespace: str = "", **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": labels}
    if namespace:
        meta["namespace"] = namespace
    return meta


def test_policy_grants_rolebindings_only_in_their_namespace() -> None:
    role = {"metadata": _meta("reader", "dev"), "rules": [_rule()]}
    binding = {"metadata": _meta("b", "dev"), "roleRef": {"kind": "Role", "name": "reader"},
               "subjects": [{"kind": "User", "name": "alice"}]}
    ghost = {"metadata": _meta("g", "dev"), "roleRef": {"kind": "ClusterRole", "name": "nope"},
             "subjects": [{"kind": "Group", "name": "devs"}]}
    policy = Policy.of([], [role], [], [binding, ghost])
    missing: list[str] = []
    assert list(policy.rules_for(ALICE, "dev", missing)) == [_rule()]
    assert missing == ['clusterrole.rbac.authorization.k8s.io "nope" not found']
    assert list(policy.rules_for(ALICE, "prod")) == []
    assert list(policy.rules_for(ALICE, "")) == []


def test_aggregation_gathers_matching_roles_without_duplicates() -> None:
    target = {"metadata": _meta("agg"), "aggregationRule": {"clusterRoleSelectors": [
        {"matchLabels": {"x": "true"}}]}, "rules": []}
    one = {"metadata": _meta("b", x="true"), "rules": [_rule(), _rule(verbs=["list"])]}
    two = {"metadata": _meta("a", x="true"), "rules": [_rule()]}
    other = {"metadata": _meta("c", x="false"), "rules": [_rule(verbs=["delete"])]}
    assert aggregated_rules(target, [target, one, two, other]) == [_rule(),
                                                                   _rule(verbs=["list"])]
    assert aggregated_rules(one, [target, one]) is None


def test_bootstrap_roles_and_bindings_agree() -> None:
    roles = {r["metadata"]["name"] for r in cluster_roles()}
    for binding in cluster_role_bindings():
        assert binding["roleRef"]["name"] in roles
    by_name = {r["metadata"]["name"]: r for r in cluster_roles()}
    assert by_name["view"]["metadata"]["labels"][
        "rbac.authorization.k8s.io/aggregate-to-edit"] == "true"


def test_forbidden_messages() -> None:
    assert forbidden(_res("list", "pods", namespace="default")).message == (
        'pods is forbidden: User "alice" cannot list resource "pods" in API group "" '
        'in the namespace "default"')
    named = forbidden(_res("get", "deployments", group="apps", sub="scale", name="web",
                           namespace=""))
    assert named.message == ('deployments.apps "web" is forbidden: User "alice" cannot get '
                             'resource "deployments/scale" in API group "apps" at the '
                             'cluster scope')
    assert named.details == {"name": "web", "group": "apps", "kind": "deployments"}
    path = forbidden(Attributes(ALICE, "get", path="/metrics"), "RBAC: x")
    assert path.message == 'forbidden: User "alice" cannot get path "/metrics": RBAC: x'


def test_modes_and_superusers() -> None:
    assert parse_modes("RBAC") == ["RBAC"]
    assert parse_modes("AlwaysAllow,RBAC") == ["AlwaysAllow", "RBAC"]
    assert parse_modes("Node,RBAC") == ["Node", "RBAC"]
    for bad in ("", "Webhook", "RBAC,RBAC", "rbac"):
        with pytest.raises(ValueError, match="authorization-mode"):
            parse_modes(bad)

    class Never(AlwaysAllow):
        async def authorize(self, attrs: Attributes) -> Decision:
            return Decision(False)

    guarded = Privileged(Never())
    root = UserInfo("root", groups=("system:masters",))
    assert asyncio.run(guarded.authorize(Attributes(root, "delete", resource="nodes"))).allowed
    assert not asyncio.run(guarded.authorize(_res("get", "pods"))).allowed


@pytest.mark.parametrize(("owner", "servant", "covered"), [
    ([_rule(verbs=["get", "list"])], _rule(), True),
    ([_rule()], _rule(verbs=["get", "list"]), False),
    ([_rule(), _rule(verbs=["list"])], _rule(verbs=["get", "list"]), True),  # two rules
    ([_rule(verbs=["*"])], _rule(verbs=["*"]), True),
    ([_rule(verbs=["get", "list"])], _rule(verbs=["*"]), False),
    ([_rule(resources=["*"])], _rule(resources=["pods/log"]), True),
    ([_rule()], _rule(resources=["pods/log"]), False),
    ([_rule(resources=["*/log"])], _rule(resources=["pods/log"]), True),
    ([_rule(resourceNames=["web"])], _rule(), False),  # a named grant covers no wildcard
    ([_rule()], _rule(resourceNames=["web"]), True),
    ([_rule(resourceNames=["web"])], _rule(resourceNames=["web"]), True),
    ([{"verbs": ["get"], "nonResourceURLs": ["/apis/*"]}],
     {"verbs": ["get"], "nonResourceURLs": ["/apis/apps"]}, True),
    ([{"verbs": ["get"], "nonResourceURLs": ["/apis"]}],
     {"verbs": ["get"], "nonResourceURLs": ["/apis/*"]}, False),
])
def test_covers(owner: list[dict[str, Any]], servant: dict[str, Any], covered: bool) -> None:
    assert covers(owner, servant) is covered


def test_a_list_or_watch_of_one_name_is_about_that_object() -> None:
    from apimachinery.resources import resolve
    from apiserver.authorizer import resource_attributes
    from apiserver.requestinfo import RequestInfo

    pods = resolve("pods")
    watch = RequestInfo("watch", pods, "dev", None, None)
    assert resource_attributes(ALICE, watch, "metadata.name=web").name == "web"
    assert resource_attributes(ALICE, watch, "metadata.name==web").name == "web"
    assert resource_attributes(ALICE, watch, "metadata.name!=web").name == ""
    assert resource_attributes(ALICE, watch, "metadata.name=web,spec.nodeName=n").name == ""
    assert resource_attributes(ALICE, watch, "spec.nodeName=n").name == ""
    assert resource_attributes(ALICE, RequestInfo("create", pods, "dev", None, None),
                               "metadata.name=web").name == ""


def _bootstrap_allows(user: UserInfo, verb: str, resource: str, sub: str = "",
                      group: str = "") -> bool:
    policy = Policy.of(cluster_roles(), [], cluster_role_bindings(), [])
    attrs = Attributes(user, verb, "", group, "v1", resource, sub, "node1")
    return any(rule_allows(r, attrs) for r in policy.rules_for(user, ""))


def test_the_apiservers_kubelet_client_may_use_the_agents_api_and_no_more() -> None:
    """system:kubelet-api-admin, bound to kube-apiserver-kubelet-client as kubeadm binds it;
    and system:node may ask the reviews its agent's server relies on."""
    client = UserInfo("kube-apiserver-kubelet-client", groups=("system:authenticated",))
    for verb in ("get", "create"):
        for sub in ("proxy", "log", "stats", "metrics"):
            assert _bootstrap_allows(client, verb, "nodes", sub)
    assert _bootstrap_allows(client, "get", "nodes")
    assert not _bootstrap_allows(client, "update", "nodes")
    assert not _bootstrap_allows(client, "get", "pods")
    assert not _bootstrap_allows(client, "get", "secrets")
    # Nodes are judged by the Node authorizer against the system:node role's rules.
    node = UserInfo("system:node:node1", groups=("system:nodes", "system:authenticated"))

    def node_allows(verb: str, resource: str, sub: str = "", group: str = "") -> bool:
        attrs = Attributes(node, verb, "", group, "v1", resource, sub, "node1")
        return any(rule_allows(r, attrs) for r in node_rules())

    assert node_allows("create", "tokenreviews", group="authentication.k8s.io")
    assert node_allows("create", "subjectaccessreviews", group="authorization.k8s.io")
    assert not node_allows("get", "nodes", "proxy")
