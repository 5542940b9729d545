"""RBAC on a real apiserver (`--authorization-mode=RBAC`): bindings grant, 403s say why,
the bootstrap policy is there, and no one grants what they do not hold."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from apimachinery.kubeconfig import write_kubeconfig
from apimachinery.pki import TokenEntry, new_token
from cli.cluster.processes import Apiserver, Etcd, start_controller_manager, wait_for
from tests.integration.test_cli import SCHOONER

pytestmark = pytest.mark.integration

ALICE, BOB, MANAGER = new_token(), new_token(), new_token()
RBAC = "/apis/rbac.authorization.k8s.io/v1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apiserver]:
    """An apiserver on an etcd of its own: one on the session's would make the
    `default/kubernetes` Service its own (its port) under the session apiserver's tests."""
    etcd = Etcd(tmp_path_factory.mktemp("rbac-etcd")).start()
    apiserver = Apiserver(tmp_path_factory.mktemp("rbac"), etcd.url,
                          extra_args=["--authorization-mode", "RBAC"],
                          users=[TokenEntry(ALICE, "alice", "alice", ("devs",)),
                                 TokenEntry(BOB, "bob", "bob", ()),
                                 TokenEntry(MANAGER, "system:kube-controller-manager",
                                            "kcm", ())]).start()
    yield apiserver
    apiserver.stop()
    etcd.stop()


@pytest.fixture
def namespaces(server: Apiserver) -> Iterator[tuple[str, str]]:
    """Two fresh namespaces; alice holds `view` in the first only."""
    suffix = uuid.uuid4().hex[:6]
    names = (f"rbac-a-{suffix}", f"rbac-b-{suffix}")
    with server.http() as admin:
        for name in names:
            admin.post("/api/v1/namespaces", json={"metadata": {"name": name}}).raise_for_status()
        admin.post(f"{RBAC}/namespaces/{names[0]}/rolebindings", json={
            "metadata": {"name": "alice-view"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "view"},
            "subjects": [{"kind": "User", "name": "alice"}]}).raise_for_status()
        yield names
        for name in names:
            admin.delete(f"/api/v1/namespaces/{name}")


def _as(server: Apiserver, token: str) -> httpx.Client:
    return server.http(token)


def test_view_in_one_namespace_reads_there_only(server: Apiserver,
                                                namespaces: tuple[str, str]) -> None:
    mine, other = namespaces
    with _as(server, ALICE) as alice:
        assert alice.get(f"/api/v1/namespaces/{mine}/pods").status_code == 200
        assert alice.get(f"/api/v1/namespaces/{mine}/configmaps").status_code == 200
        assert alice.get(f"/api/v1/namespaces/{mine}/secrets").status_code == 403
        assert alice.get(f"/api/v1/namespaces/{mine}").status_code == 200  # her namespace
        assert alice.get(f"/api/v1/namespaces/{other}").status_code == 403
        assert alice.get("/api/v1/namespaces").status_code == 403
        refused = alice.get(f"/api/v1/namespaces/{other}/pods")
        assert refused.status_code == 403
        body = refused.json()
        assert body["reason"] == "Forbidden" and body["code"] == 403
        assert body["message"] == (
            f'pods is forbidden: User "alice" cannot list resource "pods" in API group "" '
            f'in the namespace "{other}"')
        assert body["details"] == {"kind": "pods"}
        write = alice.post(f"/api/v1/namespaces/{mine}/configmaps",
                           json={"metadata": {"name": "x"}})
        assert write.status_code == 403
        assert write.json()["message"].endswith(
            f'cannot create resource "configmaps" in API group "" in the namespace "{mine}"')


def test_forbidden_wording_for_named_cluster_and_subresource(server: Apiserver) -> None:
    with _as(server, BOB) as bob:
        named = bob.get("/apis/apps/v1/namespaces/default/deployments/web/scale").json()
        assert named["message"] == (
            'deployments.apps "web" is forbidden: User "bob" cannot get resource '
            '"deployments/scale" in API group "apps" in the namespace "default"')
        assert named["details"] == {"name": "web", "group": "apps", "kind": "deployments"}
        cluster = bob.get("/api/v1/nodes").json()
        assert cluster["message"] == ('nodes is forbidden: User "bob" cannot list resource '
                                      '"nodes" in API group "" at the cluster scope')
        watch = bob.get("/api/v1/pods", params={"watch": "true"}).json()
        assert 'cannot watch resource "pods"' in watch["message"]
        path = bob.get("/metrics")
        assert path.status_code == 403
        assert path.json()["message"] == 'forbidden: User "bob" cannot get path "/metrics"'


def test_discovery_is_open_to_every_authenticated_user(server: Apiserver) -> None:
    with _as(server, BOB) as bob:
        for path in ("/api", "/apis", "/api/v1", "/apis/apps/v1", "/openapi/v3", "/version"):
            assert bob.get(path).status_code == 200, path
    with _as(server, "") as anonymous:
        assert anonymous.get("/api").status_code == 401


