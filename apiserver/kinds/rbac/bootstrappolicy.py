"""The bootstrap RBAC policy, reconciled at every apiserver start.

Kubernetes' `rbac/bootstrap-roles` post-start hook: the default ClusterRoles
and ClusterRoleBindings (plugin/pkg/auth/authorizer/rbac/bootstrappolicy),
labelled `kubernetes.io/bootstrapping: rbac-defaults` and annotated
`rbac.authorization.kubernetes.io/autoupdate: "true"`. A missing object is
created; an existing one whose autoupdate annotation is not "false" gets the
rules or subjects it lacks added (what a user added stays).

Where Schooner departs from Kubernetes, and why:
- `system:kube-controller-manager` is one broad role for the controller-manager's
  own user: Kubernetes gives each controller a service account of its own, and
  the garbage collector and namespace controller there already hold `*` on `*`.
- `system:node` holds Kubernetes' node rules less those the Node authorizer decides
  per object (Secrets, ConfigMaps, ServiceAccounts, node Leases), so binding it to
  someone never opens every Secret. As in Kubernetes its binding has no subjects:
  nodes get their rights from the Node authorizer (apiserver/nodeauthz/). Schooner
  once bound it to the group `system:nodes`; reconciling takes that subject away.
- The bindings kubeadm makes when it sets up a cluster for joining hosts are
  made here, under kubeadm's names (`kubeadm:kubelet-bootstrap`,
  `kubeadm:node-autoapprove-bootstrap`, `kubeadm:node-autoapprove-certificate-rotation`,
  and in `kube-public` the Role and RoleBinding `kubeadm:bootstrap-signer-clusterinfo`
  that let `system:anonymous` read the `cluster-info` ConfigMap and nothing else):
  every Schooner cluster can take joining hosts (`schooner join`). A joined host's
  proxy calls as its node, so `system:node-proxier` is bound to `system:nodes` too
  (kubeadm runs kube-proxy as a DaemonSet with a ServiceAccount of its own).
"""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import Any

from apimachinery import errors
from apimachinery.meta import Object, metadata
from apimachinery.rbacaggregation import aggregated_rules
from apimachinery.usercert import KUBELET_CLIENT_USER
from apiserver.config import ServerConfig
from apiserver.registry import Registry

from .rbacauthorizer import CLUSTER_ROLE_BINDINGS, CLUSTER_ROLES, GROUP, ROLE_BINDINGS, ROLES

log = logging.getLogger("apiserver")

AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"
BOOTSTRAPPING = {"kubernetes.io/bootstrapping": "rbac-defaults"}
READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]
READ_WRITE = READ + WRITE
EVENTS = [{"verbs": ["create", "patch", "update"], "apiGroups": ["", "events.k8s.io"],
           "resources": ["events"]}]
AGGREGATE = "rbac.authorization.k8s.io/aggregate-to-"
KUBELET_API_ADMIN_BINDING = "kube-apiserver-kubelet-admin"


def _rule(verbs: list[str], groups: list[str], resources: list[str],
          names: list[str] | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"verbs": verbs, "apiGroups": groups, "resources": resources}
    if names:
        rule["resourceNames"] = names
    return rule


def _urls(verbs: list[str], urls: list[str]) -> dict[str, Any]:
    return {"verbs": verbs, "nonResourceURLs": urls}


def _role(name: str, rules: list[dict[str, Any]], *, labels: dict[str, str] | None = None,
          aggregate_from: str | None = None) -> Object:
    role: Object = {"metadata": {"name": name, "labels": {**BOOTSTRAPPING, **(labels or {})},
                                 "annotations": {AUTOUPDATE: "true"}},
                    "rules": rules}
    if aggregate_from:
        role["aggregationRule"] = {"clusterRoleSelectors": [
            {"matchLabels": {f"{AGGREGATE}{aggregate_from}": "true"}}]}
    return role