def test_bootstrap_policy_exists(server: Apiserver) -> None:
    with server.http() as admin:
        roles = {r["metadata"]["name"]: r
                 for r in admin.get(f"{RBAC}/clusterroles").json()["items"]}
        bindings = {b["metadata"]["name"]: b
                    for b in admin.get(f"{RBAC}/clusterrolebindings").json()["items"]}
    for name in ("cluster-admin", "admin", "edit", "view", "system:discovery",
                 "system:basic-user", "system:kube-scheduler",
                 "system:kube-controller-manager", "system:node", "system:node-proxier",
                 "system:kubelet-api-admin"):
        assert roles[name]["metadata"]["annotations"][
            "rbac.authorization.kubernetes.io/autoupdate"] == "true"
    # view aggregates into edit, edit into admin
    view_rules = roles["view"]["rules"]
    assert view_rules and all(r in roles["edit"]["rules"] for r in view_rules)
    assert all(r in roles["admin"]["rules"] for r in roles["edit"]["rules"])
    assert bindings["cluster-admin"]["subjects"] == [
        {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:masters"}]
    assert not bindings["system:node"].get("subjects")  # the Node authorizer grants nodes
    assert bindings["kube-apiserver-kubelet-admin"]["subjects"] == [
        {"kind": "User", "apiGroup": "rbac.authorization.k8s.io",
         "name": "kube-apiserver-kubelet-client"}]


def test_a_missing_role_is_named_in_the_reason(server: Apiserver,
                                               namespaces: tuple[str, str]) -> None:
    mine, _ = namespaces
    with server.http() as admin:
        admin.post(f"{RBAC}/namespaces/{mine}/rolebindings", json={
            "metadata": {"name": "bob-ghost"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                        "name": "ghost"},
            "subjects": [{"kind": "User", "name": "bob"}]}).raise_for_status()
    with _as(server, BOB) as bob:
        message = bob.get(f"/api/v1/namespaces/{mine}/pods").json()["message"]
    assert message.endswith(': RBAC: role.rbac.authorization.k8s.io "ghost" not found')


def test_invalid_rbac_objects_are_422(server: Apiserver) -> None:
    with server.http() as admin:
        bad = admin.post(f"{RBAC}/namespaces/default/roles", json={
            "metadata": {"name": "bad"},
            "rules": [{"verbs": [], "nonResourceURLs": ["/x"]}]})
        assert bad.status_code == 422
        causes = {c["field"] for c in bad.json()["details"]["causes"]}
        assert causes == {"rules[0].verbs", "rules[0].nonResourceURLs"}
        binding = admin.post(f"{RBAC}/clusterrolebindings", json={
            "metadata": {"name": f"bad-{uuid.uuid4().hex[:6]}"},
            "roleRef": {"kind": "Role", "name": "x"},
            "subjects": [{"kind": "ServiceAccount", "name": "ci"}]})
        assert binding.status_code == 422
        causes = {c["field"] for c in binding.json()["details"]["causes"]}
        assert causes == {"roleRef.kind", "subjects[0].namespace"}



def _bind(admin: httpx.Client, namespace: str, role: str, user: str) -> None:
    admin.post(f"{RBAC}/namespaces/{namespace}/rolebindings", json={
        "metadata": {"name": f"{user}-{role}"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": role},
        "subjects": [{"kind": "User", "name": user}]}).raise_for_status()


def test_no_one_grants_what_they_do_not_hold(server: Apiserver,
                                             namespaces: tuple[str, str]) -> None:
    _, theirs = namespaces
    with server.http() as admin:
        _bind(admin, theirs, "admin", "bob")
    roles = f"{RBAC}/namespaces/{theirs}/roles"
    bindings = f"{RBAC}/namespaces/{theirs}/rolebindings"
    with _as(server, BOB) as bob:
        held = bob.post(roles, json={"metadata": {"name": "pod-reader"}, "rules": [
            {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}]})
        assert held.status_code == 201, held.text
        more = bob.post(roles, json={"metadata": {"name": "node-reader"}, "rules": [
            {"verbs": ["get"], "apiGroups": [""], "resources": ["nodes"]},
            {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]})
        assert more.status_code == 403
        assert more.json()["message"] == (
            'roles.rbac.authorization.k8s.io "node-reader" is forbidden: user "bob" '
            '(groups=["system:authenticated"]) is attempting to grant RBAC permissions not '
            'currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}')
        view = bob.post(bindings, json={
            "metadata": {"name": "alice-view"}, "subjects": [{"kind": "User", "name": "alice"}],
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "view"}})
        assert view.status_code == 201, view.text
        root = bob.post(bindings, json={
            "metadata": {"name": "alice-root"}, "subjects": [{"kind": "User", "name": "alice"}],
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "cluster-admin"}})
        assert root.status_code == 403
        assert root.json()["message"].startswith(
            'rolebindings.rbac.authorization.k8s.io "alice-root" is forbidden: user "bob" '
            '(groups=["system:authenticated"]) is attempting to grant RBAC permissions not '
            'currently held:\n{APIGroups:["*"], Resources:["*"], Verbs:["*"]}')
    with server.http() as admin:  # `bind` on the role lets bob grant it after all
        admin.post(f"{RBAC}/clusterroles", json={
            "metadata": {"name": f"bind-admin-{theirs}"}, "rules": [
                {"verbs": ["bind"], "apiGroups": ["rbac.authorization.k8s.io"],
                 "resources": ["clusterroles"], "resourceNames": ["cluster-admin"]}]}
                   ).raise_for_status()
        _bind(admin, theirs, f"bind-admin-{theirs}", "bob")
    with _as(server, BOB) as bob:
        again = bob.post(bindings, json={
            "metadata": {"name": "alice-root"}, "subjects": [{"kind": "User", "name": "alice"}],
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "cluster-admin"}})
        assert again.status_code == 201, again.text
    with server.http() as admin:
        admin.delete(f"{RBAC}/clusterroles/bind-admin-{theirs}")


def test_schooner_auth_can_i(server: Apiserver, namespaces: tuple[str, str],
                             tmp_path: Path) -> None:
    mine, other = namespaces
    config = tmp_path / "alice.kubeconfig"
    write_kubeconfig(str(config), server.url, server.ca_pem, ALICE, user="alice")

    def can_i(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([SCHOONER, "--kubeconfig", str(config), "auth", "can-i", *args],
                              capture_output=True, text=True, timeout=60)

    yes = can_i("list", "pods", "-n", mine)
    assert (yes.returncode, yes.stdout, yes.stderr) == (0, "yes\n", "")
    no = can_i("list", "pods", "-n", other)
    assert (no.returncode, no.stdout) == (1, "no\n")
    assert can_i("get", "/metrics").stdout == "no\n"
    listed = can_i("--list", "-n", mine)
    assert listed.returncode == 0
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert rows[0] == ["Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"]
    assert ["pods", "[]", "[]", "[get", "list", "watch]"] in rows
    assert ["deployments.apps", "[]", "[]", "[get", "list", "watch]"] in rows
    bad = can_i("list", "widgets", "-n", mine)
    assert bad.returncode == 1 and bad.stderr.startswith("error: ")
    assert "Traceback" not in bad.stderr


def test_the_controller_manager_aggregates_on_its_bootstrap_role(server: Apiserver,
                                                                 tmp_path: Path) -> None:
    """As system:kube-controller-manager (no system:masters): a ClusterRole labelled
    aggregate-to-view reaches view, and through it edit and admin."""
    config = tmp_path / "kcm.kubeconfig"
    write_kubeconfig(str(config), server.url, server.ca_pem, MANAGER,
                     user="system:kube-controller-manager")
    name = f"widgets-{uuid.uuid4().hex[:6]}"
    rule = {"verbs": ["get"], "apiGroups": ["example.com"], "resources": [name]}
    manager = start_controller_manager(config, tmp_path / "kcm.log",
                                       "--controllers", "clusterrole-aggregation")
    try:
        with server.http() as admin:
            admin.post(f"{RBAC}/clusterroles", json={"metadata": {"name": name, "labels": {
                "rbac.authorization.k8s.io/aggregate-to-view": "true"}}, "rules": [rule]}
                       ).raise_for_status()

            def aggregated() -> bool:
                return all(rule in admin.get(f"{RBAC}/clusterroles/{role}").json()["rules"]
                           for role in ("view", "edit", "admin"))
            wait_for(aggregated, 20, f"{name} aggregated\n{manager.log_tail()}")
            admin.delete(f"{RBAC}/clusterroles/{name}")
            wait_for(lambda: rule not in admin.get(f"{RBAC}/clusterroles/view").json()["rules"],
                     20, f"{name} gone from view\n{manager.log_tail()}")
        assert "forbidden" not in (tmp_path / "kcm.log").read_text().lower()
    finally:
        manager.stop()


def _audited(server: Apiserver, namespace: str, want: int) -> list[dict]:
    """The audit events of configmap writes in `namespace` once there are `want` (the
    audit writer is a thread of its own)."""
    deadline = time.monotonic() + 5
    while True:
        lines = server.audit_log.read_bytes().splitlines() if server.audit_log.exists() else []
        found = [e for e in map(orjson.loads, lines)
                 if (e.get("objectRef") or {}).get("resource") == "configmaps"
                 and e["objectRef"].get("namespace") == namespace]
        if len(found) >= want or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_the_audit_log_records_refusals_and_the_decision(
        server: Apiserver, namespaces: tuple[str, str]) -> None:
    ns = namespaces[0]
    with _as(server, ALICE) as alice:  # view only: a write is refused
        refused = alice.post(f"/api/v1/namespaces/{ns}/configmaps",
                             json={"metadata": {"name": "by-alice"}})
        assert refused.status_code == 403, refused.text
    with server.http() as admin:
        admin.post(f"/api/v1/namespaces/{ns}/configmaps",
                   json={"metadata": {"name": "by-admin"}}).raise_for_status()
    found = _audited(server, ns, 2)
    assert [(e["user"]["username"], e["responseStatus"]["code"],
             e["annotations"]["authorization.k8s.io/decision"]) for e in found] == [
        ("alice", 403, "forbid"), ("admin", 201, "allow")]
    assert found[0]["responseStatus"]["reason"] == "Forbidden"