def _binding(name: str, *subjects: tuple[str, str], role: str | None = None) -> Object:
    return {"metadata": {"name": name, "labels": dict(BOOTSTRAPPING),
                         "annotations": {AUTOUPDATE: "true"}},
            "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": role or name},
            "subjects": [{"kind": kind, "apiGroup": GROUP, "name": who}
                         for kind, who in subjects]}


def _view_rules() -> list[dict[str, Any]]:
    return [
        _rule(READ, [""], ["pods", "replicationcontrollers", "replicationcontrollers/scale",
                           "serviceaccounts", "services", "services/status", "endpoints",
                           "persistentvolumeclaims", "persistentvolumeclaims/status",
                           "configmaps", "replicationcontrollers/status", "pods/log",
                           "pods/status", "resourcequotas", "resourcequotas/status", "events",
                           "limitranges", "bindings", "namespaces/status"]),
        _rule(READ, [""], ["namespaces"]),
        _rule(READ, ["discovery.k8s.io"], ["endpointslices"]),
        _rule(READ, ["apps"], ["controllerrevisions", "daemonsets", "daemonsets/status",
                               "deployments", "deployments/scale", "deployments/status",
                               "replicasets", "replicasets/scale", "replicasets/status",
                               "statefulsets", "statefulsets/scale", "statefulsets/status"]),
        _rule(READ, ["autoscaling"], ["horizontalpodautoscalers",
                                      "horizontalpodautoscalers/status"]),
        _rule(READ, ["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
        _rule(READ, ["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
        _rule(READ, ["networking.k8s.io"], ["ingresses", "ingresses/status",
                                            "networkpolicies"]),
    ]


def _edit_rules() -> list[dict[str, Any]]:
    return [
        _rule(["impersonate"], [""], ["serviceaccounts"]),
        _rule(WRITE, [""], ["pods", "pods/attach", "pods/proxy", "pods/exec",
                            "pods/portforward"]),
        _rule(["create"], [""], ["pods/eviction"]),
        _rule(WRITE, [""], ["replicationcontrollers", "replicationcontrollers/scale",
                            "serviceaccounts", "services", "services/proxy",
                            "persistentvolumeclaims", "configmaps", "secrets", "events"]),
        _rule(["create"], [""], ["serviceaccounts/token"]),
        _rule(WRITE, ["apps"], ["daemonsets", "deployments", "deployments/rollback",
                                "deployments/scale", "replicasets", "replicasets/scale",
                                "statefulsets", "statefulsets/scale"]),
        _rule(WRITE, ["autoscaling"], ["horizontalpodautoscalers"]),
        _rule(WRITE, ["batch"], ["cronjobs", "jobs"]),
        _rule(WRITE, ["policy"], ["poddisruptionbudgets"]),
        _rule(WRITE, ["networking.k8s.io"], ["ingresses", "networkpolicies"]),
        _rule(READ_WRITE, ["coordination.k8s.io"], ["leases"]),
        _rule(READ, [""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy",
                           "secrets", "services/proxy"]),
    ]


def _admin_rules() -> list[dict[str, Any]]:
    return [
        _rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
        _rule(READ_WRITE, [GROUP], ["rolebindings", "roles"]),
    ]


def _scheduler_rules() -> list[dict[str, Any]]:
    return [
        *EVENTS,
        _rule(["create"], ["coordination.k8s.io"], ["leases"]),
        _rule(["get", "update"], ["coordination.k8s.io"], ["leases"], ["kube-scheduler"]),
        _rule(READ, [""], ["nodes"]),
        _rule(["get", "list", "watch", "delete"], [""], ["pods"]),
        _rule(["create"], [""], ["pods/binding", "bindings"]),
        _rule(["patch", "update"], [""], ["pods/status"]),
        _rule(READ, [""], ["services", "replicationcontrollers"]),
        _rule(READ, ["apps"], ["replicasets", "statefulsets"]),
        _rule(READ, ["policy"], ["poddisruptionbudgets"]),
        _rule(READ, [""], ["persistentvolumeclaims", "persistentvolumes", "namespaces"]),
        _rule(READ, ["scheduling.k8s.io"], ["priorityclasses"]),
        _rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
        _rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
    ]


def _controller_manager_rules() -> list[dict[str, Any]]:
    """One role for every controller (see the module docstring): all the usual verbs on
    everything, and `escalate` on ClusterRoles for the aggregation controller."""
    return [
        _rule(READ_WRITE, ["*"], ["*"]),
        _rule(["escalate"], [GROUP], ["clusterroles"]),
        # csrapproving and csrsigning (controllers/certificates/)
        _rule(["approve", "sign"], [CSR_GROUP], ["signers"], [
            "kubernetes.io/kube-apiserver-client-kubelet", "kubernetes.io/kubelet-serving"]),
        _rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
        _rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
    ]


def node_rules() -> list[dict[str, Any]]:
    """Kubernetes' NodeRules() (the `system:node` ClusterRole), less what the Node
    authorizer decides per object (apiserver/nodeauthz/authorizer.py): Secrets,
    ConfigMaps, ServiceAccounts and their tokens, node Leases. The Node authorizer
    grants these rules to every node; NodeRestriction admission then keeps each node's
    writes to its own Node, its own pods and their status."""
    return [
        _rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
        _rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews",
                                                     "localsubjectaccessreviews"]),
        _rule(READ, [""], ["services"]),
        _rule(["create", "get", "list", "watch"], [""], ["nodes"]),
        _rule(["update", "patch"], [""], ["nodes/status"]),
        _rule(["update", "patch"], [""], ["nodes"]),
        _rule(["create", "update", "patch"], [""], ["events"]),
        _rule(READ, [""], ["pods"]),
        _rule(["create", "delete"], [""], ["pods"]),
        _rule(["update", "patch"], [""], ["pods/status"]),
        _rule(["create"], [""], ["pods/eviction"]),
        _rule(["get"], [""], ["endpoints"]),
        _rule(["create", "get", "list", "watch"], [CSR_GROUP], [CSRS]),
    ]


CSR_GROUP = "certificates.k8s.io"
CSRS = "certificatesigningrequests"
NODE_CLIENT_ROLE = "system:certificates.k8s.io:certificatesigningrequests:nodeclient"
SELF_NODE_CLIENT_ROLE = "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"
# kubeadm's group for the tokens it makes (`auth-extra-groups` of a bootstrap token).
KUBEADM_TOKEN_GROUP = "system:bootstrappers:kubeadm:default-node-token"
CLUSTER_INFO_ROLE = "kubeadm:bootstrap-signer-clusterinfo"


def _certificate_roles() -> list[Object]:
    """Kubernetes' roles for CertificateSigningRequests: who may ask, and which signers
    an approver may approve for."""
    return [
        _role("system:node-bootstrapper", [
            _rule(["create", "get", "list", "watch"], [CSR_GROUP], [CSRS])]),
        _role(NODE_CLIENT_ROLE, [_rule(["create"], [CSR_GROUP], [f"{CSRS}/nodeclient"])]),
        _role(SELF_NODE_CLIENT_ROLE, [
            _rule(["create"], [CSR_GROUP], [f"{CSRS}/selfnodeclient"])]),
        *(_role(f"system:certificates.k8s.io:{signer.partition('/')[2]}-approver", [
            _rule(["approve"], [CSR_GROUP], ["signers"], [signer])])
          for signer in ("kubernetes.io/kube-apiserver-client",
                         "kubernetes.io/kube-apiserver-client-kubelet",
                         "kubernetes.io/kubelet-serving", "kubernetes.io/legacy-unknown")),
    ]


def cluster_roles() -> list[Object]:
    """Kubernetes' default ClusterRoles that Schooner's API has use for."""
    discovery_urls = ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
                      "/openapi/*", "/readyz", "/version", "/version/"]
    return [
        _role("cluster-admin", [_rule(["*"], ["*"], ["*"]), _urls(["*"], ["*"])]),
        _role("system:discovery", [_urls(["get"], discovery_urls)]),
        _role("system:basic-user", [
            _rule(["create"], ["authorization.k8s.io"],
                  ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            _rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"])]),
        _role("system:public-info-viewer", [_urls(["get"], [
            "/healthz", "/livez", "/readyz", "/version", "/version/"])]),
        _role("admin", [], aggregate_from="admin"),
        _role("edit", [], labels={f"{AGGREGATE}admin": "true"}, aggregate_from="edit"),
        _role("view", [], labels={f"{AGGREGATE}edit": "true"}, aggregate_from="view"),
        _role("system:aggregate-to-admin", _admin_rules(),
              labels={f"{AGGREGATE}admin": "true"}),
        _role("system:aggregate-to-edit", _edit_rules(), labels={f"{AGGREGATE}edit": "true"}),
        _role("system:aggregate-to-view", _view_rules(), labels={f"{AGGREGATE}view": "true"}),
        _role("system:kube-scheduler", _scheduler_rules()),
        _role("system:kube-controller-manager", _controller_manager_rules()),
        _role("system:node", node_rules()),
        _role("system:node-proxier", [
            _rule(["list", "watch"], [""], ["services", "endpoints"]),
            _rule(READ, [""], ["nodes"]),
            *EVENTS,
            _rule(["list", "watch"], ["discovery.k8s.io"], ["endpointslices"])]),
        # Full access to the agents' API (Kubernetes' role, without its feature-gated
        # nodes/configz, nodes/healthz and nodes/pods): what the apiserver's own client
        # certificate needs to relay logs and exec.
        _role("system:kubelet-api-admin", [
            _rule(READ, [""], ["nodes"]),
            _rule(["proxy"], [""], ["nodes"]),
            _rule(["*"], [""], ["nodes/proxy", "nodes/metrics", "nodes/stats", "nodes/log"])]),
        _role("system:monitoring", [_urls(["get"], [
            "/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics", "/readyz",
            "/readyz/*"])]),
        *_certificate_roles(),
    ]


def cluster_role_bindings() -> list[Object]:
    """Who holds the default roles: Kubernetes' subjects."""
    authenticated = ("Group", "system:authenticated")
    return [
        _binding("cluster-admin", ("Group", "system:masters")),
        _binding("system:discovery", authenticated),
        _binding("system:basic-user", authenticated),
        _binding("system:public-info-viewer", authenticated,
                 ("Group", "system:unauthenticated")),
        _binding("system:kube-scheduler", ("User", "system:kube-scheduler")),
        _binding("system:kube-controller-manager", ("User", "system:kube-controller-manager")),
        _binding("system:node"),  # no subjects, as Kubernetes: the Node authorizer grants
        # a joined host's proxy calls as its node (cli/join/services.py)
        _binding("system:node-proxier", ("User", "system:kube-proxy"),
                 ("Group", "system:nodes")),
        _binding("system:monitoring", ("Group", "system:monitoring")),
        # kubeadm binds the apiserver's kubelet client certificate's user so (the name
        # k3s gives the binding): the agents authorize the apiserver by it.
        _binding(KUBELET_API_ADMIN_BINDING, ("User", KUBELET_CLIENT_USER),
                 role="system:kubelet-api-admin"),
        _binding("kubeadm:kubelet-bootstrap", ("Group", KUBEADM_TOKEN_GROUP),
                 role="system:node-bootstrapper"),
        _binding("kubeadm:node-autoapprove-bootstrap", ("Group", KUBEADM_TOKEN_GROUP),
                 role=NODE_CLIENT_ROLE),
        _binding("kubeadm:node-autoapprove-certificate-rotation", ("Group", "system:nodes"),
                 role=SELF_NODE_CLIENT_ROLE),
    ]


def cluster_info_policy() -> tuple[Object, Object]:
    """kubeadm's Role and RoleBinding in kube-public: system:anonymous may get the
    `cluster-info` ConfigMap, which a joining host reads before it has credentials."""
    meta = {"name": CLUSTER_INFO_ROLE, "namespace": "kube-public",
            "labels": dict(BOOTSTRAPPING), "annotations": {AUTOUPDATE: "true"}}
    role = {"metadata": dict(meta), "rules": [
        _rule(["get"], [""], ["configmaps"], ["cluster-info"])]}
    binding = {"metadata": dict(meta),
               "roleRef": {"apiGroup": GROUP, "kind": "Role", "name": CLUSTER_INFO_ROLE},
               "subjects": [{"kind": "User", "apiGroup": GROUP, "name": "system:anonymous"}]}
    return role, binding


async def reconcile_cluster_info(registry: Registry, config: ServerConfig) -> None:
    """Create or complete the cluster-info Role and RoleBinding (the Role kind's
    bootstrap: namespaced kinds start after kube-public exists)."""
    role, binding = cluster_info_policy()
    await _ensure(registry, ROLES, role, "rules", namespace="kube-public")
    await _ensure(registry, ROLE_BINDINGS, binding, "subjects", namespace="kube-public")


async def reconcile(registry: Registry, config: ServerConfig) -> None:
    """Create or complete the bootstrap roles and bindings (concurrent apiservers may race:
    the loser of a create or an update simply finds the work done on its next start)."""
    roles = cluster_roles()
    existing = {r["metadata"]["name"]: r for r in
                (await registry.list(CLUSTER_ROLES, None)).items}
    everything = {**existing, **{r["metadata"]["name"]: _merged(r, existing.get(
        r["metadata"]["name"]), "rules") for r in roles}}
    for _ in range(3):  # view aggregates into edit, edit into admin: a fixpoint in 3 passes
        for name, role in everything.items():
            aggregated = aggregated_rules(role, everything.values())
            if aggregated is not None:
                everything[name] = {**role, "rules": aggregated}
    for role in roles:
        if role.get("aggregationRule"):
            role["rules"] = everything[role["metadata"]["name"]]["rules"]
        await _ensure(registry, CLUSTER_ROLES, role, "rules")
    for binding in cluster_role_bindings():
        await _ensure(registry, CLUSTER_ROLE_BINDINGS, binding, "subjects")


# What an earlier Schooner's bootstrap policy held and this one does not: reconciling takes
# it out of the bootstrap object (unless its autoupdate annotation is "false"). The
# system:nodes group's binding to system:node, and that role's rules the Node authorizer
# now decides per object.
RETIRED: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("subjects", "system:node"): [{"kind": "Group", "apiGroup": GROUP, "name": "system:nodes"}],
    ("rules", "system:node"): [
        _rule(READ, [""], ["secrets", "configmaps"]),
        _rule(["get"], [""], ["persistentvolumeclaims", "persistentvolumes"]),
        _rule(["get", "create", "update", "patch", "delete"], ["coordination.k8s.io"],
              ["leases"]),
        _rule(["create"], [""], ["serviceaccounts/token"])],
}


def _merged(wanted: Object, current: Object | None, key: str) -> Object:
    """`wanted` with what `current` holds beyond it kept (rules or subjects a user added),
    less what an earlier bootstrap policy held and this one retired."""
    if current is None:
        return wanted
    retired = RETIRED.get((key, metadata(wanted)["name"]), [])
    items = [i for i in current.get(key) or [] if i not in retired]
    items += [i for i in wanted.get(key) or [] if i not in items]
    return {**current, key: items}


async def _ensure(registry: Registry, resource: Any, wanted: Object, key: str,
                  namespace: str | None = None) -> None:
    name = wanted["metadata"]["name"]
    try:
        current = await registry.get(resource, namespace, name)
    except errors.NotFound:
        with suppress(errors.AlreadyExists):
            await registry.create(resource, namespace, wanted)
            log.info("component=apiserver created bootstrap %s %s", resource.kind, name)
        return
    if (metadata(current).get("annotations") or {}).get(AUTOUPDATE) == "false":
        return
    merged = _merged(wanted, current, key)
    if merged.get(key) != current.get(key):
        with suppress(errors.Conflict):
            await registry.update(resource, namespace, name, merged)
            log.info("component=apiserver updated bootstrap %s %s", resource.kind, name)
